"""The stock ledger: the ONLY code that writes stock.

`apply()` posts a batch of movements inside the caller's transaction:

1. claims the posting's idempotency key (`INSERT ... ON CONFLICT DO NOTHING`); a key already
   posted returns the earlier result, a key reused for different movements is refused;
2. updates each (branch, variant) level once, in (branch id, variant id) order so concurrent
   batches cannot deadlock, with SQL-side arithmetic and a guard on the resulting state
   (`WHERE on_hand - reserved >= :needed`) — nothing reads a quantity and writes it back;
3. fails the whole batch with INSUFFICIENT_STOCK naming every short line;
4. takes the per-branch sequence last, so its row lock is held only until commit and sequences
   follow commit order (a client resuming after N never skips a change that commits later);
5. appends the movements with the resulting levels and queues live events for after commit.

Call it once per transaction, as the last write: a second call could take sequence locks out
of order with another transaction's level locks.

`operations/stock/opening_stock.py` is the ledger's one other writer: the import's bulk path for
opening stock, following the same rules (levels in order, then sequences, then movements).
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from models.stock import Bucket, MovementReason, ShopifyEffect
from operations.kernel import ErrorCode, OperationError, Problem, Problems, Transaction, db_time, fetch, read_time
from operations.stock.entries import (
    AppliedMovement,
    InsufficientStock,
    Movement,
    Posting,
    PostingResult,
    Shortage,
)
from subscriptions.channels import stock_channel

MAX_UNITS_PER_MOVEMENT = 1_000_000
MAX_MOVEMENTS_PER_POSTING = 500
_BUCKET_COLUMNS = {
    Bucket.ON_HAND: "on_hand",
    Bucket.RESERVED: "reserved",
    Bucket.IN_TRANSIT: "in_transit",
    Bucket.DAMAGED: "damaged",
}


@dataclass
class _Level:
    """All of a batch's movements on one (branch, variant), applied as one guarded UPDATE."""

    branch_id: int
    variant_id: int
    movements: list[tuple[int, Movement]] = field(default_factory=list)  # (input index, movement)

    def total(self, bucket: Bucket) -> int:
        return sum(m.delta for _, m in self.movements if m.bucket is bucket)

    @property
    def expected_on_hand(self) -> int | None:
        values = {m.expected_on_hand for _, m in self.movements if m.expected_on_hand is not None}
        return values.pop() if values else None


def line_of(index: int, movement: Movement) -> int:
    """The request line a movement answers for in error fields."""
    return movement.line if movement.line is not None else index


def validate(posting: Posting, movements: list[Movement]) -> None:
    problems = Problems()
    key = posting.idempotency_key
    problems.check_key(key)
    if len(movements) > MAX_MOVEMENTS_PER_POSTING:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_MOVEMENTS_PER_POSTING} lines per request", "lines")
    for i, m in enumerate(movements):
        if m.delta == 0:
            problems.add(ErrorCode.INVALID, "quantity must not be zero", f"lines.{line_of(i, m)}.quantity")
        elif abs(m.delta) > MAX_UNITS_PER_MOVEMENT:
            problems.add(
                ErrorCode.INVALID,
                f"quantity must be at most {MAX_UNITS_PER_MOVEMENT:,} units",
                f"lines.{line_of(i, m)}.quantity",
            )
    problems.raise_if_any()
    for m in movements:  # a bug, not the client's: every reason written is one clients can be told
        if (m.reason or posting.reason) not in _REASONS:
            raise ValueError(f"{m.reason or posting.reason!r} is not a MovementReason (models/stock.py)")


_REASONS = frozenset(r.value for r in MovementReason)


@dataclass(frozen=True)
class References:
    """What a caller read for this very request and the ledger would read again: each variant's
    SKU (for the events and errors), each branch's allow_negative_stock, and which of the variants are not
    tracked (no shortage refuses them). Only ids that exist belong here."""

    skus: dict[int, str]
    negative_ok: dict[int, bool]
    untracked: frozenset[int] = frozenset()

    def cover(self, movements: list[Movement]) -> bool:
        return all(m.variant_id in self.skus and m.branch_id in self.negative_ok for m in movements)


async def apply(
    tx: Transaction, posting: Posting, movements: list[Movement], references: References | None = None
) -> PostingResult:
    validate(posting, movements)
    conn = tx.conn
    now = datetime.now(UTC)
    occurred_at = posting.occurred_at or now
    request_hash = posting.request_hash or _request_hash(posting, movements)

    claimed = await fetch(
        conn,
        "INSERT INTO stock_posting (idempotency_key, request_hash, reason, reference_type, reference_id, actor,"
        " note, occurred_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        [
            posting.idempotency_key,
            request_hash,
            posting.reason,
            posting.reference_type,
            posting.reference_id,
            posting.actor,
            posting.note,
            db_time(conn, occurred_at),
            db_time(conn, now),
        ],
    )
    if not claimed:
        return await _earlier_result(tx, posting.idempotency_key, request_hash)
    posting_id = claimed[0]["id"]

    if not movements:  # e.g. a count that matched: recorded, so a retry returns the same
        return PostingResult(posting_id, posting.idempotency_key, [])
    if references is not None and references.cover(movements):
        skus, negative_ok, untracked = references.skus, references.negative_ok, references.untracked
    else:
        skus, negative_ok, untracked = await _check_references(tx, movements)
    levels = _group(movements)
    after = await _update_levels(tx, levels, posting, negative_ok, untracked, skus, now)
    sequences = await _take_sequences(tx, levels)
    applied = await _append_movements(tx, posting_id, posting, levels, after, sequences, skus, occurred_at)
    pushed = [a for a, m in zip(applied, _flat(levels), strict=True) if m.shopify_effect is ShopifyEffect.PUSH]
    await _queue_for_shopify(tx, pushed, now)
    for m in applied:
        tx.publish_after_commit(stock_channel(m.branch_id), m.event())
    return PostingResult(posting_id, posting.idempotency_key, applied)


def _request_hash(posting: Posting, movements: list[Movement]) -> str:
    body = {
        "reason": posting.reason,
        "reference": [posting.reference_type, posting.reference_id],
        "movements": [
            [m.branch_id, m.variant_id, m.delta, m.bucket.value, m.reason, m.expected_on_hand] for m in movements
        ],
    }
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


async def _earlier_result(tx: Transaction, key: str, request_hash: str) -> PostingResult:
    rows = await fetch(tx.conn, "SELECT id, request_hash FROM stock_posting WHERE idempotency_key = ?", [key])
    if rows[0]["request_hash"] != request_hash:
        raise OperationError.single(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotencyKey was already used for a different stock change",
            "idempotencyKey",
        )
    posting_id = rows[0]["id"]
    return PostingResult(posting_id, key, await movements_of_posting(tx, posting_id), replayed=True)


_MOVEMENT_COLUMNS = (
    "SELECT m.id, m.branch_id, m.variant_id, v.sku, m.bucket, m.delta, m.reason, m.sequence,"
    " m.on_hand_after, m.reserved_after, m.in_transit_after, m.damaged_after, m.occurred_at"
    " FROM stock_movement m JOIN variant v ON v.id = m.variant_id"
)


async def movements_of_posting(tx: Transaction, posting_id: int) -> list[AppliedMovement]:
    rows = await fetch(tx.conn, f"{_MOVEMENT_COLUMNS} WHERE m.posting_id = ? ORDER BY m.id", [posting_id])
    return [_applied(r) for r in rows]


async def movements_after(
    tx: Transaction, branch_id: int, after: int, up_to: int | None = None, limit: int = 500
) -> list[AppliedMovement]:
    """A branch's movements with sequence in (after, up_to], in sequence order: for catching up."""
    rows = await fetch(
        tx.conn,
        f"{_MOVEMENT_COLUMNS} WHERE m.branch_id = ? AND m.sequence > ? AND m.sequence <= ? ORDER BY m.sequence LIMIT ?",
        [branch_id, after, up_to if up_to is not None else 2**62, limit],
    )
    return [_applied(r) for r in rows]


def _applied(r: dict) -> AppliedMovement:
    return AppliedMovement(
        id=r["id"],
        branch_id=r["branch_id"],
        variant_id=r["variant_id"],
        sku=r["sku"],
        bucket=Bucket(r["bucket"]),
        delta=r["delta"],
        reason=r["reason"],
        sequence=r["sequence"],
        on_hand=r["on_hand_after"],
        reserved=r["reserved_after"],
        in_transit=r["in_transit_after"],
        damaged=r["damaged_after"],
        occurred_at=read_time(r["occurred_at"]),
    )


def _in_list(values) -> str:
    return ", ".join("?" for _ in values)


async def _check_references(
    tx: Transaction, movements: list[Movement]
) -> tuple[dict[int, str], dict[int, bool], set[int]]:
    """The variants' SKUs, whether each branch may go below zero, and the variants whose stock is not
    tracked (`Variant.tracked` false: a service, gift wrapping), which no shortage ever refuses."""
    variant_ids = sorted({m.variant_id for m in movements})
    branch_ids = sorted({m.branch_id for m in movements})
    variants = await fetch(
        tx.conn, f"SELECT id, sku, tracked FROM variant WHERE id IN ({_in_list(variant_ids)})", variant_ids
    )
    branches = await fetch(
        tx.conn, f"SELECT id, allow_negative_stock FROM branch WHERE id IN ({_in_list(branch_ids)})", branch_ids
    )
    skus = {r["id"]: r["sku"] for r in variants}
    negative_ok = {r["id"]: bool(r["allow_negative_stock"]) for r in branches}
    problems = Problems()
    for i, m in enumerate(movements):
        if m.branch_id not in negative_ok:
            problems.add(ErrorCode.NOT_FOUND, f"branch {m.branch_id} does not exist", f"lines.{line_of(i, m)}.branchId")
        if m.variant_id not in skus:
            problems.add(
                ErrorCode.NOT_FOUND, f"variant {m.variant_id} does not exist", f"lines.{line_of(i, m)}.variantId"
            )
    problems.raise_if_any()
    return skus, negative_ok, {r["id"] for r in variants if not r["tracked"]}


def _group(movements: list[Movement]) -> list[_Level]:
    by_level: dict[tuple[int, int], _Level] = defaultdict(lambda: _Level(0, 0))
    for i, m in enumerate(movements):
        level = by_level[(m.branch_id, m.variant_id)]
        level.branch_id, level.variant_id = m.branch_id, m.variant_id
        level.movements.append((i, m))
    # The fixed lock order that keeps concurrent batches from deadlocking on PostgreSQL.
    return [by_level[k] for k in sorted(by_level)]


async def _update_levels(
    tx: Transaction,
    levels: list[_Level],
    posting: Posting,
    negative_ok: dict[int, bool],
    untracked: set[int],
    skus: dict[int, str],
    now: datetime,
) -> dict[tuple[int, int], dict]:
    after: dict[tuple[int, int], dict] = {}
    shortages: list[tuple[int, Shortage]] = []
    fields: dict[tuple[int, int], str] = {}
    changed: list[Problem] = []
    for level in levels:
        key = (level.branch_id, level.variant_id)
        fields[key] = f"lines.{line_of(*level.movements[0])}.quantity"
        allow_negative = posting.allow_negative if posting.allow_negative is not None else negative_ok[level.branch_id]
        allow_negative = allow_negative or level.variant_id in untracked
        sql, values = _guarded_update(tx, level, allow_negative, now)
        rows = await fetch(tx.conn, sql, values)
        if not rows and await _create_level_if_missing(tx, level):
            rows = await fetch(tx.conn, sql, values)
        if rows:
            after[key] = rows[0]
            continue
        current = await _current_level(tx, level)
        expected = level.expected_on_hand
        if expected is not None and current["on_hand"] != expected:
            changed.append(
                Problem(
                    ErrorCode.STOCK_CHANGED,
                    f"{skus[level.variant_id]}: on hand changed from {expected} to {current['on_hand']} meanwhile",
                    fields[key],
                )
            )
            continue
        shortages.append((level.movements[0][0], _shortage(level, current, skus[level.variant_id])))
    if changed:
        raise OperationError(changed)
    if shortages:  # reported in the order the client listed the lines
        raise InsufficientStock([s for _, s in sorted(shortages, key=lambda x: x[0])], fields)
    return after


def _guarded_update(tx: Transaction, level: _Level, allow_negative: bool, now: datetime) -> tuple[str, list]:
    d = {bucket: level.total(bucket) for bucket in Bucket}
    guards, guard_values = [], []
    available_change = d[Bucket.ON_HAND] - d[Bucket.RESERVED]
    # Guard only what the batch makes worse: a receipt must still land at a branch that is
    # already below zero.
    if available_change < 0 and not allow_negative:
        guards.append("on_hand - reserved >= ?")
        guard_values.append(-available_change)
    for bucket in (Bucket.RESERVED, Bucket.IN_TRANSIT, Bucket.DAMAGED):
        if d[bucket] < 0:  # these never go below zero, whatever the branch setting
            guards.append(f"{_BUCKET_COLUMNS[bucket]} >= ?")
            guard_values.append(-d[bucket])
    if level.expected_on_hand is not None:
        guards.append("on_hand = ?")
        guard_values.append(level.expected_on_hand)
    where = " AND ".join(["branch_id = ?", "variant_id = ?", *guards])
    sql = (
        "UPDATE stock_level SET on_hand = on_hand + ?, reserved = reserved + ?, in_transit = in_transit + ?,"
        " damaged = damaged + ?, version = version + 1, updated_at = ?"
        f" WHERE {where} RETURNING on_hand, reserved, in_transit, damaged"
    )
    values = [
        d[Bucket.ON_HAND],
        d[Bucket.RESERVED],
        d[Bucket.IN_TRANSIT],
        d[Bucket.DAMAGED],
        db_time(tx.conn, now),
        level.branch_id,
        level.variant_id,
        *guard_values,
    ]
    return sql, values


async def _create_level_if_missing(tx: Transaction, level: _Level) -> bool:
    """Levels are created on first movement; True when this call created one."""
    rows = await fetch(
        tx.conn,
        "INSERT INTO stock_level (branch_id, variant_id, on_hand, reserved, in_transit, damaged, reorder_point,"
        " version, updated_at) VALUES (?, ?, 0, 0, 0, 0, 0, 0, ?)"
        " ON CONFLICT (branch_id, variant_id) DO NOTHING RETURNING id",
        [level.branch_id, level.variant_id, db_time(tx.conn, datetime.now(UTC))],
    )
    return bool(rows)


async def _current_level(tx: Transaction, level: _Level) -> dict:
    rows = await fetch(
        tx.conn,
        "SELECT on_hand, reserved, in_transit, damaged FROM stock_level WHERE branch_id = ? AND variant_id = ?",
        [level.branch_id, level.variant_id],
    )
    return rows[0] if rows else {"on_hand": 0, "reserved": 0, "in_transit": 0, "damaged": 0}


def _shortage(level: _Level, current: dict, sku: str) -> Shortage:
    d_available = level.total(Bucket.ON_HAND) - level.total(Bucket.RESERVED)
    if d_available < 0:
        return Shortage(level.branch_id, level.variant_id, sku, -d_available, current["on_hand"] - current["reserved"])
    # Short in another bucket (releasing more reserved / in-transit / damaged units than held).
    bucket = next(b for b in (Bucket.RESERVED, Bucket.IN_TRANSIT, Bucket.DAMAGED) if level.total(b) < 0)
    return Shortage(level.branch_id, level.variant_id, sku, -level.total(bucket), current[_BUCKET_COLUMNS[bucket]])


async def _take_sequences(tx: Transaction, levels: list[_Level]) -> dict[int, int]:
    """First sequence number of this batch per branch (consecutive numbers follow)."""
    counts: dict[int, int] = defaultdict(int)
    for level in levels:
        counts[level.branch_id] += len(level.movements)
    return await take_sequences(tx, counts)


async def take_sequences(tx: Transaction, counts: dict[int, int]) -> dict[int, int]:
    """Reserve `counts[branch]` consecutive sequence numbers per branch (in branch order, after
    the level writes); returns the first number of each branch's run."""
    first: dict[int, int] = {}
    for branch_id in sorted(counts):
        sql = (
            "UPDATE branch_stock_sequence SET last_sequence = last_sequence + ? WHERE branch_id = ?"
            " RETURNING last_sequence"
        )
        rows = await fetch(tx.conn, sql, [counts[branch_id], branch_id])
        if not rows:
            await fetch(
                tx.conn,
                "INSERT INTO branch_stock_sequence (branch_id, last_sequence) VALUES (?, 0)"
                " ON CONFLICT (branch_id) DO NOTHING",
                [branch_id],
            )
            rows = await fetch(tx.conn, sql, [counts[branch_id], branch_id])
        first[branch_id] = rows[0]["last_sequence"] - counts[branch_id] + 1
    return first


async def _append_movements(
    tx: Transaction,
    posting_id: int,
    posting: Posting,
    levels: list[_Level],
    after: dict[tuple[int, int], dict],
    first_sequence: dict[int, int],
    skus: dict[int, str],
    occurred_at: datetime,
) -> list[AppliedMovement]:
    next_sequence = dict(first_sequence)
    applied: list[AppliedMovement] = []
    rows: list[tuple[Movement, dict[Bucket, int]]] = []
    for level in levels:
        final = after[(level.branch_id, level.variant_id)]
        # The levels after each movement: walk back from the final state through the batch.
        state = {b: final[_BUCKET_COLUMNS[b]] for b in Bucket}
        states_backwards = []
        for _, m in reversed(level.movements):
            states_backwards.append(dict(state))
            state[m.bucket] -= m.delta
        rows += [(m, st) for (_, m), st in zip(level.movements, reversed(states_backwards), strict=True)]
    values: list = []
    placeholders: list[str] = []
    pending: list[tuple[Movement, dict, int]] = []
    conn = tx.conn
    for m, state in rows:
        sequence = next_sequence[m.branch_id]
        next_sequence[m.branch_id] += 1
        pending.append((m, state, sequence))
        placeholders.append("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        values += [
            posting_id,
            m.branch_id,
            m.variant_id,
            sequence,
            m.bucket.value,
            m.delta,
            m.reason or posting.reason,
            m.shopify_effect.value,
            state[Bucket.ON_HAND],
            state[Bucket.RESERVED],
            state[Bucket.IN_TRANSIT],
            state[Bucket.DAMAGED],
            db_time(conn, occurred_at),
        ]
    inserted = await fetch(
        conn,
        "INSERT INTO stock_movement (posting_id, branch_id, variant_id, sequence, bucket, delta, reason,"
        " shopify_effect, on_hand_after, reserved_after, in_transit_after, damaged_after, occurred_at)"
        f" VALUES {', '.join(placeholders)} RETURNING id, branch_id, sequence",
        values,
    )
    ids = {(r["branch_id"], r["sequence"]): r["id"] for r in inserted}
    for m, state, sequence in pending:
        applied.append(
            AppliedMovement(
                id=ids[(m.branch_id, sequence)],
                branch_id=m.branch_id,
                variant_id=m.variant_id,
                sku=skus[m.variant_id],
                bucket=m.bucket,
                delta=m.delta,
                reason=m.reason or posting.reason,
                sequence=sequence,
                on_hand=state[Bucket.ON_HAND],
                reserved=state[Bucket.RESERVED],
                in_transit=state[Bucket.IN_TRANSIT],
                damaged=state[Bucket.DAMAGED],
                occurred_at=occurred_at,
            )
        )
    return applied


async def set_reorder_points(
    tx: Transaction, branch_id: int, points: dict[int, int], quantities: dict[int, int] | None = None
) -> None:
    """Reorder points (and, when given, reorder quantities) live on the level row: settings, not
    stock, so no movement is written. A variant without a given quantity keeps its own."""
    now = db_time(tx.conn, datetime.now(UTC))
    quantities = quantities or {}
    for variant_id in sorted(points):  # the same lock order as stock changes
        quantity = quantities.get(variant_id)
        keep = "" if quantity is None else ", reorder_quantity = excluded.reorder_quantity"
        await fetch(
            tx.conn,
            "INSERT INTO stock_level (branch_id, variant_id, on_hand, reserved, in_transit, damaged, reorder_point,"
            " reorder_quantity, version, updated_at) VALUES (?, ?, 0, 0, 0, 0, ?, ?, 0, ?)"
            f" ON CONFLICT (branch_id, variant_id) DO UPDATE SET reorder_point = excluded.reorder_point{keep}",
            [branch_id, variant_id, points[variant_id], quantity or 0, now],
        )


def _flat(levels: list[_Level]) -> list[Movement]:
    return [m for level in levels for _, m in level.movements]


async def _queue_for_shopify(tx: Transaction, movements: list[AppliedMovement], now: datetime) -> None:
    """One outbox row per movement Shopify does not already know about (docs/architecture.md, Shopify sync), written in
    this transaction: the Shopify sync pushes it later, exactly once, even across restarts."""
    if not movements:
        return
    placeholders, values = [], []
    for m in movements:
        placeholders.append("(?, ?, ?, 'pending', 0, ?)")
        payload = {"movementId": m.id, "branchId": m.branch_id, "variantId": m.variant_id, "bucket": m.bucket.value}
        values += [
            "shopify.inventory_delta",
            f"movement:{m.id}",
            orjson.dumps(payload | {"delta": m.delta}).decode(),
            db_time(tx.conn, now),
        ]
    await fetch(
        tx.conn,
        f"INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES {', '.join(placeholders)}",
        values,
    )
