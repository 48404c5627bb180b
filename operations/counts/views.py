"""What a count shows: each line's expected, movements since the start, counted and variance.

Until approval the figures are worked out when asked (movements keep arriving while counters scan);
approval freezes them on the lines, so afterwards everyone sees what was posted. A blind count
hides what the system expects from its counters: only staff who may approve at the branch see
expected, movements and variance. `figures` and `totals_of` work for many counts in one query each
(a page of counts costs the same as one count); `as_seen` and `totals_as_seen` apply the blind rule.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from models.counts import CountStatus, StockCount
from operations.counts.counting import load
from operations.kernel import Actor, Permission, fetch, read_time, require, transaction


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


# Each line of the counts asked for, with the on-hand movements of its window: after the count's start,
# up to when the line was counted (or now, if not yet). An approved count shows what approval froze.
_LINES = (
    "SELECT l.count_id, l.id, l.variant_id, v.sku, l.expected_at_start, l.counted, l.counted_at,"
    " c.status, l.variance AS frozen_variance,"
    " CASE WHEN c.status = ? THEN l.movements_since_start ELSE"
    " (SELECT COALESCE(SUM(m.delta), 0) FROM stock_movement m WHERE m.branch_id = c.branch_id"
    " AND m.variant_id = l.variant_id AND m.bucket = 'on_hand' AND m.sequence > c.start_sequence"
    " AND m.sequence <= COALESCE(l.counted_through_sequence, s.last_sequence, 0)) END AS since"
    "{numbered}"
    " FROM stock_count_line l JOIN stock_count c ON c.id = l.count_id JOIN variant v ON v.id = l.variant_id"
    " LEFT JOIN branch_stock_sequence s ON s.branch_id = c.branch_id"
    " WHERE l.count_id IN ({counts}) AND l.id > ?"
)
_VARIANCE = (
    "CASE WHEN f.status = ? THEN f.frozen_variance WHEN f.counted IS NULL THEN NULL"
    " ELSE f.counted - (f.expected_at_start + f.since) END"
)


def _lines(count_ids: list[int], after_line_id: int | None, *, numbered: bool) -> tuple[str, list]:
    marks = ", ".join("?" for _ in count_ids)
    number = ", ROW_NUMBER() OVER (PARTITION BY l.count_id ORDER BY l.id) AS n" if numbered else ""
    sql = _LINES.format(numbered=number, counts=marks)
    return sql, [CountStatus.APPROVED.value, *count_ids, after_line_id or 0]


async def figures(
    count_ids: list[int], *, first: int, after_line_id: int | None = None
) -> dict[int, list[LineFigures]]:
    """The first `first` lines (after `after_line_id`) of each count, in line order, all figures shown
    (`as_seen` hides what a blind count hides): one query, whatever the number of counts."""
    if not count_ids:
        return {}
    lines, values = _lines(count_ids, after_line_id, numbered=True)
    approved = CountStatus.APPROVED.value
    async with transaction() as tx:  # one statement: one snapshot of the ledger and the branches' sequences
        rows = await fetch(
            tx.conn,
            f"SELECT f.*, {_VARIANCE} AS variance FROM ({lines}) f WHERE f.n <= ? ORDER BY f.count_id, f.id",
            [approved, *values, first],
        )
    out: dict[int, list[LineFigures]] = {count_id: [] for count_id in count_ids}
    for r in rows:
        since = r["since"]
        out[r["count_id"]].append(
            LineFigures(
                line_id=r["id"],
                variant_id=r["variant_id"],
                sku=r["sku"],
                counted=r["counted"],
                counted_at=r["counted_at"] if not isinstance(r["counted_at"], str) else read_time(r["counted_at"]),
                expected_at_start=r["expected_at_start"],
                movements_since_start=None if since is None else int(since),
                variance=None if r["variance"] is None else int(r["variance"]),
            )
        )
    return out


async def totals_of(count_ids: list[int]) -> dict[int, CountTotals]:
    """How far each count got and how many units are off (`totals_as_seen` hides them when blind): one
    query, whatever the number of counts and their lines."""
    if not count_ids:
        return {}
    lines, values = _lines(count_ids, None, numbered=False)
    async with transaction() as tx:
        rows = await fetch(
            tx.conn,
            f"SELECT f.count_id, COUNT(*) AS lines, COUNT(f.counted) AS counted, SUM(ABS({_VARIANCE})) AS units"
            f" FROM ({lines}) f GROUP BY f.count_id",
            [CountStatus.APPROVED.value, *values],
        )
    found = {r["count_id"]: CountTotals(int(r["lines"]), int(r["counted"]), int(r["units"] or 0)) for r in rows}
    return {count_id: found.get(count_id, CountTotals(0, 0, 0)) for count_id in count_ids}


def as_seen(actor: Actor, count: StockCount, lines: list[LineFigures]) -> list[LineFigures]:
    """The lines as this caller may see them: a blind count hides expected, movements and variance."""
    if sees_expected(actor, count):
        return lines
    return [replace(f, expected_at_start=None, movements_since_start=None, variance=None) for f in lines]


def totals_as_seen(actor: Actor, count: StockCount, totals: CountTotals) -> CountTotals:
    return totals if sees_expected(actor, count) else replace(totals, variance_units=None)


async def line_figures(
    actor: Actor, count: StockCount, *, first: int, after_line_id: int | None = None
) -> list[LineFigures]:
    """One page of a count's lines in line order, as this caller may see them."""
    found = await figures([count.id], first=first, after_line_id=after_line_id)
    return as_seen(actor, count, found[count.id])


async def totals(actor: Actor, count: StockCount) -> CountTotals:
    """How far counting got, and (if shown) how many units are off."""
    return totals_as_seen(actor, count, (await totals_of([count.id]))[count.id])
