"""Counts under concurrency: the same suite holds on SQLite and on PostgreSQL."""

import asyncio

from models.counts import CountKind, CountStatus, StockCount
from models.stock import StockLevel, StockMovement, StockPosting
from operations.counts import counting as ops
from operations.counts import review as count_review
from operations.counts import views as count_views
from operations.kernel.errors import OperationError
from operations.stock.adjustments import check_ledger
from tests.counts.conftest import sell
from tests.factories import deduct


async def on_hand(branch_id: int, variant_id: int) -> int:
    return (await StockLevel.get(branch_id=branch_id, variant_id=variant_id)).on_hand


async def counted(actor, count_id: int, variant_id: int) -> int | None:
    count = await StockCount.get(id=count_id)
    lines = await count_views.line_figures(actor, count, first=100)
    return next(f.counted for f in lines if f.variant_id == variant_id)


async def in_review(s, found: int):
    count, _ = await ops.open_stock_count(s.clerk, ops.NewCount(s.branch.id, CountKind.FULL, "open"))
    await ops.record_counted(s.clerk, count.id, [ops.CountedLine(s.kurta.id, found)], "scan")
    await count_review.submit_stock_count(s.clerk, count.id)
    return count


async def test_concurrent_approvals_post_once(store):
    s = store
    count = await in_review(s, 7)
    results = await asyncio.gather(*(count_review.approve_stock_count(s.manager, count.id) for _ in range(8)))
    assert sum(not replayed for _, replayed in results) == 1
    assert {c.status for c, _ in results} == {CountStatus.APPROVED}
    assert len({c.posting_id for c, _ in results}) == 1
    assert await on_hand(s.branch.id, s.kurta.id) == 7
    assert await StockMovement.filter(reason="count").count() == 1
    assert await StockPosting.filter(reason="count").count() == 1
    assert await check_ledger() == ([], [])


async def test_approval_racing_abandon_applies_at_most_once(store):
    s = store
    count = await in_review(s, 6)
    results = await asyncio.gather(
        count_review.approve_stock_count(s.manager, count.id),
        count_review.abandon_stock_count(s.clerk, count.id),
        count_review.approve_stock_count(s.manager, count.id),
        return_exceptions=True,
    )
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, OperationError)]
    assert not unexpected, unexpected
    final = await StockCount.get(id=count.id)
    expected = 6 if final.status is CountStatus.APPROVED else 10
    assert await on_hand(s.branch.id, s.kurta.id) == expected
    assert await StockMovement.filter(reason="count").count() == (1 if expected == 6 else 0)


async def test_counters_scanning_at_once_lose_no_scan_and_a_resent_batch_counts_once(store):
    s = store
    count, _ = await ops.open_stock_count(s.clerk, ops.NewCount(s.branch.id, CountKind.FULL, "open"))
    scans = [ops.record_counted(s.clerk, count.id, [ops.CountedLine(s.kurta.id, 1)], f"scan-{i}") for i in range(20)]
    resent = [ops.record_counted(s.clerk, count.id, [ops.CountedLine(s.shawl.id, 2)], "shawl") for _ in range(10)]
    results = await asyncio.gather(*scans, *resent)
    assert sum(replayed for _, replayed in results[20:]) == 9
    assert await counted(s.manager, count.id, s.kurta.id) == 20
    assert await counted(s.manager, count.id, s.shawl.id) == 2


async def test_sales_racing_the_count_and_its_approval_keep_the_ledger_true(store):
    """Scans, sales and the approval all at once: whatever order they land in, each sale stands and
    the count posts only its variance (found − what the ledger held when the line was counted)."""
    s = store
    count, _ = await ops.open_stock_count(s.clerk, ops.NewCount(s.branch.id, CountKind.FULL, "open"))
    await asyncio.gather(
        *(sell(s, s.shawl) for _ in range(3)),
        ops.record_counted(s.clerk, count.id, [ops.CountedLine(s.shawl.id, 5)], "scan"),
    )
    await count_review.submit_stock_count(s.clerk, count.id)
    results = await asyncio.gather(
        count_review.approve_stock_count(s.manager, count.id),
        count_review.approve_stock_count(s.manager, count.id),
        *(sell(s, s.shawl) for _ in range(2)),
    )
    sold = 5
    [line] = [
        f
        for f in await count_views.line_figures(s.manager, await StockCount.get(id=count.id), first=100)
        if f.variant_id == s.shawl.id
    ]
    # The variance is judged against what the ledger held when the shelf was counted.
    assert line.variance == 5 - (10 + line.movements_since_start)
    assert await on_hand(s.branch.id, s.shawl.id) == 10 - sold + line.variance
    assert sum(not replayed for _, replayed in results[:2]) == 1
    assert await StockMovement.filter(reason="count").count() == (1 if line.variance else 0)
    assert await check_ledger() == ([], [])


async def test_the_opening_snapshot_agrees_with_its_sequence_while_sales_commit(store):
    """expected at start + movements since = on hand, for every line, however the opening
    interleaves with sales committing at the same branch (a torn snapshot would count a sale
    twice or not at all)."""
    s = store
    opens = [ops.open_stock_count(s.clerk, ops.NewCount(s.branch.id, CountKind.FULL, f"open-{i}")) for i in range(4)]
    results = await asyncio.gather(
        *(deduct([(s.branch.id, v.id, 1)], key=f"sale-{v.id}-{i}") for i in range(4) for v in (s.kurta, s.shawl)),
        *opens,
    )
    for count, _ in results[-4:]:
        for line in await count_views.line_figures(s.manager, await StockCount.get(id=count.id), first=100):
            assert line.expected_at_start + line.movements_since_start == await on_hand(s.branch.id, line.variant_id)
