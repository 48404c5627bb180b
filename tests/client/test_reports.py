"""A partner pulls reports through the installed client against a real server: after a few sales (two rung up
now, one uploaded from an offline till as rung up yesterday), yesterday's and today's sales reports, on the
branch's own calendar (`local_day`), total exactly what was sold; the day close and stock value agree; an export
is started, followed until done, and downloaded (the signed link, fetched with httpx and by the client)."""

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from branchline_client import BranchlineClient, local_day
from branchline_client.enums import ExportFormat, ExportReport, ExportStatus, SalesGroup
from branchline_client.input_types import ExportReportInput, ReportPeriodInput, SalesReportInput

from tests.client.conftest import code
from tests.e2e.shop import ADJUST, CREATE_BRANCH, CREATE_PRODUCT, request

ZONE = "Asia/Karachi"
TILL = (
    """mutation($counter: CreateCounterInput!) { createCounter(input: $counter) { counter { id } errors { code } } }"""
)
OPEN = """mutation($input: OpenRegisterInput!) { openRegister(input: $input) { errors { code message } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) {
  checkout(input: $input) { sale { id total { amount } } errors { code message field } } }"""
UPLOAD = """mutation($input: SyncOfflineSalesInput!) {
  syncOfflineSales(input: $input) { results { sale { id total { amount } } errors { code message } }
  errors { code message } } }"""


async def _till_with_sales(server, token) -> tuple[str, dict[str, list[Decimal]]]:
    """A branch in Karachi with a counter and an open register; two sales now, one offline sale yesterday at
    noon on the branch's calendar. Returns the branch and each day's sale totals as the server charged them."""
    branch_code = code()
    async with server.http_client(token) as session:
        made = await session.execute(
            request(
                CREATE_BRANCH,
                input={"code": branch_code, "name": "Reports", "timezone": ZONE, "idempotencyKey": f"b-{branch_code}"},
            )
        )
        branch = made["createBranch"]["branch"]["id"]
        product = {
            "title": f"Lawn {branch_code}",
            "variants": [{"sku": f"{branch_code}-L", "price": "1500.00"}],
            "idempotencyKey": f"p-{branch_code}",
        }
        made = await session.execute(request(CREATE_PRODUCT, input=product))
        variant = made["createProduct"]["product"]["variants"][0]["id"]
        opening = [{"variant": {"id": variant}, "quantity": 20}]
        key = f"o-{branch_code}"
        stocked = await session.execute(
            request(
                ADJUST, input={"branchId": branch, "reason": "OPENING_STOCK", "lines": opening, "idempotencyKey": key}
            )
        )
        assert stocked["adjustStock"]["errors"] == []
        made = await session.execute(
            request(TILL, counter={"branchId": branch, "code": "C1", "name": "Till 1", "idempotencyKey": f"c-{branch}"})
        )
        counter = made["createCounter"]["counter"]["id"]
        opened = await session.execute(
            request(OPEN, input={"counterId": counter, "openingFloat": "5000", "idempotencyKey": f"r-{branch}"})
        )
        assert opened["openRegister"]["errors"] == []

        today = local_day(ZONE)
        sold: dict[str, list[Decimal]] = {"today": [], "yesterday": []}
        for n, units in enumerate((1, 2)):
            sale = {
                "counterId": counter,
                "lines": [{"variant": {"id": variant}, "quantity": units}],
                "tenders": [{"type": "CASH", "amount": "10000"}],  # change handed back
                "idempotencyKey": f"s{n}-{branch}",
            }
            placed = (await session.execute(request(CHECKOUT, input=sale)))["checkout"]
            assert placed["errors"] == [], placed
            sold["today"].append(Decimal(placed["sale"]["total"]["amount"]))
        rung_up = datetime.combine(today - timedelta(days=1), time(12), ZoneInfo(ZONE))
        offline = {
            "offlineId": f"tab-{branch_code}",
            "occurredAt": rung_up.isoformat(),
            "lines": [{"variant": {"id": variant}, "quantity": 3}],
            "tenders": [{"type": "CASH", "amount": "10000"}],
        }
        uploaded = await session.execute(request(UPLOAD, input={"counterId": counter, "sales": [offline]}))
        [result] = uploaded["syncOfflineSales"]["results"]
        assert result["errors"] == [], result
        sold["yesterday"].append(Decimal(result["sale"]["total"]["amount"]))
    return branch, sold


async def test_yesterdays_and_todays_sales_report_total_the_sales_made_and_an_export_downloads(
    server, owner_token, partner: BranchlineClient
):
    before = local_day(ZONE)
    branch, sold = await _till_with_sales(server, owner_token)
    today = local_day(ZONE)  # a sale made across local midnight still falls in before..today
    yesterday = before - timedelta(days=1)

    report = (
        await partner.sales_report(
            filter_=SalesReportInput(
                from_=yesterday,
                to=yesterday,
                branchIds=[branch],
                groupBy=[SalesGroup.DAY, SalesGroup.BRANCH],
            )
        )
    ).sales_report
    [row] = report.rows
    assert (row.day, row.branch is not None and row.branch.id, row.branch and row.branch.timezone) == (
        yesterday,
        branch,
        ZONE,
    )
    assert (row.sales_count, row.units, row.total.amount) == (1, 3, sum(sold["yesterday"]))
    assert report.totals.total.amount == sum(sold["yesterday"]) and report.totals.returns_count == 0

    now = (
        await partner.sales_report(
            filter_=SalesReportInput(from_=before, to=today, branchIds=[branch], groupBy=[SalesGroup.BRANCH])
        )
    ).sales_report
    assert [(r.branch and r.branch.id, r.sales_count, r.units) for r in now.rows] == [(branch, 2, 3)]
    assert now.totals.total.amount == sum(sold["today"]) == Decimal("4500.00")  # 1 + 2 units at 1,500
    assert now.totals.refunds.amount == 0 and now.totals.total_after_refunds.amount == sum(sold["today"])

    # Both days per tender: the money in is the money charged, all of it cash.
    both = (
        await partner.sales_report(
            filter_=SalesReportInput(from_=yesterday, to=today, branchIds=[branch], groupBy=[SalesGroup.TENDER_TYPE])
        )
    ).sales_report
    assert [(r.tender_type and r.tender_type.value, r.total.amount) for r in both.rows] == [
        ("CASH", sum(sold["yesterday"]) + sum(sold["today"]))
    ]

    # The register is still open: the day close shows its X report, with every sale rung up on it (the
    # offline one too: it was uploaded into this register); the drawer should hold the float and the cash kept.
    close = (await partner.day_close(period=ReportPeriodInput(from_=before, to=today, branchIds=[branch]))).day_close
    everything = sum(sold["today"]) + sum(sold["yesterday"])
    assert close.sales_total.amount == everything
    [register] = close.registers
    assert (register.final, register.branch.id, register.sales_count) == (False, branch, 3)
    assert register.expected_cash.amount == Decimal("5000.00") + everything

    # Stock: 20 opened, 6 sold.
    stock = await partner.stock_value_report(branch_ids=[branch])
    assert sum(r.units for r in stock.stock_value_report) == 14

    # An export of both days, one row per day; followed until done and downloaded from its signed link.
    started = (
        await partner.start_export(
            ExportReportInput(
                report=ExportReport.SALES,
                format=ExportFormat.CSV,
                from_=yesterday,
                to=today,
                branchIds=[branch],
                groupBy=[SalesGroup.DAY],
            )
        )
    ).export_report
    assert started.errors == [] and started.export is not None
    done = await partner.finished_export(started.export.id, every=0.1)
    assert done.status == ExportStatus.DONE, done.error
    assert done.download_url is not None and done.download_url.startswith(server.url)
    async with httpx.AsyncClient(timeout=30) as http:
        fetched = await http.get(done.download_url)
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(fetched.text)))
    assert len(rows) == done.rows_written == (today - yesterday).days + 1
    assert sum(Decimal(r["Total"]) for r in rows) == everything
    assert [r["Day"] for r in rows] == [(yesterday + timedelta(days=n)).isoformat() for n in range(len(rows))]
    assert await partner.download_export(started.export.id) == fetched.content
