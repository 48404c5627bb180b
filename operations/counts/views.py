"""What a count shows: each line's expected, movements since the start, counted and variance.

Until approval the figures are worked out when asked (movements keep arriving while counters scan);
approval freezes them on the lines, so afterwards everyone sees what was posted. A blind count
hides what the system expects from its counters: only staff who may approve at the branch see
expected, movements and variance.
"""

from dataclasses import dataclass
from datetime import datetime

from models.counts import CountStatus, StockCount
from operations.counts.counting import branch_sequence, load
from operations.kernel.access import Actor, Permission, require
from operations.kernel.sql import fetch, read_time
from operations.kernel.transaction import transaction


@dataclass(frozen=True)
class LineFigures:
    line_id: int
    variant_id: int
    sku: str
    counted: int | None
    counted_at: datetime | None
    # None when hidden from this caller (a blind count), or not known yet (uncounted, or the
    # count was abandoned before approval froze it).
    expected_at_start: int | None
    movements_since_start: int | None
    variance: int | None


@dataclass(frozen=True)
class CountTotals:
    lines: int
    counted: int
    variance_units: int | None  # the sum of |variance| over counted lines; None when hidden


def sees_expected(actor: Actor, count: StockCount) -> bool:
    return not count.blind or actor.can(Permission.APPROVE, count.branch_id)


async def visible_count(actor: Actor, count_id: int) -> StockCount:
    """A count the caller may look at (VIEW_STOCK at its branch)."""
    count = await load(count_id)
    require(actor, Permission.VIEW_STOCK, count.branch_id)
    return count


async def line_figures(
    actor: Actor, count: StockCount, *, first: int, after_line_id: int | None = None
) -> list[LineFigures]:
    """One page of lines in line order (a page of 100 costs two queries)."""
    shown = sees_expected(actor, count)
    async with transaction() as tx:
        now = await branch_sequence(tx, count.branch_id)
        # The window of each line: after the start, up to when it was counted (or now, if not yet).
        rows = await fetch(
            tx.conn,
            "SELECT l.id, l.variant_id, v.sku, l.expected_at_start, l.counted, l.counted_at,"
            " l.movements_since_start, l.variance,"
            " (SELECT COALESCE(SUM(m.delta), 0) FROM stock_movement m WHERE m.branch_id = ?"
            " AND m.variant_id = l.variant_id AND m.bucket = 'on_hand' AND m.sequence > ?"
            " AND m.sequence <= COALESCE(l.counted_through_sequence, ?)) AS live_since"
            " FROM stock_count_line l JOIN variant v ON v.id = l.variant_id"
            " WHERE l.count_id = ? AND l.id > ? ORDER BY l.id LIMIT ?",
            [count.branch_id, count.start_sequence, now, count.id, after_line_id or 0, first],
        )
    frozen = count.status is CountStatus.APPROVED
    out = []
    for r in rows:
        since = r["movements_since_start"] if frozen else int(r["live_since"])
        variance = r["variance"] if frozen else _variance(r["counted"], r["expected_at_start"], since)
        out.append(
            LineFigures(
                line_id=r["id"],
                variant_id=r["variant_id"],
                sku=r["sku"],
                counted=r["counted"],
                counted_at=r["counted_at"] if not isinstance(r["counted_at"], str) else read_time(r["counted_at"]),
                expected_at_start=r["expected_at_start"] if shown else None,
                movements_since_start=since if shown else None,
                variance=variance if shown else None,
            )
        )
    return out


def _variance(counted: int | None, expected: int, since: int) -> int | None:
    return None if counted is None else counted - (expected + since)


async def totals(actor: Actor, count: StockCount) -> CountTotals:
    """How far counting got, and (if shown) how many units are off."""
    figures: list[LineFigures] = []
    after = None
    while True:  # pages of 500, so even a large full count costs a few queries
        page = await line_figures(actor, count, first=500, after_line_id=after)
        figures += page
        if len(page) < 500:
            break
        after = page[-1].line_id
    counted = [f for f in figures if f.counted is not None]
    units = sum(abs(f.variance or 0) for f in counted) if sees_expected(actor, count) else None
    return CountTotals(lines=len(figures), counted=len(counted), variance_units=units)
