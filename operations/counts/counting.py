"""Stock counts: open and count in batches (submit, approve, abandon: operations/counts/review.py).

A count goes OPEN → REVIEW → APPROVED, or ABANDONED from OPEN or REVIEW (stock untouched).

Sales do not stop for a count, so a count cannot simply set on hand to what was found (that would
undo every sale made while counting). Instead:

- opening snapshots the branch's ledger sequence and each line's on hand in ONE statement (one
  snapshot on PostgreSQL), so the two agree: every movement numbered after the start sequence
  happened during the count;
- each line remembers the branch's sequence when it was last counted (`counted_through_sequence`):
  movements up to it happened before those units were counted, later ones (a sale after the shelf
  was counted, before the manager approved) did not;
- variance = counted − (expected at start + ON_HAND movements since the start, up to that point);
- approval posts the variances as deltas (reason `count`) in one ledger posting, so whatever else
  moved meanwhile stands. The count's own adjustment is never inside a line's window (it is posted
  after the last counting); an adjustment made by ANOTHER count is a real change and is included.

Uncounted lines are not adjusted: a variant nobody counted is not proof it is gone. Submitting with
`zero_uncounted=True` is the counter saying "the rest is not there": those lines become counted 0.

Every step is one transaction that takes the count's row with a guarded UPDATE checking its state
(`... WHERE id = ? AND status IN (...)`), which serialises batches, submit and approval of one count
on PostgreSQL (row lock) and SQLite (write lock). Approving twice, even at once, posts once: the
second finds the count APPROVED and returns it. Counting, submitting and abandoning need
ADJUST_STOCK at the branch, approving needs APPROVE there.
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from models.branches import Branch
from models.catalog import Variant
from models.counts import CountKind, CountStatus, StockCount, StockCountLine
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    Problems,
    Transaction,
    db_time,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.stock import MAX_UNITS_PER_MOVEMENT

MAX_SCOPE_VARIANTS = 500  # listed variants of a cycle count
MAX_BATCH_LINES = 500  # lines in one recordCountedQuantities batch
MAX_UNITS = MAX_UNITS_PER_MOVEMENT
MAX_NOTE = 1000
MAX_PRODUCT_TYPE = 120


class CountMode(StrEnum):
    ADD = "add"  # a scan: these units are added to what was counted so far
    SET = "set"  # a recount: the line's counted quantity becomes this


@dataclass(frozen=True)
class NewCount:
    branch_id: int
    kind: CountKind
    idempotency_key: str
    variant_ids: list[int] = field(default_factory=list)  # a cycle count's chosen variants
    product_type: str | None = None  # a cycle count's category
    blind: bool = False
    note: str | None = None


@dataclass(frozen=True)
class CountedLine:
    variant_id: int
    counted: int
    mode: CountMode = CountMode.ADD


# --- shared by every step ----------------------------------------------------------------------


def _is_units(value: Any, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_UNITS


async def load(count_id: int) -> StockCount:
    count = await StockCount.get_or_none(id=count_id)
    if count is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such stock count", "countId")
    return count


async def branch_sequence(tx: Transaction, branch_id: int) -> int:
    """The branch's last committed ledger sequence: every movement up to it is committed (the
    ledger hands sequences out in commit order), so sums over them are stable."""
    rows = await fetch(
        tx.conn,
        "SELECT COALESCE(MAX(last_sequence), 0) AS last_sequence FROM branch_stock_sequence WHERE branch_id = ?",
        [branch_id],
    )
    return int(rows[0]["last_sequence"])


async def expected_at(tx: Transaction, branch_id: int, sequence: int, variant_ids: list[int]) -> dict[int, int]:
    """On hand of these variants right after movement `sequence`, from the ledger itself."""
    if not variant_ids:
        return {}
    rows = await fetch(
        tx.conn,
        "SELECT variant_id, COALESCE(SUM(delta), 0) AS on_hand FROM stock_movement"
        " WHERE branch_id = ? AND bucket = 'on_hand' AND sequence <= ?"
        f" AND variant_id IN ({', '.join('?' for _ in variant_ids)}) GROUP BY variant_id",
        [branch_id, sequence, *variant_ids],
    )
    found = {r["variant_id"]: int(r["on_hand"]) for r in rows}
    return {v: found.get(v, 0) for v in variant_ids}


async def take(tx: Transaction, count: StockCount, allowed: tuple[CountStatus, ...], **changes: Any) -> bool:
    """Lock the count's row if it is in one of `allowed` states, applying `changes` in the same
    statement. False when it is not (the caller decides: a retry or WRONG_STATE)."""
    sets, values = ["version = version + 1", "updated_at = ?"], [db_time(tx.conn, datetime.now(UTC))]
    for column, value in changes.items():
        sets.append(f"{column} = ?")
        if isinstance(value, datetime):
            value = db_time(tx.conn, value)
        values.append(value.value if isinstance(value, StrEnum) else value)
    rows = await fetch(
        tx.conn,
        f"UPDATE stock_count SET {', '.join(sets)} WHERE id = ? AND status IN ({', '.join('?' for _ in allowed)})"
        " RETURNING id",
        [*values, count.id, *(s.value for s in allowed)],
    )
    return bool(rows)


def wrong_state(count: StockCount, wanted: tuple[CountStatus, ...]) -> OperationError:
    need = " or ".join(s.value.upper() for s in wanted)
    return OperationError.single(
        ErrorCode.WRONG_STATE,
        f"stock count {count.id} is {count.status.value.upper()}; this needs it {need}",
        "countId",
    )


# --- open ---------------------------------------------------------------------------------------


async def open_stock_count(actor: Actor, new: NewCount) -> tuple[StockCount, bool]:
    """Returns (count, replayed). Snapshots what the ledger says is there now."""
    require(actor, Permission.ADJUST_STOCK, new.branch_id)
    _validate_new(new)
    problems = Problems()
    if not await Branch.exists(id=new.branch_id):
        problems.add(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")
    known = set(await Variant.filter(id__in=new.variant_ids).values_list("id", flat=True)) if new.variant_ids else set()
    for i, variant_id in enumerate(new.variant_ids):
        if variant_id not in known:
            problems.add(ErrorCode.NOT_FOUND, f"variant {variant_id} does not exist", f"variantIds.{i}")
    problems.raise_if_any()

    async def work(tx: Transaction) -> StockCount:
        start, on_hand = await _snapshot(tx, new)
        scope = await _scope(tx, new, on_hand)
        if not scope and new.kind is CountKind.CYCLE:
            raise OperationError.single(ErrorCode.NOT_FOUND, f"no variants of type {new.product_type!r}", "productType")
        late = await expected_at(tx, new.branch_id, start, [v for v in scope if v not in on_hand])
        count = await StockCount.create(
            branch_id=new.branch_id,
            kind=new.kind,
            status=CountStatus.OPEN,
            blind=new.blind,
            product_type=new.product_type,
            start_sequence=start,
            note=new.note,
            opened_by=actor.label[:120],
            opened_by_staff_id=actor.staff_id,
        )
        await StockCountLine.bulk_create(
            [
                StockCountLine(count_id=count.id, variant_id=v, expected_at_start=on_hand.get(v, late.get(v, 0)))
                for v in scope
            ],
            batch_size=500,
        )
        await record_audit(
            actor,
            "stock_count.opened",
            branch_id=new.branch_id,
            target=("stock_count", count.id),
            kind=new.kind.value,
            blind=new.blind,
            lines=len(scope),
        )
        return count

    async with transaction() as tx:
        count, replayed = await run_once(
            tx, "openStockCount", new.idempotency_key, asdict(new), lambda: work(tx), lambda pk: StockCount.get(id=pk)
        )
    return count, replayed


def _validate_new(new: NewCount) -> None:
    problems = Problems()
    problems.check_key(new.idempotency_key)
    if new.note is not None and len(new.note) > MAX_NOTE:
        problems.add(ErrorCode.INVALID, f"note must be at most {MAX_NOTE} characters", "note")
    if new.product_type is not None and not (0 < len(new.product_type.strip()) <= MAX_PRODUCT_TYPE):
        problems.add(ErrorCode.INVALID, f"productType must be 1–{MAX_PRODUCT_TYPE} characters", "productType")
    if new.kind is CountKind.FULL and (new.variant_ids or new.product_type is not None):
        problems.add(ErrorCode.INVALID, "a full count covers the whole branch: use a cycle count", "variantIds")
    if new.kind is CountKind.CYCLE and not new.variant_ids and new.product_type is None:
        problems.add(ErrorCode.INVALID, "a cycle count needs variantIds or a productType", "variantIds")
    if len(new.variant_ids) > MAX_SCOPE_VARIANTS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_SCOPE_VARIANTS} variants", "variantIds")
    seen: set[int] = set()
    for i, variant_id in enumerate(new.variant_ids):
        if variant_id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same variant appears twice", f"variantIds.{i}")
        seen.add(variant_id)
    problems.raise_if_any()


async def _snapshot(tx: Transaction, new: NewCount) -> tuple[int, dict[int, int]]:
    """(start sequence, on hand per variant in scope) read in ONE statement: on PostgreSQL a single
    statement sees one snapshot, so the levels are exactly the sum of the movements up to the
    sequence (two statements could see a sale commit in between and count it twice)."""
    scope, values = "", []
    if new.kind is CountKind.CYCLE:
        parts = []
        if new.variant_ids:
            parts.append(f"l.variant_id IN ({', '.join('?' for _ in new.variant_ids)})")
            values += new.variant_ids
        if new.product_type is not None:
            parts.append(
                "l.variant_id IN (SELECT v.id FROM variant v JOIN product p ON p.id = v.product_id"
                " WHERE p.product_type = ?)"
            )
            values.append(new.product_type)
        scope = f" AND ({' OR '.join(parts)})"
    rows = await fetch(
        tx.conn,
        "SELECT s.last_sequence, l.variant_id, l.on_hand FROM"
        " (SELECT COALESCE(MAX(last_sequence), 0) AS last_sequence FROM branch_stock_sequence WHERE branch_id = ?) s"
        f" LEFT JOIN stock_level l ON l.branch_id = ?{scope}",
        [new.branch_id, new.branch_id, *values],
    )
    on_hand = {r["variant_id"]: r["on_hand"] for r in rows if r["variant_id"] is not None}
    return int(rows[0]["last_sequence"]), on_hand


async def _scope(tx: Transaction, new: NewCount, on_hand: dict[int, int]) -> list[int]:
    """The count's lines: a full count every variant stocked at the branch (others join as they
    are found), a cycle count its listed variants and every variant of its product type."""
    if new.kind is CountKind.FULL:
        return sorted(on_hand)
    variants = set(new.variant_ids)
    if new.product_type is not None:
        rows = await fetch(
            tx.conn,
            "SELECT v.id FROM variant v JOIN product p ON p.id = v.product_id WHERE p.product_type = ?",
            [new.product_type],
        )
        variants |= {r["id"] for r in rows}
    return sorted(variants)


# --- count --------------------------------------------------------------------------------------


async def record_counted(
    actor: Actor, count_id: int, lines: list[CountedLine], idempotency_key: str
) -> tuple[StockCount, bool]:
    """One batch of counted quantities (scans add up, SET replaces); a re-sent batch (same key)
    counts once. A full count takes any variant found; a cycle count only its own."""
    count = await load(count_id)
    require(actor, Permission.ADJUST_STOCK, count.branch_id)
    _validate_batch(lines, idempotency_key)
    known = set(await Variant.filter(id__in=[line.variant_id for line in lines]).values_list("id", flat=True))
    problems = Problems()
    for i, line in enumerate(lines):
        if line.variant_id not in known:
            problems.add(ErrorCode.NOT_FOUND, f"variant {line.variant_id} does not exist", f"lines.{i}.variant")
    problems.raise_if_any()

    async def work(tx: Transaction) -> StockCount:
        if not await take(tx, count, (CountStatus.OPEN,)):
            raise wrong_state(await StockCount.get(id=count.id), (CountStatus.OPEN,))
        await _ensure_lines(tx, count, lines)
        through = await branch_sequence(tx, count.branch_id)
        now = db_time(tx.conn, datetime.now(UTC))
        for variant_id, (set_to, add) in sorted(_fold(lines).items()):
            counted = "?" if set_to is not None else "COALESCE(counted, 0) + ?"
            rows = await fetch(
                tx.conn,
                f"UPDATE stock_count_line SET counted = {counted}, counted_through_sequence = ?, counted_at = ?"
                " WHERE count_id = ? AND variant_id = ? RETURNING counted",
                [(set_to or 0) + add, through, now, count.id, variant_id],
            )
            if rows[0]["counted"] > MAX_UNITS:
                field = next(f"lines.{i}.counted" for i, x in enumerate(lines) if x.variant_id == variant_id)
                raise OperationError.single(ErrorCode.INVALID, f"counted must stay at most {MAX_UNITS:,}", field)
        return count

    request = {"count": count_id, "lines": [asdict(line) for line in lines]}
    async with transaction() as tx:
        _, replayed = await run_once(
            tx, "recordCountedQuantities", idempotency_key, request, lambda: work(tx), lambda pk: load(pk)
        )
    return await StockCount.get(id=count_id), replayed


def _validate_batch(lines: list[CountedLine], key: str) -> None:
    problems = Problems()
    problems.check_key(key)
    if not lines:
        problems.add(ErrorCode.INVALID, "at least one line is required", "lines")
    if len(lines) > MAX_BATCH_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_BATCH_LINES} lines per batch", "lines")
    for i, line in enumerate(lines):
        if not _is_units(line.counted):
            problems.add(ErrorCode.INVALID, f"counted must be a whole number 0–{MAX_UNITS:,}", f"lines.{i}.counted")
    problems.raise_if_any()


def _fold(lines: list[CountedLine]) -> dict[int, tuple[int | None, int]]:
    """Per variant, in the batch's order: (the last SET, or None) and the units added after it."""
    out: dict[int, tuple[int | None, int]] = {}
    for line in lines:
        set_to, add = out.get(line.variant_id, (None, 0))
        out[line.variant_id] = (line.counted, 0) if line.mode is CountMode.SET else (set_to, add + line.counted)
    return out


async def _ensure_lines(tx: Transaction, count: StockCount, lines: list[CountedLine]) -> None:
    """Lines for variants the count does not have yet: found during a full count (expected = what
    the ledger held at the start), refused in a cycle count."""
    wanted = sorted({line.variant_id for line in lines})
    rows = await fetch(
        tx.conn,
        "SELECT variant_id FROM stock_count_line WHERE count_id = ?"
        f" AND variant_id IN ({', '.join('?' for _ in wanted)})",
        [count.id, *wanted],
    )
    missing = [v for v in wanted if v not in {r["variant_id"] for r in rows}]
    if not missing:
        return
    if count.kind is CountKind.CYCLE:
        raise OperationError(
            [
                Problem(
                    ErrorCode.INVALID, f"variant {line.variant_id} is not in this cycle count", f"lines.{i}.variant"
                )
                for i, line in enumerate(lines)
                if line.variant_id in missing
            ]
        )
    expected = await expected_at(tx, count.branch_id, count.start_sequence, missing)
    await StockCountLine.bulk_create(
        [StockCountLine(count_id=count.id, variant_id=v, expected_at_start=expected[v]) for v in missing]
    )
