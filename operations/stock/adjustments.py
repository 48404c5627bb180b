"""Stock adjustments by staff, and the ledger check (`branchline check`).

A large adjustment (more units moved, all lines together, than the selling policy's
`adjustment_approval_units`, operations/kernel/settings.py) needs a manager: a caller who may APPROVE
at the branch approves it themself, anyone else passes a manager's PIN (checked like a sale's
override). Without either it is APPROVAL_REQUIRED and nothing is written. The size is measured on
the movements actually posted, inside the transaction, so a counted quantity is judged by the change
it makes, not by the number typed.
"""

from dataclasses import asdict, dataclass
from enum import StrEnum

from models.stock import Bucket
from operations.directory import Approval, vouch
from operations.kernel import (
    SYSTEM,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    current_settings,
    fetch,
    fingerprint,
    record_audit,
    require,
    transaction,
)
from operations.stock import ledger
from operations.stock.reorder import ReorderLevel, set_reorder_levels

MAX_NOTE = 1000
_RETRIES_ON_CONCURRENT_CHANGE = 3


class AdjustmentReason(StrEnum):
    CORRECTION = "correction"
    COUNT = "count"
    DAMAGED = "damaged"
    SHRINKAGE = "shrinkage"
    FOUND = "found"
    PROMOTION = "promotion"
    INTERNAL_USE = "internal_use"
    OPENING_STOCK = "opening_stock"


# Units leave the shelf for these reasons, arrive for those; a correction or count goes either way.
_OUTGOING = {
    AdjustmentReason.DAMAGED,
    AdjustmentReason.SHRINKAGE,
    AdjustmentReason.PROMOTION,
    AdjustmentReason.INTERNAL_USE,
}
_INCOMING = {AdjustmentReason.FOUND, AdjustmentReason.OPENING_STOCK}


@dataclass(frozen=True)
class AdjustmentLine:
    variant_id: int
    quantity: int | None = None  # the change: -2 takes two units off
    counted_quantity: int | None = None  # what is physically there: on hand becomes this


@dataclass(frozen=True)
class Adjustment:
    branch_id: int
    reason: AdjustmentReason
    lines: list[AdjustmentLine]
    idempotency_key: str
    note: str | None = None
    actor: Actor = SYSTEM
    manager_pin: str | None = None  # approves an adjustment above the approval size


def _validate(adj: Adjustment) -> None:
    problems = Problems()
    problems.check_key(adj.idempotency_key)
    if not adj.lines:
        problems.add(ErrorCode.INVALID, "at least one line is required", "lines")
    if adj.note is not None and len(adj.note) > MAX_NOTE:
        problems.add(ErrorCode.INVALID, f"note must be at most {MAX_NOTE} characters", "note")
    seen: set[int] = set()
    for i, line in enumerate(adj.lines):
        where = f"lines.{i}"
        if line.variant_id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same variant appears twice", f"{where}.variant")
        seen.add(line.variant_id)
        if (line.quantity is None) == (line.counted_quantity is None):
            problems.add(ErrorCode.INVALID, "give either quantity or countedQuantity", f"{where}.quantity")
            continue
        if line.counted_quantity is not None:
            if not 0 <= line.counted_quantity <= ledger.MAX_UNITS_PER_MOVEMENT:
                problems.add(
                    ErrorCode.INVALID,
                    f"countedQuantity must be between 0 and {ledger.MAX_UNITS_PER_MOVEMENT:,}",
                    f"{where}.countedQuantity",
                )
            continue
        if adj.reason is AdjustmentReason.COUNT:
            problems.add(ErrorCode.INVALID, "a count gives countedQuantity", f"{where}.countedQuantity")
        elif adj.reason in _OUTGOING and line.quantity > 0:
            problems.add(
                ErrorCode.INVALID, f"{adj.reason.value} takes units off: use a negative quantity", f"{where}.quantity"
            )
        elif adj.reason in _INCOMING and line.quantity < 0:
            problems.add(
                ErrorCode.INVALID, f"{adj.reason.value} adds units: use a positive quantity", f"{where}.quantity"
            )
    problems.raise_if_any()


async def adjust_stock(adj: Adjustment) -> ledger.PostingResult:
    require(adj.actor, Permission.ADJUST_STOCK, adj.branch_id)
    approval = await vouch(adj.actor, adj.branch_id, adj.manager_pin)
    _validate(adj)
    posting = ledger.Posting(
        idempotency_key=f"adjustStock:{adj.idempotency_key}",
        reason=adj.reason.value,
        actor=adj.actor.label,
        reference_type="adjustment",
        note=adj.note,
        request_hash=fingerprint(asdict(adj) | {"actor": None, "manager_pin": None}),
    )
    for attempt in range(_RETRIES_ON_CONCURRENT_CHANGE):
        try:
            async with transaction() as tx:
                movements = await _movements(tx, adj)
                approved_by = await _approval(tx, adj, posting.idempotency_key, movements, approval)
                result = await ledger.apply(tx, posting, movements)
                if not result.replayed:
                    await record_audit(
                        adj.actor,
                        "stock.adjusted",
                        branch_id=adj.branch_id,
                        target=("stock_posting", result.posting_id),
                        approved_by=approved_by,
                        reason=adj.reason.value,
                        lines=len(adj.lines),
                        units=units_moved(movements),
                    )
                return result
        except OperationError as error:
            # A count raced with a sale: read the new on hand and try again.
            retry = all(p.code is ErrorCode.STOCK_CHANGED for p in error.problems)
            if not retry or attempt == _RETRIES_ON_CONCURRENT_CHANGE - 1:
                raise
    raise AssertionError("unreachable")


def units_moved(movements: list[ledger.Movement]) -> int:
    """Units on or off the shelf: a damaged unit counts once, not again for the damaged bucket."""
    return sum(abs(m.delta) for m in movements if m.bucket is Bucket.ON_HAND)


async def _approval(
    tx: Transaction, adj: Adjustment, key: str, movements: list[ledger.Movement], approval: Approval
) -> int | None:
    """The approving staff id for a large adjustment (None: none needed, or the system's own);
    APPROVAL_REQUIRED when nobody approved it. A retry of an adjustment already posted is the
    ledger's to answer (the first result), so it is not asked for approval again."""
    units = units_moved(movements)
    limit = current_settings().policy.adjustment_approval_units
    if units <= limit:
        return None
    if await fetch(tx.conn, "SELECT id FROM stock_posting WHERE idempotency_key = ?", [key]):
        return None
    if adj.actor.can(Permission.APPROVE, adj.branch_id):
        return adj.actor.staff_id
    return approval.required(f"an adjustment of {units} units (over {limit})").id


async def _movements(tx: Transaction, adj: Adjustment) -> list[ledger.Movement]:
    counted = [line.variant_id for line in adj.lines if line.counted_quantity is not None]
    on_hand: dict[int, int] = {}
    if counted:
        rows = await fetch(
            tx.conn,
            f"SELECT variant_id, on_hand FROM stock_level WHERE branch_id = ?"
            f" AND variant_id IN ({', '.join('?' for _ in counted)})",
            [adj.branch_id, *counted],
        )
        on_hand = {r["variant_id"]: r["on_hand"] for r in rows}
    movements: list[ledger.Movement] = []
    for n, line in enumerate(adj.lines):
        if line.counted_quantity is not None:
            current = on_hand.get(line.variant_id, 0)
            delta = line.counted_quantity - current
            if delta:
                movements.append(
                    ledger.Movement(adj.branch_id, line.variant_id, delta, expected_on_hand=current, line=n)
                )
            continue
        movements.append(ledger.Movement(adj.branch_id, line.variant_id, line.quantity, line=n))
        if adj.reason is AdjustmentReason.DAMAGED:
            # Damaged units leave the sellable shelf but stay accounted for until written off.
            movements.append(ledger.Movement(adj.branch_id, line.variant_id, -line.quantity, Bucket.DAMAGED, line=n))
    return movements


async def set_reorder_points(actor: Actor, branch_id: int, points: list[tuple[int, int]]) -> None:
    """(variant id, reorder point) pairs; `stockLevels(lowStock: true)` lists available <= the point.
    Reorder quantities too: operations/stock/reorder.py."""
    await set_reorder_levels(actor, branch_id, [ReorderLevel(variant_id, point) for variant_id, point in points])


@dataclass(frozen=True)
class Difference:
    branch_id: int
    variant_id: int
    bucket: str
    level: int
    ledger: int


@dataclass(frozen=True)
class SequenceProblem:
    branch_id: int
    last_sequence: int
    movements: int
    highest_sequence: int


async def check_ledger() -> tuple[list[Difference], list[SequenceProblem]]:
    """Recompute every level from its movements; also prove each branch's sequence is gap-free."""
    async with transaction() as tx:
        sums = await fetch(
            tx.conn,
            "SELECT branch_id, variant_id,"
            " SUM(CASE WHEN bucket = 'on_hand' THEN delta ELSE 0 END) AS on_hand,"
            " SUM(CASE WHEN bucket = 'reserved' THEN delta ELSE 0 END) AS reserved,"
            " SUM(CASE WHEN bucket = 'in_transit' THEN delta ELSE 0 END) AS in_transit,"
            " SUM(CASE WHEN bucket = 'damaged' THEN delta ELSE 0 END) AS damaged"
            " FROM stock_movement GROUP BY branch_id, variant_id",
        )
        levels = await fetch(
            tx.conn, "SELECT branch_id, variant_id, on_hand, reserved, in_transit, damaged FROM stock_level"
        )
        sequences = await fetch(
            tx.conn,
            "SELECT s.branch_id, s.last_sequence, COUNT(m.id) AS movements, COALESCE(MAX(m.sequence), 0) AS highest"
            " FROM branch_stock_sequence s LEFT JOIN stock_movement m ON m.branch_id = s.branch_id"
            " GROUP BY s.branch_id, s.last_sequence",
        )
    columns = ("on_hand", "reserved", "in_transit", "damaged")
    from_ledger = {(r["branch_id"], r["variant_id"]): r for r in sums}
    stored = {(r["branch_id"], r["variant_id"]): r for r in levels}
    differences = []
    for key in sorted(set(from_ledger) | set(stored)):
        for column in columns:
            expected = int(from_ledger.get(key, {}).get(column) or 0)
            actual = int(stored.get(key, {}).get(column) or 0)
            if expected != actual:
                differences.append(Difference(key[0], key[1], column, actual, expected))
    sequence_problems = [
        SequenceProblem(r["branch_id"], r["last_sequence"], r["movements"], r["highest"])
        for r in sequences
        if not (r["last_sequence"] == r["movements"] == r["highest"])
    ]
    return differences, sequence_problems
