"""Concurrent receipts: never more than outstanding, a retried GRN applied once, and the average
cost equal to applying the receipts one after the other.

On PostgreSQL the callers really race on separate pooled connections; on SQLite they interleave
on the single connection between statements and transactions.
"""

import asyncio
from decimal import Decimal

from models.catalog import Variant
from models.purchasing import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, PurchaseOrderStatus
from operations.kernel.errors import ErrorCode, OperationError
from operations.purchasing import orders as purchasing
from operations.purchasing import receiving
from operations.purchasing.receiving import weighted_average
from operations.stock.adjustments import check_ledger
from tests.purchasing.conftest import goods, lines_of, on_hand, placed

D = Decimal


async def test_racing_receipts_on_one_order_never_over_receive(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500"), (s.shawl, 4, "200")])

    results = await asyncio.wait_for(
        asyncio.gather(
            *(receiving.receive_goods(s.buyer, goods(po, [(s.shawl, 1), (s.kurta, 3)], k=f"r{i}")) for i in range(6)),
            return_exceptions=True,
        ),
        timeout=60,
    )

    done = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert (len(done), len(refused)) == (3, 3), [r for r in results if isinstance(r, Exception)][:3]
    assert all(p.code is ErrorCode.INVALID for r in refused for p in r.problems)
    lines = await lines_of(po)
    assert (lines[s.kurta.id].quantity_received, lines[s.kurta.id].outstanding) == (9, 1)
    assert (lines[s.shawl.id].quantity_received, lines[s.shawl.id].outstanding) == (3, 1)
    assert await on_hand(s.lahore, s.kurta) == 10 + 9
    assert await on_hand(s.lahore, s.shawl) == 3
    assert sorted(g.number for g, _ in done) == ["GRN-000001", "GRN-000002", "GRN-000003"]
    assert await GoodsReceipt.all().count() == 3  # the refused ones left no GRN behind
    assert (await PurchaseOrder.get(id=po.id)).status is PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert await check_ledger() == ([], [])


async def test_the_same_grn_sent_concurrently_is_applied_once(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500")])

    results = await asyncio.gather(
        *(receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 4)], k="retry-storm")) for _ in range(10))
    )

    assert len({grn.id for grn, _ in results}) == 1
    assert sum(not replayed for _, replayed in results) == 1
    assert await on_hand(s.lahore, s.kurta) == 14
    assert (await lines_of(po))[s.kurta.id].quantity_received == 4
    assert await check_ledger() == ([], [])


async def test_concurrent_receipts_of_one_variant_average_as_if_applied_one_by_one(shop):
    s = shop
    costs = ["100", "250.50", "99.9999", "1234", "0", "333.3333", "410", "75.25"]
    orders = [await placed(s, [(s.kurta, 5 + i, c), (s.shawl, 3, c)]) for i, c in enumerate(costs)]

    await asyncio.wait_for(
        asyncio.gather(
            *(
                receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 5 + i), (s.shawl, 3)]))
                for i, po in enumerate(orders)
            )
        ),
        timeout=60,
    )

    # Replay the receipts serially, in the order they took the variant's lock: each must have seen
    # the stock and the average the previous one left.
    for variant, held in ((s.kurta, 15), (s.shawl, 0)):
        lines = await GoodsReceiptLine.filter(variant_id=variant.id).order_by("on_hand_before")
        average = None
        for line in lines:
            assert (line.on_hand_before, line.average_cost_before) == (held, average)
            average = weighted_average(average, held, line.unit_cost, line.quantity)
            assert line.average_cost_after == average
            held += line.quantity
        assert (await Variant.get(id=variant.id)).average_cost == average
    assert await on_hand(s.lahore, s.kurta) == 10 + sum(5 + i for i in range(len(costs)))
    assert await check_ledger() == ([], [])


async def test_receiving_while_the_order_is_closed_short(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500")])
    await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 2)]))

    results = await asyncio.gather(
        receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 3)])),
        purchasing.close_purchase_order(s.manager, po.id),
        receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 1)])),
        return_exceptions=True,
    )

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, OperationError)]
    assert not unexpected, unexpected
    assert not isinstance(results[1], Exception)  # closing always wins its turn
    line = (await lines_of(po))[s.kurta.id]
    # Whatever the order: received + cancelled = ordered, and on hand matches what was received.
    assert line.quantity_received + line.quantity_cancelled == 10 and line.outstanding == 0
    assert await on_hand(s.lahore, s.kurta) == 10 + line.quantity_received
    assert (await PurchaseOrder.get(id=po.id)).status is PurchaseOrderStatus.CLOSED
    assert await check_ledger() == ([], [])
