"""Offline sales: uploaded later, applied once whatever the retries, never refused for stock."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.catalog import Product
from models.sales import Sale, TenderType
from models.staff import AuditEntry
from models.stock import StockLevel
from operations.counter import checkouts as sales
from operations.counter import offline
from operations.directory.catalog import VariantRef
from operations.stock.adjustments import check_ledger


def upload(shop, offline_id: str, quantity: int, minutes_ago: int = 30) -> offline.OfflineSale:
    return offline.OfflineSale(
        offline_id=offline_id,
        occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        lines=[sales.CheckoutLine(VariantRef(id=shop.kurta.id), quantity)],
        payments=[sales.Payment(TenderType.CASH, Decimal("1180.00") * quantity)],
    )


async def test_the_same_upload_three_times_creates_each_sale_once(shop):
    batch = [upload(shop, "tab-1", 1), upload(shop, "tab-2", 2)]
    for _ in range(3):
        results = await offline.sync_offline_sales(shop.cashier, shop.counter.id, batch)
        assert [r.problems for r in results] == [[], []]
    concurrent = await asyncio.gather(
        *(offline.sync_offline_sales(shop.cashier, shop.counter.id, batch) for _ in range(3))
    )
    assert {r.sale.id for rs in concurrent for r in rs} == {r.sale.id for r in results}
    assert await Sale.all().count() == 2
    assert (await StockLevel.get(branch_id=shop.branch.id, variant_id=shop.kurta.id)).on_hand == 7
    first = await Sale.get(offline_id="tab-1")
    assert first.occurred_at < first.placed_at  # when it happened, not when it arrived


async def test_an_offline_sale_below_zero_is_applied_and_flagged(shop):
    [result] = await offline.sync_offline_sales(shop.cashier, shop.counter.id, [upload(shop, "tab-9", 12)])
    assert result.problems == [] and result.sale.oversold
    assert (await StockLevel.get(branch_id=shop.branch.id, variant_id=shop.kurta.id)).on_hand == -2
    assert await AuditEntry.filter(action="sale.oversold").count() == 1
    assert await check_ledger() == ([], [])


async def test_bad_uploads_are_reported_per_sale_and_the_rest_applied(shop):
    future = upload(shop, "tab-f", 1, minutes_ago=-120)
    short = offline.OfflineSale(
        "tab-s",
        datetime.now(UTC),
        [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)],
        [sales.Payment(TenderType.CASH, Decimal("1.00"))],
    )
    good = upload(shop, "tab-g", 1)
    results = await offline.sync_offline_sales(shop.cashier, shop.counter.id, [future, short, good])
    assert [(p.code.value, p.field) for p in results[0].problems] == [("INVALID", "sales.0.occurredAt")]
    assert [(p.code.value, p.field) for p in results[1].problems] == [("INVALID", "sales.1.tenders")]
    assert results[2].problems == [] and results[2].sale is not None
    assert await Sale.all().count() == 1


async def test_a_sale_made_offline_before_its_product_was_archived_still_syncs(shop):
    await Product.filter(id=shop.kurta.product_id).update(archived_at=datetime.now(UTC))
    [result] = await offline.sync_offline_sales(shop.cashier, shop.counter.id, [upload(shop, "tab-a", 1)])
    assert result.problems == [] and result.sale is not None
