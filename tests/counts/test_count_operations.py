"""Stock counts at the operations level: variance while sales go on, batches, blind counts, states."""

import pytest

from models.counts import CountKind, CountStatus, StockCount, StockCountLine
from models.outbox import OutboxRow
from models.staff import AuditEntry
from models.stock import StockLevel, StockMovement, StockPosting
from operations.counts import counting as ops
from operations.counts import review as count_review
from operations.counts import views as count_views
from operations.kernel.access import AccessDenied
from operations.kernel.errors import OperationError
from operations.stock.adjustments import check_ledger
from tests.counts.conftest import sell
from tests.factories import make_variants, stock


async def on_hand(branch_id: int, variant_id: int) -> int:
    return (await StockLevel.get(branch_id=branch_id, variant_id=variant_id)).on_hand


async def open_full(s, key="open", actor=None, **kw):
    count, _ = await ops.open_stock_count(actor or s.clerk, ops.NewCount(s.branch.id, CountKind.FULL, key, **kw))
    return count


async def record(s, count, lines, key, actor=None):
    return await ops.record_counted(actor or s.clerk, count.id, [ops.CountedLine(*line) for line in lines], key)


async def figures(actor, count) -> dict[int, count_views.LineFigures]:
    count = await StockCount.get(id=count.id)
    return {f.variant_id: f for f in await count_views.line_figures(actor, count, first=100)}


def codes(error: OperationError) -> list[tuple[str, str | None]]:
    return [(p.code.value, p.field) for p in error.problems]


async def test_sales_during_the_count_are_not_undone(store):
    """Expected 10 at start, 3 sold while counting, 6 found: variance −1, on hand 6 (not 6 − 3)."""
    s = store
    count = await open_full(s)
    assert count.status is CountStatus.OPEN
    for _ in range(3):
        await sell(s, s.kurta)
    await record(s, count, [(s.kurta.id, 4), (s.kurta.id, 2), (s.shawl.id, 10)], "scan-1")  # two scans add up

    line = (await figures(s.manager, count))[s.kurta.id]
    assert (line.expected_at_start, line.movements_since_start, line.counted, line.variance) == (10, -3, 6, -1)

    await count_review.submit_stock_count(s.clerk, count.id)
    approved, replayed = await count_review.approve_stock_count(s.manager, count.id)
    assert approved.status is CountStatus.APPROVED and not replayed
    assert await on_hand(s.branch.id, s.kurta.id) == 6
    assert await on_hand(s.branch.id, s.shawl.id) == 10
    posting = await StockPosting.get(id=approved.posting_id)
    assert (posting.reason, posting.reference_type, posting.reference_id) == ("count", "stock_count", str(count.id))
    moves = await StockMovement.filter(posting_id=posting.id)
    assert [(m.variant_id, m.delta, m.reason) for m in moves] == [(s.kurta.id, -1, "count")]
    # Shopify hears of the correction as a delta through the outbox, like any other adjustment.
    assert await OutboxRow.filter(key=f"movement:{moves[0].id}").exists()
    # The figures are frozen as posted.
    frozen = (await figures(s.manager, count))[s.kurta.id]
    assert (frozen.movements_since_start, frozen.variance) == (-3, -1)
    assert await AuditEntry.filter(action="stock_count.approved", approved_by_staff_id=s.manager.staff_id).exists()
    assert await check_ledger() == ([], [])


async def test_a_sale_after_the_shelf_was_counted_is_not_counted_against_it(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 10)], "scan-1")  # all there
    await sell(s, s.kurta, 2)  # sold after counting, before approval
    await count_review.submit_stock_count(s.clerk, count.id)
    await count_review.approve_stock_count(s.manager, count.id)
    assert await on_hand(s.branch.id, s.kurta.id) == 8  # nothing posted for kurta: variance 0
    assert not await StockMovement.filter(reason="count").exists()


async def test_a_retried_batch_counts_once_and_set_replaces(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 3)], "scan-1")
    _, replayed = await record(s, count, [(s.kurta.id, 3)], "scan-1")
    assert replayed
    assert (await figures(s.clerk, count))[s.kurta.id].counted == 3
    await record(s, count, [(s.kurta.id, 2)], "scan-2")
    assert (await figures(s.clerk, count))[s.kurta.id].counted == 5
    await record(s, count, [(s.kurta.id, 7, ops.CountMode.SET), (s.kurta.id, 1)], "recount")
    assert (await figures(s.clerk, count))[s.kurta.id].counted == 8
    with pytest.raises(OperationError) as error:
        await record(s, count, [(s.kurta.id, 4)], "scan-1")  # same key, different batch
    assert codes(error.value) == [("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")]


async def test_uncounted_lines_are_left_alone_unless_the_counter_says_zero(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 9)], "scan")
    await count_review.submit_stock_count(s.clerk, count.id)
    await count_review.approve_stock_count(s.manager, count.id)
    assert (await on_hand(s.branch.id, s.kurta.id), await on_hand(s.branch.id, s.shawl.id)) == (9, 10)

    second = await open_full(s, key="open-2")
    await record(s, second, [(s.kurta.id, 9)], "scan-2")
    submitted, _ = await count_review.submit_stock_count(s.clerk, second.id, zero_uncounted=True)
    assert submitted.zero_uncounted and submitted.status is CountStatus.REVIEW
    assert (await figures(s.clerk, second))[s.shawl.id].counted == 0
    await count_review.approve_stock_count(s.manager, second.id)
    assert (await on_hand(s.branch.id, s.kurta.id), await on_hand(s.branch.id, s.shawl.id)) == (9, 0)


async def test_a_full_count_takes_a_variant_found_that_the_branch_never_had(store):
    s = store
    [stray] = await make_variants(1, prefix="STRAY")
    count = await open_full(s)
    await record(s, count, [(stray.id, 2)], "scan")
    line = (await figures(s.manager, count))[stray.id]
    assert (line.expected_at_start, line.variance) == (0, 2)
    await count_review.submit_stock_count(s.clerk, count.id)
    await count_review.approve_stock_count(s.manager, count.id)
    assert await on_hand(s.branch.id, stray.id) == 2


async def test_a_cycle_count_covers_its_variants_and_product_type_only(store):
    s = store
    others = await make_variants(2, prefix="SHOE")
    await stock(s.branch.id, others[0].id, 4)
    from models.catalog import Product, Variant

    await Product.filter(id=(await Variant.get(id=others[0].id)).product_id).update(product_type="Shoes")
    count, _ = await ops.open_stock_count(
        s.clerk, ops.NewCount(s.branch.id, CountKind.CYCLE, "cyc", variant_ids=[s.kurta.id], product_type="Shoes")
    )
    lines = await figures(s.manager, count)
    assert {v: f.expected_at_start for v, f in lines.items()} == {s.kurta.id: 10, others[0].id: 4, others[1].id: 0}
    with pytest.raises(OperationError) as error:
        await record(s, count, [(s.kurta.id, 1), (s.shawl.id, 1)], "scan")
    assert codes(error.value) == [("INVALID", "lines.1.variant")]
    assert (await figures(s.manager, count))[s.kurta.id].counted is None  # the whole batch refused


async def test_blind_counts_hide_expected_from_counters_not_from_managers(store):
    s = store
    count = await open_full(s, blind=True)
    await record(s, count, [(s.kurta.id, 7)], "scan")
    clerk_view = (await figures(s.clerk, count))[s.kurta.id]
    assert (clerk_view.counted, clerk_view.expected_at_start, clerk_view.variance) == (7, None, None)
    assert clerk_view.movements_since_start is None
    manager_view = (await figures(s.manager, count))[s.kurta.id]
    assert (manager_view.expected_at_start, manager_view.variance) == (10, -3)
    assert (await count_views.totals(s.clerk, await StockCount.get(id=count.id))).variance_units is None
    totals = await count_views.totals(s.manager, await StockCount.get(id=count.id))
    assert (totals.lines, totals.counted, totals.variance_units) == (2, 1, 3)
    # Open counts show expected to everyone who sees stock.
    seen = await open_full(s, key="open-seen")
    assert (await figures(s.clerk, seen))[s.kurta.id].expected_at_start == 10


async def test_abandoning_leaves_stock_untouched(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 1)], "scan")
    await count_review.submit_stock_count(s.clerk, count.id)
    abandoned, _ = await count_review.abandon_stock_count(s.clerk, count.id)
    assert abandoned.status is CountStatus.ABANDONED
    again, replayed = await count_review.abandon_stock_count(s.clerk, count.id)
    assert replayed and again.status is CountStatus.ABANDONED
    with pytest.raises(OperationError) as error:
        await count_review.approve_stock_count(s.manager, count.id)
    assert codes(error.value) == [("WRONG_STATE", "countId")]
    with pytest.raises(OperationError) as error:
        await record(s, count, [(s.kurta.id, 1)], "scan-late")
    assert codes(error.value) == [("WRONG_STATE", "countId")]
    assert await on_hand(s.branch.id, s.kurta.id) == 10
    assert not await StockMovement.filter(reason="count").exists()


async def test_approving_twice_in_a_row_posts_once(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 4)], "scan")
    with pytest.raises(OperationError) as error:
        await count_review.approve_stock_count(s.manager, count.id)  # still OPEN
    assert codes(error.value) == [("WRONG_STATE", "countId")]
    await count_review.submit_stock_count(s.clerk, count.id)
    first, replayed_first = await count_review.approve_stock_count(s.manager, count.id)
    second, replayed_second = await count_review.approve_stock_count(s.manager, count.id)
    assert (replayed_first, replayed_second) == (False, True)
    assert first.posting_id == second.posting_id
    assert await on_hand(s.branch.id, s.kurta.id) == 4
    assert await StockMovement.filter(reason="count").count() == 1


async def test_the_clerk_may_count_but_not_approve(store):
    s = store
    count = await open_full(s)
    await count_review.submit_stock_count(s.clerk, count.id)
    with pytest.raises(AccessDenied):
        await count_review.approve_stock_count(s.clerk, count.id)
    assert (await StockCount.get(id=count.id)).status is CountStatus.REVIEW


async def test_bad_input_gets_typed_errors_and_writes_nothing(store):
    s = store
    bad_opens = [
        (ops.NewCount(s.branch.id, CountKind.CYCLE, "k"), ("INVALID", "variantIds")),
        (ops.NewCount(s.branch.id, CountKind.FULL, "k", variant_ids=[s.kurta.id]), ("INVALID", "variantIds")),
        (ops.NewCount(s.branch.id, CountKind.CYCLE, "k", variant_ids=[999_999]), ("NOT_FOUND", "variantIds.0")),
        (ops.NewCount(s.branch.id, CountKind.CYCLE, "k", product_type="Nothing"), ("NOT_FOUND", "productType")),
        (ops.NewCount(s.branch.id, CountKind.FULL, ""), ("INVALID", "idempotencyKey")),
        (ops.NewCount(s.branch.id, CountKind.FULL, "k", note="x" * 1001), ("INVALID", "note")),
    ]
    for new, expected in bad_opens:
        with pytest.raises(OperationError) as error:
            await ops.open_stock_count(s.clerk, new)
        assert codes(error.value)[0] == expected
    assert await StockCount.all().count() == 0

    count = await open_full(s)
    bad_batches = [
        ([(s.kurta.id, -1)], ("INVALID", "lines.0.counted")),
        ([(s.kurta.id, 1), (999_999, 1)], ("NOT_FOUND", "lines.1.variant")),
        ([], ("INVALID", "lines")),
        ([(s.kurta.id, 2_000_000)], ("INVALID", "lines.0.counted")),
    ]
    for lines, expected in bad_batches:
        with pytest.raises(OperationError) as error:
            await record(s, count, lines, "bad")
        assert codes(error.value)[0] == expected
    with pytest.raises(OperationError) as error:  # SQL-side overflow of a scanned total
        await record(s, count, [(s.kurta.id, 1_000_000), (s.kurta.id, 1)], "too-many")
    assert codes(error.value) == [("INVALID", "lines.0.counted")]
    assert await StockCountLine.filter(counted__isnull=False).count() == 0
    with pytest.raises(OperationError) as error:
        await count_review.approve_stock_count(s.manager, 999_999)
    assert codes(error.value) == [("NOT_FOUND", "countId")]


async def test_a_branch_outside_your_scope_is_refused(store):
    s = store
    with pytest.raises(AccessDenied):
        await ops.open_stock_count(s.outsider, ops.NewCount(s.branch.id, CountKind.FULL, "k"))
    count = await open_full(s)
    for attempt in (
        lambda: record(s, count, [(s.kurta.id, 1)], "x", actor=s.outsider),
        lambda: count_review.submit_stock_count(s.outsider, count.id),
        lambda: count_review.abandon_stock_count(s.outsider, count.id),
        lambda: count_review.approve_stock_count(s.outsider, count.id),
        lambda: count_views.visible_count(s.outsider, count.id),
    ):
        with pytest.raises(AccessDenied):
            await attempt()
    assert await StockCount.all().count() == 1
    assert (await StockCount.get(id=count.id)).status is CountStatus.OPEN
    assert await StockCountLine.filter(counted__isnull=False).count() == 0


async def test_an_approval_that_would_take_stock_below_zero_is_refused_and_stays_in_review(store):
    s = store
    count = await open_full(s)
    await record(s, count, [(s.kurta.id, 2)], "scan")  # counted 2 of 10 (variance −8)
    await sell(s, s.kurta, 9)  # then 9 are sold: the count must have been wrong
    await count_review.submit_stock_count(s.clerk, count.id)
    with pytest.raises(OperationError) as error:
        await count_review.approve_stock_count(s.manager, count.id)
    assert codes(error.value) == [("INSUFFICIENT_STOCK", "countId")]
    assert (await StockCount.get(id=count.id)).status is CountStatus.REVIEW
    assert await on_hand(s.branch.id, s.kurta.id) == 1
    assert (await StockCountLine.get(count_id=count.id, variant_id=s.kurta.id)).variance is None
