"""What waits for a person on the Shopify side: webhooks that could not be handled, and retrying them.

The inbox (operations/sync/inbox.py) keeps a webhook it could not take in as an `exception` (bad
input: an unknown variant, an unmapped location — retried only when a person says so, after fixing the
cause) or `parked` (kept failing for a passing reason). The owner lists them with `webhookExceptions`
and puts them back with `retryWebhooks`; named rows are checked first, so a wrong id is a typed error
and nothing is retried, rather than a silent partial retry.
"""

from dataclasses import dataclass
from datetime import datetime

from tortoise import Tortoise

from operations.kernel.access import Actor, Permission, require
from operations.kernel.errors import ErrorCode, OperationError, Problem
from operations.kernel.sql import fetch, read_time
from operations.sync import inbox as shopify_inbox

MAX_ROWS = 100
STUCK = ("exception", "parked")


@dataclass(frozen=True)
class StuckWebhook:
    id: int
    topic: str
    webhook_id: str
    status: str
    error_code: str | None
    message: str | None
    attempts: int
    retryable: bool  # false when the body could not be read: there is nothing to hand to a handler
    received_at: datetime
    processed_at: datetime | None


async def stuck_webhooks(actor: Actor, first: int = 20) -> list[StuckWebhook]:
    """Exceptions and parked webhooks, the longest waiting first."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    first = max(0, min(first, MAX_ROWS))
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, topic, webhook_id, status, error_code, last_error, attempts, received_at, processed_at,"
        " CASE WHEN payload IS NULL THEN 0 ELSE 1 END AS readable"
        " FROM webhook_inbox WHERE status IN ('exception', 'parked') ORDER BY id LIMIT ?",
        [first],
    )
    return [
        StuckWebhook(
            id=r["id"],
            topic=r["topic"],
            webhook_id=r["webhook_id"],
            status=r["status"],
            error_code=r["error_code"],
            message=r["last_error"],
            attempts=r["attempts"],
            retryable=bool(r["readable"]),
            received_at=read_time(r["received_at"]),
            processed_at=read_time(r["processed_at"]),
        )
        for r in rows
    ]


async def retry_stuck_webhooks(actor: Actor, ids: list[int] | None = None) -> int:
    """Put these webhooks (or, with None, every exception and parked one) back in the queue.

    Every named row must exist, be an exception or parked, and have a readable body; otherwise
    nothing is retried. A row another owner retried in the meantime is simply not counted."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    if ids is not None:
        await _check(ids)
    return await shopify_inbox.retry_webhooks(actor, sorted(set(ids)) if ids is not None else None)


async def _check(ids: list[int]) -> None:
    if not ids:
        raise OperationError.single(ErrorCode.INVALID, "name at least one webhook, or leave ids out for all", "ids")
    if len(ids) > MAX_ROWS:
        raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_ROWS} webhooks at once", "ids")
    wanted = sorted(set(ids))
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, topic, status, CASE WHEN payload IS NULL THEN 0 ELSE 1 END AS readable FROM webhook_inbox"
        f" WHERE id IN ({', '.join('?' for _ in wanted)})",
        wanted,
    )
    found = {r["id"]: r for r in rows}
    problems = []
    for i, pk in enumerate(ids):
        row = found.get(pk)
        field = f"ids.{i}"
        if row is None:
            problems.append(Problem(ErrorCode.NOT_FOUND, "no such webhook", field))
        elif row["status"] not in STUCK:
            problems.append(
                Problem(ErrorCode.WRONG_STATE, f"the {row['topic']} webhook is {row['status']}, not waiting", field)
            )
        elif not row["readable"]:
            problems.append(
                Problem(ErrorCode.WRONG_STATE, f"the {row['topic']} webhook's body could not be read", field)
            )
    if problems:
        raise OperationError(problems)
