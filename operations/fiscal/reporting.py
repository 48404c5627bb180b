"""The fiscal worker: reports the fiscal documents the counter queued, outside any transaction.

Outbox rows of the topics `fbr.invoice` and `fbr.credit_note` (operations/counter/fiscal_outbox.py) are claimed,
leased, backed off and parked with the queues' one machinery (operations/sync/queue.py): a claim takes due
rows (SKIP LOCKED on PostgreSQL), marks them with its token in `outbox.batch`, renews a row's lease right
before posting it, and records an outcome only where its token still holds the row.

Idempotent to the authority. What the authority does with a USIN it already holds is undocumented
(docs/fbr.md), so a resend must be safe either way:

- the payload is built once, from the stored sale, and frozen on the document before the first post; every
  retry (after a timeout, a worker killed mid-post, a lease that ran out) sends the SAME USIN and the SAME
  body — never a new USIN;
- an authority that answers a repeated USIN with the number it gave the first time is simply believed;
- one that refuses it as a duplicate has recorded it: the document becomes `recorded` (the authority holds
  it; its number is for a person to fill in from the authority's portal) unless the setting says to park.

A credit note waits (without using up attempts) until its original has been reported: its RefUSIN must name
an invoice the authority holds. A post that fails in a way that may heal (unreachable, timeout, 5xx, a
malformed answer, no token yet) backs off; a refusal of the payload parks the row at once and marks the
document `refused` with the authority's words, for a person to fix and requeue (`requeueFiscal`).
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from fbr.client import FiscalClient, FiscalDuplicate, FiscalRefused, FiscalUnreachable
from fbr.invoice import Authority, Rules, problems, to_post_data
from fbr.qr import qr_content
from models.branches import Branch
from models.fiscal import FiscalAuthority, FiscalDocument, FiscalKind, FiscalStatus
from models.outbox import OutboxRow
from models.staff import AuditEntry
from operations.counter import FISCAL_CREDIT_NOTE_TOPIC, FISCAL_INVOICE_TOPIC
from operations.fiscal.building import invoice_for
from operations.fiscal.registration import token_for
from operations.kernel import (
    SYSTEM,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    RepeatedUsin,
    SecretUnreadable,
    Transaction,
    current_settings,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.sync import (
    QueuedRow,
    QueuedRows,
    claim_queued,
    is_last_attempt,
    next_queued_due,
    record_queued,
    renew_queued_claim,
    requeue_rows,
    retry_at,
)
from subscriptions import live

log = logging.getLogger(__name__)

FISCAL_CHANNEL = "fiscal"  # one message after a round that changed something: fiscalAlerts re-reads the status
QUEUE = QueuedRows(
    "outbox", ("pending",), "pending", "batch", "topic IN (?, ?)", (FISCAL_INVOICE_TOPIC, FISCAL_CREDIT_NOTE_TOPIC)
)
Row = QueuedRow  # a claimed row (operations/sync/queue.py)
WAIT_FOR_ORIGINAL_SECONDS = 1.0  # a credit note looks again this soon for its original's number
NO_TOKEN_WAIT_SECONDS = 60.0  # ... and this late when only a person can help (no token, original refused)


class _Wait(Exception):
    """Not yet: the row comes back after `seconds` without using up an attempt (its original is not reported
    yet, or no token is stored: nothing was sent)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


# -- claiming -------------------------------------------------------------------------------------


async def _claim(limit: int, lease_seconds: float) -> list[Row]:
    return await claim_queued(QUEUE, limit, lease_seconds)


async def _renew(row: Row, lease_seconds: float) -> bool:
    return await renew_queued_claim(QUEUE, row, lease_seconds)


async def report_due(limit: int | None = None) -> int:
    """One round: claim due rows and report them one by one, in the order they were written (an invoice before
    its credit note). Returns the rows claimed."""
    fiscal = current_settings().fiscal
    rows = await _claim(limit or fiscal.batch, fiscal.lease_seconds)
    clients: dict[FiscalAuthority, FiscalClient] = {}
    changed = 0
    try:
        for row in rows:
            if await _renew(row, fiscal.lease_seconds):
                changed += await _run(row, clients)
    finally:
        for client in clients.values():
            await client.aclose()
    if changed:
        await live.publish_many([(FISCAL_CHANNEL, {"at": datetime.now(UTC).isoformat(), "rows": changed})])
    return len(rows)


async def drain_fiscal(max_seconds: float = 30.0) -> int:
    """Report until nothing is pending (waiting out back-offs) or time runs out; returns the rows claimed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    claimed = 0
    while loop.time() < deadline:
        n = await report_due()
        claimed += n
        if n:
            continue
        wait = await next_queued_due(Tortoise.get_connection("default"), QUEUE)
        if wait is None:
            break
        await asyncio.sleep(min(max(wait, 0.01), max(deadline - loop.time(), 0)))
    return claimed


# -- one row --------------------------------------------------------------------------------------


async def _client(authority: FiscalAuthority, clients: dict) -> FiscalClient:
    client = clients.get(authority)
    if client is None:
        token = await token_for(authority)
        if token is None:
            # Nothing heals this but a person: look again rarely, not every round.
            raise _Wait(f"no {authority.value.upper()} token yet: set it with setFiscalToken", NO_TOKEN_WAIT_SECONDS)
        fiscal = current_settings().fiscal
        url = fiscal.pra_url if authority is FiscalAuthority.PRA else fiscal.fbr_url
        client = clients[authority] = FiscalClient(url, token, timeout=fiscal.timeout)
    return client


async def _payload(doc: FiscalDocument) -> dict:
    """The body to post: built and frozen the first time, the same ever after."""
    if doc.payload is not None:
        return doc.payload
    invoice = await invoice_for(doc)
    # The buyer rule is checked at checkout (or flagged, by the setting): not a reason to hold the invoice back.
    wrong = problems(invoice, Rules(buyer_threshold=None))
    if wrong:
        raise FiscalRefused("invalid", "; ".join(wrong))
    body = to_post_data(invoice)
    await FiscalDocument.filter(id=doc.id, payload__isnull=True).update(payload=body)
    return (await FiscalDocument.get(id=doc.id)).payload


async def _run(row: Row, clients: dict) -> int:
    """Report one row; returns 1 when its document's state changed (fiscalAlerts hears of it)."""
    doc = await FiscalDocument.get_or_none(id=row.payload.get("document"))
    if doc is None or doc.status in (FiscalStatus.FISCALISED, FiscalStatus.RECORDED, FiscalStatus.NOT_FISCALISED):
        async with transaction() as tx:
            done = {"status": "done", "outcome": "already", "next_attempt_at": None, "done_at": datetime.now(UTC)}
            await record_queued(tx.conn, QUEUE, done, token=row.token, ids=[row.id])
        return 0
    try:
        if doc.kind is FiscalKind.CREDIT_NOTE:
            await _original_reported(doc)
        body = await _payload(doc)
        answer = await (await _client(doc.authority, clients)).post_invoice(body)
    except _Wait as wait:
        await _wait(row, str(wait), wait.seconds)
        return 0
    except SecretUnreadable as error:
        await _back_off(row, doc, str(error))
        return 0
    except FiscalUnreachable as error:
        await _back_off(row, doc, f"unreachable: {error}")
        return 0
    except FiscalRefused as refusal:
        return await _refused(row, doc, refusal)
    except Exception as error:  # a bug: keep the row, count the attempt, park eventually
        log.exception("fiscal document %s failed unexpectedly", doc.usin)
        await _back_off(row, doc, f"{type(error).__name__}: {error}")
        return 0
    answer_kept = {"code": answer.code, "response": answer.response, "status": answer.status}
    await _reported(row, doc, answer.invoice_number, answer_kept)
    return 1


async def _original_reported(doc: FiscalDocument) -> None:
    original = await FiscalDocument.get_or_none(sale_id=doc.sale_id, kind=FiscalKind.INVOICE)
    if original is None or original.status not in (FiscalStatus.FISCALISED, FiscalStatus.RECORDED):
        # An original still being tried is looked for again soon; one refused or parked waits for a person.
        waiting = original is not None and original.status is FiscalStatus.PENDING
        raise _Wait(
            f"waiting for {doc.ref_usin} to be reported first",
            WAIT_FOR_ORIGINAL_SECONDS if waiting else NO_TOKEN_WAIT_SECONDS,
        )


def is_duplicate(refusal: FiscalRefused) -> bool:
    """The authority refused the USIN as one it holds already (the simulator's second behaviour)."""
    return isinstance(refusal, FiscalDuplicate)


async def _reported(row: Row, doc: FiscalDocument, number: str, answer: dict) -> None:
    now = datetime.now(UTC)
    async with transaction() as tx:
        await FiscalDocument.filter(id=doc.id).update(
            status=FiscalStatus.FISCALISED,
            fiscal_number=number,
            qr_content=qr_content(number, authority=Authority(doc.authority.value)),
            answer=answer,
            error=None,
            reported_at=now,
        )
        await record_queued(
            tx.conn,
            QUEUE,
            {"status": "done", "outcome": "reported", "last_error": None, "next_attempt_at": None, "done_at": now},
            token=row.token,
            ids=[row.id],
        )


async def _refused(row: Row, doc: FiscalDocument, refusal: FiscalRefused) -> int:
    message = f"{refusal.refusal_code}: {refusal.message}"[:2000]
    if is_duplicate(refusal) and current_settings().fiscal.repeated_usin is RepeatedUsin.RECORDED:
        # The authority holds this USIN (an earlier post of ours whose answer was lost): reported, exactly once.
        log.warning("fiscal document %s: the authority holds this USIN already (%s)", doc.usin, message)
        async with transaction() as tx:
            await FiscalDocument.filter(id=doc.id).update(
                status=FiscalStatus.RECORDED,
                error=message,
                flag=_with_flag(doc.flag, "recorded by the authority, number not returned: fill it in"),
                reported_at=datetime.now(UTC),
            )
            await record_queued(
                tx.conn,
                QUEUE,
                {"status": "done", "outcome": "recorded", "done_at": datetime.now(UTC)},
                token=row.token,
                ids=[row.id],
            )
        return 1
    log.error("fiscal document %s refused by the authority: %s", doc.usin, message)
    async with transaction() as tx:
        await FiscalDocument.filter(id=doc.id).update(status=FiscalStatus.REFUSED, error=message)
        await record_queued(
            tx.conn,
            QUEUE,
            {"status": "parked", "last_error": message, "next_attempt_at": None},
            token=row.token,
            ids=[row.id],
            bump=["attempts"],
        )
    return 1


def _with_flag(flag: str | None, more: str) -> str:
    return "; ".join(x for x in (flag, more) if x)[:300]


async def _wait(row: Row, why: str, seconds: float) -> None:
    async with transaction() as tx:
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        await record_queued(
            tx.conn, QUEUE, {"next_attempt_at": when, "last_error": why[:2000]}, token=row.token, ids=[row.id]
        )


async def _back_off(row: Row, doc: FiscalDocument, error: str) -> None:
    fiscal = current_settings().fiscal
    attempts = row.attempts + 1
    async with transaction() as tx:
        if is_last_attempt(attempts, fiscal.max_attempts):
            log.error("fiscal document %s parked after %d attempts: %s", doc.usin, attempts, error)
            changes = {"status": "parked", "attempts": attempts, "next_attempt_at": None, "last_error": error[:2000]}
        else:
            log.warning("fiscal document %s not reported (attempt %d), retrying: %s", doc.usin, attempts, error)
            when = retry_at(datetime.now(UTC), attempts, fiscal.backoff_base, fiscal.backoff_cap)
            changes = {"attempts": attempts, "next_attempt_at": when, "last_error": error[:2000]}
        await record_queued(tx.conn, QUEUE, changes, token=row.token, ids=[row.id])
        await FiscalDocument.filter(id=doc.id).update(error=error[:2000])


async def requeue_fiscal(
    actor: Actor = SYSTEM, idempotency_key: str | None = None, branch_id: int | None = None
) -> tuple[int, bool]:
    """Parked fiscal rows (of one branch, or all) due again now with a fresh attempt count (after fixing a token, a
    PCT code...); a refused document among them is rebuilt from the stored sale, with the same USIN. Once per
    idempotency key: a repeat answers the first count and requeues nothing again. Returns (rows, replayed)."""
    require(actor, Permission.MANAGE_INTEGRATIONS, branch_id)
    if branch_id is not None and not await Branch.exists(id=branch_id):
        raise OperationError.single(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")

    async def requeue(tx: Transaction) -> AuditEntry:
        # The row's key names its document's USIN (operations/counter/fiscal_outbox.py): narrowed to a branch there.
        mine = " AND key IN (SELECT 'fbr:' || usin FROM fiscal_document WHERE branch_id = ?)"
        ids = await requeue_rows(
            tx.conn,
            QUEUE,
            ["parked"],
            also=mine if branch_id is not None else "",
            values=[branch_id] * (branch_id is not None),
        )
        if ids:
            keys = await OutboxRow.filter(id__in=ids).values_list("key", flat=True)
            await FiscalDocument.filter(
                usin__in=[k.removeprefix("fbr:") for k in keys], status=FiscalStatus.REFUSED
            ).update(status=FiscalStatus.PENDING, payload=None)
            tx.publish_after_commit(FISCAL_CHANNEL, {"at": datetime.now(UTC).isoformat(), "rows": len(ids)})
        return await record_audit(
            actor, "fiscal.requeued", branch_id=branch_id, target=("outbox", "fbr"), rows=len(ids)
        )

    async with transaction() as tx:
        request = {"branch": branch_id}
        entry, replayed = await run_once(
            tx, "requeueFiscal", idempotency_key, request, lambda: requeue(tx), lambda pk: AuditEntry.get(id=pk)
        )
    return entry.detail["rows"], replayed
