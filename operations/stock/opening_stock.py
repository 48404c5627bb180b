"""Opening stock from an import: the ledger's bulk path.

An import brings hundreds of thousands of levels; `ledger.apply` (a guarded UPDATE per level) is
built for a sale's handful of lines and would take minutes. This path writes the same rows under
the same rules, a thousand levels per handful of statements:

- opening stock is taken only where the branch has no level for the variant yet: the level row is
  inserted at Shopify's quantity with `ON CONFLICT DO NOTHING`, and only inserted rows move stock.
  A re-import, a retried batch or a second import running at the same time never counts the same
  units twice; where Branchline already keeps a level (stock it counted itself, e.g. a variant
  made here and linked by SKU), its own number stands and any difference is drift for
  reconciliation to explain, never units added on top;
- the movement says `reason = import` and `shopify_effect = shopify_knows` (Shopify told us the
  number; nothing is pushed back);
- levels first, in (branch, variant) order like the ledger, then the branch sequences, then the
  movements with the levels after them, then live events after commit.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from models.stock import Bucket, MovementReason, ShopifyEffect
from operations.kernel import Transaction, db_time, fetch, insert_rows
from operations.stock.entries import stock_event
from operations.stock.ledger import take_sequences
from subscriptions.channels import stock_channel

REASON = MovementReason.IMPORT.value
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
    quantity: int  # sellable units on hand: Shopify's available + committed + reserved
    damaged: int = 0  # Shopify's damaged: on hand there, Branchline's damaged bucket here


@dataclass(frozen=True)
class OpeningResult:
    movements: int  # opening stock posted (new levels with a quantity)
    new_levels: int  # levels created, including those at zero
    kept: int  # levels Branchline already had: left as they are


async def take_opening_stock(
    tx: Transaction, job_id: int, batch: int, lines: list[OpeningLine], actor: str
) -> OpeningResult:
    """Create the levels that do not exist yet at their opening quantity, with their movements."""
    conn = tx.conn
    now = datetime.now(UTC)
    lines = sorted(
        {(ln.branch_id, ln.variant_id): ln for ln in lines}.values(), key=lambda x: (x.branch_id, x.variant_id)
    )
    stamp = db_time(conn, now)
    created = await insert_rows(
        conn,
        "stock_level",
        _LEVEL_COLUMNS,
        [(ln.branch_id, ln.variant_id, ln.quantity, 0, 0, ln.damaged, 0, 1, stamp) for ln in lines],
        # A created level holds exactly what was inserted, so only which rows were created comes back.
        "ON CONFLICT (branch_id, variant_id) DO NOTHING RETURNING branch_id, variant_id",
    )
    after = {(r["branch_id"], r["variant_id"]) for r in created}
    # One movement per bucket that holds units: on hand first, then damaged, each carrying the level
    # as it stands after it, so the ledger reads like two postings one after the other.
    moving: list[tuple[OpeningLine, str, int, tuple[int, int, int, int]]] = []
    on_hand_bucket, damaged_bucket = Bucket.ON_HAND.value, Bucket.DAMAGED.value
    for ln in lines:
        if (ln.branch_id, ln.variant_id) not in after:
            continue
        if ln.quantity:
            moving.append((ln, on_hand_bucket, ln.quantity, (ln.quantity, 0, 0, 0)))
        if ln.damaged:
            moving.append((ln, damaged_bucket, ln.damaged, (ln.quantity, 0, 0, ln.damaged)))
    result = OpeningResult(movements=len(moving), new_levels=len(after), kept=len(lines) - len(after))
    if not moving:
        return result

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

    counts: dict[int, int] = defaultdict(int)
    for ln, *_ in moving:
        counts[ln.branch_id] += 1
    next_sequence = await take_sequences(tx, counts)

    planned = []
    for entry in moving:
        planned.append((entry, next_sequence[entry[0].branch_id]))
        next_sequence[entry[0].branch_id] += 1
    effect = ShopifyEffect.SHOPIFY_KNOWS.value
    inserted = await insert_rows(
        conn,
        "stock_movement",
        _MOVEMENT_COLUMNS,
        [
            (posting_id, ln.branch_id, ln.variant_id, sequence, bucket, delta, REASON, effect, *levels, stamp)
            for (ln, bucket, delta, levels), sequence in planned
        ],
        "RETURNING id, branch_id, sequence",
    )
    ids = {(r["branch_id"], r["sequence"]): r["id"] for r in inserted}
    occurred_at = now.isoformat()
    channels = {branch_id: stock_channel(branch_id) for branch_id in counts}
    for (ln, bucket, delta, levels), sequence in planned:
        event = stock_event(
            ids[(ln.branch_id, sequence)],
            ln.branch_id,
            ln.variant_id,
            ln.sku,
            bucket,
            delta,
            REASON,
            sequence,
            levels,
            occurred_at,
        )
        tx.publish_after_commit(channels[ln.branch_id], event)
    return result
