"""Stock counts after counting: submit for review, approve into ONE ledger adjustment, or abandon.

See operations/counts/counting.py for how a count accounts for sales made while it ran. Approval posts the
frozen variances as deltas with reason `count`, once: the count's row is taken with a guarded
UPDATE (REVIEW → APPROVED), so a second approval, even a concurrent one, finds it APPROVED and
returns it without posting; the ledger key `stockCount:<id>` would refuse a second posting anyway.
Each step also takes the client's idempotency key: a repeat returns the first result.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from models.counts import CountStatus, StockCount
from operations.counts.counting import branch_sequence, load, take, wrong_state
from operations.kernel import (
    Actor,
    OperationError,
    Permission,
    Problem,
    Transaction,
    db_time,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.stock import Movement, Posting, apply_to_ledger


async def _step(
    operation: str,
    key: str | None,
    request: dict,
    count: StockCount,
    allowed: tuple[CountStatus, ...],
    done: CountStatus,
    work: Callable[[Transaction], Awaitable[None]],
    **changes: Any,
) -> tuple[StockCount, bool]:
    """Move the count from `allowed` to `done` and run `work` in the same transaction, once per
    idempotency key: a repeat returns the first result, whatever the count went through since. A
    count already `done` under another key (or by a concurrent twin that got there first) is
    returned unchanged."""
    already = False

    async def run(tx: Transaction) -> StockCount:
        nonlocal already
        if await take(tx, count, allowed, status=done, **changes):
            await work(tx)
            return count
        current = await StockCount.get(id=count.id)
        if current.status is not done:
            raise wrong_state(current, allowed)
        already = True
        return current

    async with transaction() as tx:
        _, replayed = await run_once(tx, operation, key, request, lambda: run(tx), load)
    return await StockCount.get(id=count.id), replayed or already


def _who(actor: Actor, prefix: str, now: datetime, *, staff_id: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {f"{prefix}_by": actor.label[:120], f"{prefix}_at": now}
    if staff_id:
        out[f"{prefix}_by_staff_id"] = actor.staff_id
    return out


async def submit_stock_count(
    actor: Actor, count_id: int, zero_uncounted: bool = False, idempotency_key: str | None = None
) -> tuple[StockCount, bool]:
    """Counting is over: the count waits for a manager. `zero_uncounted`: lines nobody counted are
    taken as counted 0 (the counter says they are not there); otherwise they are left alone."""
    count = await load(count_id)
    require(actor, Permission.ADJUST_STOCK, count.branch_id)
    now = datetime.now(UTC)

    async def work(tx: Transaction) -> None:
        if zero_uncounted:
            await fetch(
                tx.conn,
                "UPDATE stock_count_line SET counted = 0, counted_through_sequence = ?, counted_at = ?"
                " WHERE count_id = ? AND counted IS NULL",
                [await branch_sequence(tx, count.branch_id), db_time(tx.conn, now), count.id],
            )
        await record_audit(
            actor,
            "stock_count.submitted",
            branch_id=count.branch_id,
            target=("stock_count", count.id),
            zero_uncounted=zero_uncounted,
        )

    return await _step(
        "submitStockCount",
        idempotency_key,
        {"count": count_id, "zero_uncounted": zero_uncounted},
        count,
        (CountStatus.OPEN,),
        CountStatus.REVIEW,
        work,
        zero_uncounted=zero_uncounted,
        **_who(actor, "submitted", now),
    )


async def approve_stock_count(
    actor: Actor, count_id: int, idempotency_key: str | None = None
) -> tuple[StockCount, bool]:
    """Post the variances as ONE adjustment (reason `count`), once: a second approval, even a
    concurrent one, finds the count APPROVED and returns it without posting again."""
    count = await load(count_id)
    require(actor, Permission.APPROVE, count.branch_id)

    async def work(tx: Transaction) -> None:
        movements = await _freeze_variances(tx, count)
        try:
            result = await apply_to_ledger(
                tx,
                Posting(f"stockCount:{count.id}", "count", actor.label, "stock_count", str(count.id), note=count.note),
                movements,
            )
        except OperationError as error:  # the ledger names its movements; the client knows the count
            raise OperationError([Problem(p.code, p.message, "countId") for p in error.problems]) from None
        await fetch(tx.conn, "UPDATE stock_count SET posting_id = ? WHERE id = ?", [result.posting_id, count.id])
        await record_audit(
            actor,
            "stock_count.approved",
            branch_id=count.branch_id,
            target=("stock_count", count.id),
            approved_by=actor.staff_id,
            lines=len(movements),
            units=sum(abs(m.delta) for m in movements),
        )

    return await _step(
        "approveStockCount",
        idempotency_key,
        {"count": count_id},
        count,
        (CountStatus.REVIEW,),
        CountStatus.APPROVED,
        work,
        **_who(actor, "approved", datetime.now(UTC), staff_id=True),
    )


async def _freeze_variances(tx: Transaction, count: StockCount) -> list[Movement]:
    """Write each counted line's movements-since-start and variance (what approval posts, kept
    for everyone to see afterwards), in three statements whatever the count's size."""
    await fetch(
        tx.conn,
        "UPDATE stock_count_line SET movements_since_start = COALESCE((SELECT SUM(m.delta) FROM stock_movement m"
        " WHERE m.branch_id = ? AND m.variant_id = stock_count_line.variant_id AND m.bucket = 'on_hand'"
        " AND m.sequence > ? AND m.sequence <= stock_count_line.counted_through_sequence), 0)"
        " WHERE count_id = ? AND counted IS NOT NULL",
        [count.branch_id, count.start_sequence, count.id],
    )
    rows = await fetch(
        tx.conn,
        "UPDATE stock_count_line SET variance = counted - (expected_at_start + movements_since_start)"
        " WHERE count_id = ? AND counted IS NOT NULL RETURNING variant_id, variance",
        [count.id],
    )
    return [
        Movement(count.branch_id, r["variant_id"], r["variance"])
        for r in sorted(rows, key=lambda r: r["variant_id"])
        if r["variance"]
    ]


async def abandon_stock_count(
    actor: Actor, count_id: int, idempotency_key: str | None = None
) -> tuple[StockCount, bool]:
    """Call the count off: nothing is posted, whatever was counted."""
    count = await load(count_id)
    require(actor, Permission.ADJUST_STOCK, count.branch_id)

    async def work(tx: Transaction) -> None:
        await record_audit(actor, "stock_count.abandoned", branch_id=count.branch_id, target=("stock_count", count.id))

    return await _step(
        "abandonStockCount",
        idempotency_key,
        {"count": count_id},
        count,
        (CountStatus.OPEN, CountStatus.REVIEW),
        CountStatus.ABANDONED,
        work,
        **_who(actor, "abandoned", datetime.now(UTC)),
    )
