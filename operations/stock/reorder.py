"""Reorder levels, low-stock crossings and reorder suggestions.

A level is low when available (on hand − reserved) is at or below its reorder point. The alert
fires on the crossing, not on every sale below the line, so a branch manager hears once when a
line runs low and once when it is back. Suggestions say how much to bring in and where from:
first from branches that hold more than their own reorder point plus reorder quantity (a transfer
costs nothing but a trip), the rest from a supplier.
"""

from dataclasses import asdict, dataclass, field
from enum import StrEnum

from operations.kernel import (
    Actor,
    ErrorCode,
    Permission,
    Problems,
    Transaction,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.stock import ledger

MAX_REORDER_POINT = 100_000


class Crossing(StrEnum):
    LOW = "low"  # fell to or below the reorder point
    OUT = "out"  # fell to zero or below: nothing left to sell
    RECOVERED = "recovered"  # back above the reorder point


@dataclass(frozen=True)
class ReorderLevel:
    variant_id: int
    reorder_point: int
    reorder_quantity: int | None = None  # None: keep the current one


@dataclass(frozen=True)
class _Done:
    id: int  # the branch: what run_once keeps as the result


async def _done(branch_id: int) -> _Done:
    return _Done(branch_id)


async def set_reorder_levels(
    actor: Actor, branch_id: int, levels: list[ReorderLevel], idempotency_key: str | None = None
) -> bool:
    """Set the lines' reorder points (and quantities); returns whether this repeated an earlier
    request with the same key (then nothing is set again)."""
    require(actor, Permission.ADJUST_STOCK, branch_id)
    problems = Problems()
    if not levels:
        problems.add(ErrorCode.INVALID, "at least one line is required", "lines")
    if len(levels) > ledger.MAX_MOVEMENTS_PER_POSTING:
        problems.add(ErrorCode.TOO_MANY, f"at most {ledger.MAX_MOVEMENTS_PER_POSTING} lines", "lines")
    seen: set[int] = set()
    for i, level in enumerate(levels):
        if level.variant_id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same variant appears twice", f"lines.{i}.variant")
        seen.add(level.variant_id)
        if not 0 <= level.reorder_point <= MAX_REORDER_POINT:
            problems.add(ErrorCode.INVALID, f"reorderPoint must be 0–{MAX_REORDER_POINT:,}", f"lines.{i}.reorderPoint")
        if level.reorder_quantity is not None and not 0 <= level.reorder_quantity <= MAX_REORDER_POINT:
            problems.add(
                ErrorCode.INVALID, f"reorderQuantity must be 0–{MAX_REORDER_POINT:,}", f"lines.{i}.reorderQuantity"
            )
    problems.raise_if_any()

    async def write(tx: Transaction) -> _Done:
        await ledger.set_reorder_points(
            tx,
            branch_id,
            {lv.variant_id: lv.reorder_point for lv in levels},
            {lv.variant_id: lv.reorder_quantity for lv in levels if lv.reorder_quantity is not None},
        )
        await record_audit(actor, "stock.reorder_points_set", branch_id=branch_id, lines=len(levels))
        return _Done(branch_id)

    request = {"branch": branch_id, "levels": [asdict(lv) for lv in levels]}
    async with transaction() as tx:
        _, replayed = await run_once(tx, "setReorderPoints", idempotency_key, request, lambda: write(tx), _done)
    return replayed


def crossing(available_before: int, available_after: int, reorder_point: int) -> Crossing | None:
    """What a change from `before` to `after` crossed, if anything (an unset point of 0 still
    reports running out)."""
    if available_after <= 0 < available_before:
        return Crossing.OUT
    if reorder_point > 0 and available_after <= reorder_point < available_before:
        return Crossing.LOW
    if reorder_point > 0 and available_before <= reorder_point < available_after:
        return Crossing.RECOVERED
    return None


@dataclass
class Suggestion:
    variant_id: int
    sku: str
    available: int
    reorder_point: int
    reorder_quantity: int
    need: int
    transfers: list[tuple[int, int]] = field(default_factory=list)  # (from branch id, units)
    purchase: int = 0


async def reorder_suggestions(actor: Actor, branch_id: int) -> list[Suggestion]:
    """For each low line at the branch: how many to bring in, from which branches, the rest to buy.

    Need: the reorder quantity, or enough to lift available above the reorder point if that is
    more. A branch gives only what it holds above its own reorder point plus reorder quantity,
    and only branches the caller may see stock at are offered.
    """
    require(actor, Permission.VIEW_STOCK, branch_id)
    async with transaction() as tx:
        low = await fetch(
            tx.conn,
            "SELECT l.variant_id, v.sku, l.on_hand - l.reserved AS available, l.reorder_point, l.reorder_quantity"
            " FROM stock_level l JOIN variant v ON v.id = l.variant_id"
            " WHERE l.branch_id = ? AND l.reorder_point > 0 AND l.on_hand - l.reserved <= l.reorder_point"
            " ORDER BY v.sku",
            [branch_id],
        )
        if not low:
            return []
        variant_ids = [r["variant_id"] for r in low]
        marks = ", ".join("?" for _ in variant_ids)
        others = await fetch(
            tx.conn,
            "SELECT branch_id, variant_id, on_hand - reserved - reorder_point - reorder_quantity AS spare"
            f" FROM stock_level WHERE branch_id <> ? AND variant_id IN ({marks})"
            " AND on_hand - reserved - reorder_point - reorder_quantity > 0",
            [branch_id, *variant_ids],
        )
    spare: dict[int, list[tuple[int, int]]] = {}
    for r in others:
        if actor.can(Permission.VIEW_STOCK, r["branch_id"]):
            spare.setdefault(r["variant_id"], []).append((r["branch_id"], r["spare"]))
    suggestions = []
    for r in low:
        need = max(r["reorder_quantity"], r["reorder_point"] - r["available"] + 1)
        s = Suggestion(r["variant_id"], r["sku"], r["available"], r["reorder_point"], r["reorder_quantity"], need)
        still = need
        for source, units in sorted(spare.get(r["variant_id"], []), key=lambda x: (-x[1], x[0])):
            if still == 0:
                break
            take = min(units, still)
            s.transfers.append((source, take))
            still -= take
        s.purchase = still
        suggestions.append(s)
    return suggestions
