"""What waits for a person on the Shopify side: webhooks that could not be handled, stock changes and order
actions that were parked, and retrying them.

The inbox (operations/sync/inbox.py) keeps a webhook it could not take in as an `exception` (bad
input: an unknown variant, an unmapped location — retried only when a person says so, after fixing the
cause) or `parked` (kept failing for a passing reason). The owner lists them with `webhookExceptions`
and puts them back with `retryWebhooks`; named rows are checked first, so a wrong id is a typed error
and nothing is retried, rather than a silent partial retry. `retryParkedSync` puts the parked stock
changes (operations/sync/push.py), order actions (operations/sync/order_actions.py), catalog edits and
customers for Shopify (operations/sync/shop_writes.py) back in their queues.

A retry answers a repeated request (the same idempotency key) with what the first one did: it writes one
audit entry saying how many rows it put back, and that entry is the result the key keeps.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import Tortoise

from models.staff import AuditEntry
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    Transaction,
    fetch,
    read_time,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.orders import ORDER_ACTION_TOPIC
from operations.sync import inbox as shopify_inbox
from operations.sync import push as shopify_push
from operations.sync.push_claim import TOPIC as PUSH_TOPIC

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


async def stuck_webhooks(actor: Actor, limit: int = 20, after_id: int | None = None) -> list[StuckWebhook]:
    """Exceptions and parked webhooks, the longest waiting first (after the row `after_id`: a page's cursor)."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    limit = max(0, min(limit, MAX_ROWS + 1))  # a page of MAX_ROWS and one more: is there a next page?
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, topic, webhook_id, status, error_code, last_error, attempts, received_at, processed_at,"
        " CASE WHEN payload IS NULL THEN 0 ELSE 1 END AS readable"
        " FROM webhook_inbox WHERE status IN ('exception', 'parked') AND id > ? ORDER BY id LIMIT ?",
        [after_id or 0, limit],
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


async def retry_stuck_webhooks(
    actor: Actor, ids: list[int] | None = None, idempotency_key: str | None = None
) -> tuple[int, bool]:
    """Put these webhooks (or, with None, every exception and parked one) back in the queue; (how many,
    replayed).

    Every named row must exist, be an exception or parked, and have a readable body; otherwise
    nothing is retried. A row another owner retried in the meantime is simply not counted."""
    require(actor, Permission.MANAGE_INTEGRATIONS)

    async def retry() -> AuditEntry:
        if ids is not None:
            await _check(tx, ids)
        rows = await shopify_inbox.requeue_stuck(tx, sorted(set(ids)) if ids is not None else None)
        if rows:  # syncStatus subscribers hear of it at once
            event = {"at": datetime.now(UTC).isoformat(), "webhooks": len(rows)}
            tx.publish_after_commit(shopify_push.SYNC_CHANNEL, event)
        return await record_audit(actor, "shopify.webhooks_retried", rows=len(rows))

    async with transaction() as tx:
        entry, replayed = await run_once(tx, "retryWebhooks", idempotency_key, {"ids": ids}, retry, _entry)
    return entry.detail["rows"], replayed


@dataclass(frozen=True)
class RetriedParked:
    stock_changes: int
    order_actions: int
    catalog_edits: int = 0
    customers: int = 0


async def retry_parked(actor: Actor, idempotency_key: str | None = None) -> tuple[RetriedParked, bool]:
    """Every parked stock change, order action, catalog edit and customer for Shopify back in its queue, due
    now; (how many, replayed)."""
    require(actor, Permission.MANAGE_INTEGRATIONS)

    async def retry() -> AuditEntry:
        counts = {
            "stock_changes": await shopify_push.requeue_parked(tx, PUSH_TOPIC),
            "order_actions": await shopify_push.requeue_parked(tx, ORDER_ACTION_TOPIC),
            "catalog_edits": await shopify_push.requeue_parked(tx, CATALOG_EDIT_TOPIC),
            "customers": await shopify_push.requeue_parked(tx, CUSTOMER_CREATE_TOPIC),
        }
        return await record_audit(actor, "shopify.sync_retried", **counts)

    async with transaction() as tx:
        entry, replayed = await run_once(tx, "retryParkedSync", idempotency_key, {}, retry, _entry)
    d = entry.detail
    return (
        RetriedParked(d["stock_changes"], d["order_actions"], d.get("catalog_edits", 0), d.get("customers", 0)),
        replayed,
    )


async def _entry(pk: int) -> AuditEntry:
    return await AuditEntry.get(id=pk)


async def _check(tx: Transaction, ids: list[int]) -> None:
    if not ids:
        raise OperationError.single(ErrorCode.INVALID, "name at least one webhook, or leave ids out for all", "ids")
    if len(ids) > MAX_ROWS:
        raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_ROWS} webhooks at once", "ids")
    wanted = sorted(set(ids))
    rows = await fetch(
        tx.conn,
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
