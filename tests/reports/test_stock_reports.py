"""Stock reports: valuation now and as the ledger stood, dead stock, low stock."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.stock import StockLevel
from operations.kernel import SYSTEM
from operations.purchasing import receiving
from operations.reports.stock import dead_stock, low_stock, valuation_report
from tests.factories import deduct
from tests.purchasing.conftest import goods, placed, shop  # noqa: F401  (fixture)

D = Decimal


async def test_valuation_as_of_a_past_moment_is_what_was_true_then(shop):  # noqa: F811
    s = shop
    po = await placed(s, [(s.kurta, 30, "1000.00"), (s.shawl, 20, "450.50")])
    await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 12)]))
    then = datetime.now(UTC)
    before = await valuation_report(SYSTEM)
    # Lahore holds 22 kurtas at 1000.0000; Karachi 5 kurtas, now costed too (one average per variant).
    assert {(r.branch_id, r.units, r.value, r.uncosted_units) for r in before} == {
        (s.lahore.id, 22, D("22000.00"), 0),
        (s.karachi.id, 5, D("5000.00"), 0),
    }

    await deduct([(s.lahore.id, s.kurta.id, 3)])
    await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 18, "1100.00"), (s.shawl, 20)]))
    now = await valuation_report(SYSTEM)
    assert now != before
    assert await valuation_report(SYSTEM, as_of=then) == before
    assert await valuation_report(SYSTEM, as_of=datetime.now(UTC)) == now
    assert await valuation_report(SYSTEM, as_of=then - timedelta(days=1)) == []  # nothing held a day before
    lahore_only = await valuation_report(SYSTEM, [s.lahore.id], as_of=then)
    assert [r.units for r in lahore_only] == [22]


async def test_dead_and_low_stock(shop):  # noqa: F811
    s = shop
    await StockLevel.filter(branch_id=s.lahore.id, variant_id=s.kurta.id).update(reorder_point=12)
    assert [(r.branch_id, r.variant_id) for r in await low_stock(SYSTEM)] == [(s.lahore.id, s.kurta.id)]
    dead = await dead_stock(SYSTEM, days=30)
    assert {(r.branch_id, r.variant_id, r.last_sold_at) for r in dead} == {
        (s.lahore.id, s.kurta.id, None),
        (s.karachi.id, s.kurta.id, None),
    }
