"""Opening stock from an import: the ledger's bulk path.

An import brings hundreds of thousands of levels; `ledger.apply` (a guarded UPDATE per level) is
built for a sale's handful of lines and would take minutes. This path writes the same rows under
the same rules, a thousand levels per handful of statements:

- each (branch, variant) takes opening stock once, ever: an `opening_stock` row is claimed with
  `ON CONFLICT DO NOTHING` and only claimed rows move stock, so a re-import or a retried batch
  never counts the same units twice;
- the movement says `reason = import` and `shopify_effect = shopify_knows` (Shopify told us the
  number; nothing is pushed back);
- levels first (new ones inserted at their quantity; the rare existing one updated with SQL-side
  arithmetic), in (branch, variant) order like the ledger, then the branch sequences, then the
  movements with the levels after them, then live events after commit.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from models.stock import Bucket, ShopifyEffect
from operations.ledger import take_sequences
from operations.sql import db_time, fetch, insert_rows
from operations.stock_entries import AppliedMovement
from operations.transaction import Transaction
from subscriptions.channels import stock_channel

REASON = "import"
# SQLite allows 32,766 bound values per statement and PostgreSQL 32,767: stay well under.
ROWS_PER_STATEMENT = 1000

_MOVEMENT_COLUMNS = [
    ("posting_id", "int"),
    ("branch_id", "int"),
    ("variant_id", "int"),
    ("sequence", "bigint"),
    ("bucket", "text"),
    ("delta", "int"),
    ("reason", "text"),
    ("shopify_effect", "text"),
    ("on_hand_after", "int"),
    ("reserved_after", "int"),
    ("in_transit_after", "int"),
    ("damaged_after", "int"),
    ("occurred_at", "timestamptz"),
]
_LEVEL_COLUMNS = [
    ("branch_id", "int"),
    ("variant_id", "int"),
    ("on_hand", "int"),
    ("reserved", "int"),
    ("in_transit", "int"),
    ("damaged", "int"),
    ("reorder_point", "int"),
    ("version", "int"),
    ("updated_at", "timestamptz"),
]


@dataclass(frozen=True)
class OpeningLine:
    branch_id: int
    variant_id: int
    sku: str
    quantity: int


async def take_opening_stock(tx: Transaction, job_id: int, batch: int, lines: list[OpeningLine], actor: str) -> int:
    """Post the lines not taken before; returns how many movements were written."""
    conn = tx.conn
    now = datetime.now(UTC)
    lines = sorted(
        {(ln.branch_id, ln.variant_id): ln for ln in lines}.values(), key=lambda x: (x.branch_id, x.variant_id)
    )
    stamp = db_time(conn, now)
    rows = await insert_rows(
        conn,
        "opening_stock",
        [
            ("branch_id", "int"),
            ("variant_id", "int"),
            ("quantity", "int"),
            ("import_job_id", "int"),
            ("created_at", "timestamptz"),
        ],
        [(ln.branch_id, ln.variant_id, ln.quantity, job_id, stamp) for ln in lines],
        "ON CONFLICT (branch_id, variant_id) DO NOTHING RETURNING branch_id, variant_id",
    )
    claimed = {(r["branch_id"], r["variant_id"]) for r in rows}
    moving = [ln for ln in lines if (ln.branch_id, ln.variant_id) in claimed and ln.quantity != 0]
    if not moving:
        return 0

    key = f"import:{job_id}:{batch}"
    posting = await fetch(
        conn,
        "INSERT INTO stock_posting (idempotency_key, request_hash, reason, reference_type, reference_id, actor,"
        " note, occurred_at, created_at) VALUES (?, ?, ?, 'import_job', ?, ?, NULL, ?, ?) RETURNING id",
        [
            key,
            hashlib.sha256(key.encode()).hexdigest(),
            REASON,
            str(job_id),
            actor,
            db_time(conn, now),
            db_time(conn, now),
        ],
    )
    posting_id = posting[0]["id"]

    after = await _write_levels(tx, moving, now)
    counts: dict[int, int] = defaultdict(int)
    for ln in moving:
        counts[ln.branch_id] += 1
    next_sequence = await take_sequences(tx, counts)

    planned = []
    for ln in moving:
        planned.append((ln, next_sequence[ln.branch_id], after[(ln.branch_id, ln.variant_id)]))
        next_sequence[ln.branch_id] += 1
    inserted = await insert_rows(
        conn,
        "stock_movement",
        _MOVEMENT_COLUMNS,
        [
            (
                posting_id,
                ln.branch_id,
                ln.variant_id,
                sequence,
                Bucket.ON_HAND.value,
                ln.quantity,
                REASON,
                ShopifyEffect.SHOPIFY_KNOWS.value,
                state["on_hand"],
                state["reserved"],
                state["in_transit"],
                state["damaged"],
                stamp,
            )
            for ln, sequence, state in planned
        ],
        "RETURNING id, branch_id, sequence",
    )
    ids = {(r["branch_id"], r["sequence"]): r["id"] for r in inserted}
    applied = [
        AppliedMovement(
            id=ids[(ln.branch_id, sequence)],
            branch_id=ln.branch_id,
            variant_id=ln.variant_id,
            sku=ln.sku,
            bucket=Bucket.ON_HAND,
            delta=ln.quantity,
            reason=REASON,
            sequence=sequence,
            on_hand=state["on_hand"],
            reserved=state["reserved"],
            in_transit=state["in_transit"],
            damaged=state["damaged"],
            occurred_at=now,
        )
        for ln, sequence, state in planned
    ]
    for m in applied:
        tx.publish_after_commit(stock_channel(m.branch_id), m.event())
    return len(applied)


async def _write_levels(tx: Transaction, lines: list[OpeningLine], now: datetime) -> dict[tuple[int, int], dict]:
    """The level after each line: new levels start at the quantity, existing ones add it."""
    conn = tx.conn
    after: dict[tuple[int, int], dict] = {}
    stamp = db_time(conn, now)
    rows = await insert_rows(
        conn,
        "stock_level",
        _LEVEL_COLUMNS,
        [(ln.branch_id, ln.variant_id, ln.quantity, 0, 0, 0, 0, 1, stamp) for ln in lines],
        "ON CONFLICT (branch_id, variant_id) DO NOTHING"
        " RETURNING branch_id, variant_id, on_hand, reserved, in_transit, damaged",
    )
    for r in rows:
        after[(r["branch_id"], r["variant_id"])] = r
    for ln in lines:  # already in (branch, variant) order: the ledger's lock order
        if (ln.branch_id, ln.variant_id) in after:
            continue
        rows = await fetch(
            conn,
            "UPDATE stock_level SET on_hand = on_hand + ?, version = version + 1, updated_at = ?"
            " WHERE branch_id = ? AND variant_id = ? RETURNING branch_id, variant_id, on_hand, reserved, in_transit,"
            " damaged",
            [ln.quantity, db_time(conn, now), ln.branch_id, ln.variant_id],
        )
        after[(ln.branch_id, ln.variant_id)] = rows[0]
    return after
