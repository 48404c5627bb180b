"""Online orders and COD, transfers on the road, and the sync summary. The rows are written straight into their
tables: these reports only read them, and the steps that write them are tested in their own contexts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.orders import CodStatus, Order, OrderStatus
from models.outbox import OutboxRow, OutboxStatus
from models.transfers import Transfer, TransferLine, TransferStatus
from operations.kernel import SYSTEM
from operations.reports import orders_report, sync_summary, transfer_ageing
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.reports.conftest import karachi_today

D = Decimal


async def test_cod_rates_and_value_with_the_courier(world):
    khi, lhr = world.branches
    trips = [
        (khi, CodStatus.DELIVERED, "1000.00"),
        (khi, CodStatus.DELIVERED, "2000.00"),
        (khi, CodStatus.REFUSED, "1500.00"),
        (khi, CodStatus.RETURNED, "500.00"),
        (khi, CodStatus.DISPATCHED, "3000.00"),
        (lhr, CodStatus.DISPATCHED, "700.00"),
    ]
    for i, (branch, cod, total) in enumerate(trips):
        await Order.create(
            shopify_order_id=f"gid://shopify/Order/{i}",
            name=f"#{1000 + i}",
            branch_id=branch.id,
            total=D(total),
            is_cod=True,
            status=OrderStatus.OPEN,
            cod_status=cod,
            courier="TCS" if i % 2 else "Leopards",
        )
    day = karachi_today()
    report = await orders_report(SYSTEM, day, day)
    assert sum(r.orders for r in report.rows) == 6
    assert (report.delivered_rate, report.refused_rate, report.rto_rate) == (D("0.5"), D("0.25"), D("0.5"))
    assert report.value_in_transit == D("3700.00")
    only_khi = await orders_report(SYSTEM, day, day, [khi.id])
    assert only_khi.value_in_transit == D("3000.00")


async def test_transfers_on_the_road_oldest_first_and_the_sync_summary(world, api):  # noqa: F811
    khi, lhr = world.branches
    now = datetime.now(UTC)
    for n, days, status in (
        (1, 5, TransferStatus.IN_TRANSIT),
        (2, 1, TransferStatus.PARTIALLY_RECEIVED),
        (3, 9, TransferStatus.RECEIVED),
    ):
        t = await Transfer.create(
            number=f"TR-{n}",
            source_branch_id=khi.id,
            destination_branch_id=lhr.id,
            status=status,
            requested_by="system",
            dispatched_at=now - timedelta(days=days),
        )
        await TransferLine.create(
            transfer_id=t.id,
            variant_id=world.variants[0].id,
            quantity_requested=10,
            quantity_dispatched=10,
            quantity_received=4 if n == 2 else (10 if n == 3 else 0),
        )
    ageing = await transfer_ageing(SYSTEM, now=now)
    assert [(t.number, t.days, t.units_on_the_road) for t in ageing] == [("TR-1", 5, 10), ("TR-2", 1, 6)]

    pending = await OutboxRow.filter(status=OutboxStatus.PENDING).count()  # the opening stock's pushes
    await OutboxRow.create(topic="shopify.inventory_delta", key="a", payload={}, status=OutboxStatus.PENDING)
    await OutboxRow.create(topic="shopify.inventory_delta", key="b", payload={}, status=OutboxStatus.PARKED)
    summary = await sync_summary(SYSTEM)
    assert (summary.pushes_pending, summary.pushes_parked, summary.drift_lines_open) == (pending + 1, 1, 0)
    assert summary.invoices_not_reported is None
    data = await api("{ syncReport { pushesPending fiscalStatus invoicesNotReported } }")
    assert data["syncReport"] == {
        "pushesPending": pending + 1,
        "fiscalStatus": "not available yet",
        "invoicesNotReported": None,
    }
