"""Online orders and COD, transfers on the road, and the sync summary. The rows are written straight into their
tables: these reports only read them, and the steps that write them are tested in their own contexts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.fiscal import FiscalAuthority, FiscalDocument, FiscalKind, FiscalStatus
from models.orders import CodStatus, Order, OrderStatus
from models.outbox import OutboxRow, OutboxStatus
from models.transfers import Transfer, TransferLine, TransferStatus
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC
from operations.kernel import SYSTEM
from operations.reports import orders_report, sync_summary, transfer_ageing
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.reports.conftest import karachi_today, sell

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

    # Fiscal: a sale at an unregistered counter is not fiscalised; one pending invoice at Lahore.
    await sell(world, 0, [(world.variants[0], 1)], key="sync-1")
    lahore_sale = await sell(world, 2, [(world.variants[0], 1)], key="sync-2")
    # Inventory pushes per branch (each row's payload names its branch); catalog edits and customers for the shop.
    before = {b.branch_id: (b.pushes_pending, b.pushes_parked) for b in (await sync_summary(SYSTEM)).branches}
    for key, branch, status in (("a", khi, "pending"), ("b", lhr, "parked"), ("c", lhr, "pending")):
        await OutboxRow.create(
            topic="shopify.inventory_delta", key=key, payload={"branchId": branch.id}, status=OutboxStatus(status)
        )
    await OutboxRow.create(topic=CATALOG_EDIT_TOPIC, key="e", payload={}, status=OutboxStatus.PARKED)
    await OutboxRow.create(topic=CUSTOMER_CREATE_TOPIC, key="f", payload={}, status=OutboxStatus.PENDING)
    await FiscalDocument.create(
        kind=FiscalKind.INVOICE,
        sale_id=lahore_sale.id,
        branch_id=lhr.id,
        counter_id=lahore_sale.counter_id,
        authority=FiscalAuthority.FBR,
        usin="LHR-TEST-1",
        status=FiscalStatus.PENDING,
        issued_at=now - timedelta(hours=30),
    )
    expected_not_fiscalised = {
        b: await FiscalDocument.filter(branch_id=b, status=FiscalStatus.NOT_FISCALISED).count()
        for b in (khi.id, lhr.id)
    }
    assert expected_not_fiscalised[khi.id] >= 1
    summary = await sync_summary(SYSTEM)
    pushes = {b.branch_id: (b.pushes_pending, b.pushes_parked) for b in summary.branches}
    assert pushes[khi.id] == (before[khi.id][0] + 1, before[khi.id][1])
    assert pushes[lhr.id] == (before[lhr.id][0] + 1, before[lhr.id][1] + 1)
    assert (summary.pushes_pending, summary.pushes_parked) == (sum(p[0] for p in pushes.values()), 1)
    assert (summary.catalog_edits.parked, summary.customer_writes.pending) == (1, 1)
    assert summary.invoices_not_reported == 1 and summary.fiscal.ageing == 1
    only_khi = await sync_summary(SYSTEM, [khi.id])
    assert [b.branch_id for b in only_khi.branches] == [khi.id] and only_khi.invoices_not_reported == 0

    data = await api(
        "{ syncReport { pushesPending invoicesNotReported notFiscalised catalogEdits { parked }"
        " customerWrites { pending } fiscal { pending ageing oldestPendingAt }"
        " branches { branch { code } pushesPending pushesParked fiscal { pending notFiscalised } } } }"
    )
    report = data["syncReport"]
    assert report["pushesPending"] == summary.pushes_pending and report["invoicesNotReported"] == 1
    assert report["notFiscalised"] == sum(expected_not_fiscalised.values())
    assert (report["catalogEdits"], report["customerWrites"]) == ({"parked": 1}, {"pending": 1})
    assert report["fiscal"]["pending"] == 1 and report["fiscal"]["oldestPendingAt"] is not None
    by_code = {b["branch"]["code"]: b for b in report["branches"]}
    assert by_code[lhr.code]["fiscal"] == {"pending": 1, "notFiscalised": expected_not_fiscalised[lhr.id]}
    assert by_code[khi.code]["fiscal"]["notFiscalised"] == expected_not_fiscalised[khi.id]
    assert by_code[khi.code]["pushesPending"] == pushes[khi.id][0]
