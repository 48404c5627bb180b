"""Exports: a report written to a file in a real server's background, downloaded over HTTP through a short-lived
signed link, opened with openpyxl (and csv); files expire and are swept away."""

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import httpx
import openpyxl

from models.reports import ExportFormat, ExportStatus, ReportExport
from models.sales import SaleLine
from models.staff import Role
from operations.directory.staff import NewStaff, create_staff, login
from operations.kernel import SYSTEM
from operations.reports import SalesFilter, sales_report
from operations.reports.exports import (
    ExportRequest,
    download_token,
    export_for_download,
    run_export,
    start_export,
    sweep_exports,
)
from tests.e2e.conftest import server  # noqa: F401  (fixture)
from tests.reports.conftest import give_back, karachi_today, sell

D = Decimal
EXPORT = """
mutation($input: ExportReportInput!) {
  exportReport(input: $input) { export { id status } errors { code field message } }
}"""
PROGRESS = "query($id: ID!) { exportProgress(id: $id) { status rowsWritten downloadUrl error } }"


async def graphql(client: httpx.AsyncClient, token: str, query: str, variables: dict) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def finished(client, token, export_id: str) -> dict:
    """Wait for the server's background job to end (polling its progress, never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        progress = (await graphql(client, token, PROGRESS, {"id": export_id}))["exportProgress"]
        if progress["status"] != "RUNNING" or asyncio.get_running_loop().time() > deadline:
            return progress
        await asyncio.sleep(0.05)


async def test_an_excel_export_downloaded_over_http_holds_the_reports_totals(world, server):  # noqa: F811
    kurta, shawl = world.variants[:2]
    sold = await sell(world, 0, [(kurta, 2), (shawl, 1)], key="x1")
    await sell(world, 2, [(shawl, 3)], key="x2", card=True)
    await give_back(world, 1, sold, [(1, 1)], key="x3")
    await create_staff(SYSTEM, NewStaff("owner@export.pk", "Owner", Role.OWNER, "export-password-1"))
    token = (await login("owner@export.pk", "export-password-1")).token
    day = karachi_today()
    [totals] = await sales_report(SYSTEM, SalesFilter(day, day))

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        started = await graphql(
            client,
            token,
            EXPORT,
            {
                "input": {
                    "report": "SALES",
                    "format": "XLSX",
                    "from": day.isoformat(),
                    "to": day.isoformat(),
                    "groupBy": ["BRANCH", "DAY"],
                    "idempotencyKey": "export-1",
                }
            },
        )
        assert started["exportReport"]["errors"] == []
        progress = await finished(client, token, started["exportReport"]["export"]["id"])
        assert progress["status"] == "DONE", progress
        assert progress["rowsWritten"] == 2 and progress["downloadUrl"].startswith(server.url)
        download = await client.get(progress["downloadUrl"])
        assert download.status_code == 200
        assert "spreadsheetml" in download.headers["content-type"]

        sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True).active
        header, *rows = list(sheet.iter_rows(values_only=True))
        column = {title: i for i, title in enumerate(header)}
        assert sorted(r[column["Branch"]] for r in rows) == ["KHI", "LHR"]
        assert all(isinstance(r[column["Day"]], datetime) and r[column["Day"]].date() == day for r in rows)
        for title, expected in (("Total", totals.total), ("Refunds", totals.refunds), ("Tax", totals.tax)):
            assert D(str(round(sum(r[column[title]] for r in rows), 2))) == expected, title
        assert sum(r[column["Units"]] for r in rows) == totals.units and isinstance(rows[0][column["Units"]], int)

        # The sale lines as CSV: one row per line, the same total.
        started = await graphql(
            client,
            token,
            EXPORT,
            {
                "input": {
                    "report": "SALE_LINES",
                    "format": "CSV",
                    "from": day.isoformat(),
                    "to": day.isoformat(),
                    "idempotencyKey": "export-2",
                }
            },
        )
        progress = await finished(client, token, started["exportReport"]["export"]["id"])
        lines = list(csv.DictReader(io.StringIO((await client.get(progress["downloadUrl"])).text)))
        assert len(lines) == await SaleLine.all().count()
        assert sum(D(line["Total"]) for line in lines) == totals.total

        # A link with a forged signature or an unknown export is 404, whoever asks.
        forged = progress["downloadUrl"][:-4] + "0000"
        assert (await client.get(forged)).status_code == 404
        assert (await client.get("/exports/1.99999999999.abc")).status_code == 404


async def test_a_cashier_may_not_export_and_files_expire(world, change_settings, tmp_path):
    change_settings(reports={"export_dir": str(tmp_path), "export_ttl_seconds": 60})
    await sell(world, 0, [(world.variants[0], 1)], key="y1")
    day = karachi_today()
    cashier = world.counters[0][2]
    from operations.kernel import AccessDenied

    try:
        await start_export(cashier, ExportRequest("sales", ExportFormat.CSV, day, day), "no")
    except AccessDenied as refused:
        assert refused.code == "FORBIDDEN"
    else:
        raise AssertionError("a cashier exported a report")

    export, _ = await start_export(SYSTEM, ExportRequest("sales", ExportFormat.CSV, day, day), "e1")
    done = await run_export(export.id)
    assert done.status == ExportStatus.DONE and await anyio.Path(done.path).is_file()
    assert (await export_for_download(download_token(done.id))).id == done.id
    stale = download_token(done.id, now=datetime.now(UTC) - timedelta(hours=1))
    assert await export_for_download(stale) is None  # the link outlived its minutes
    assert await sweep_exports() == 0
    assert await sweep_exports(now=datetime.now(UTC) + timedelta(seconds=61)) == 1
    gone = await ReportExport.get(id=done.id)
    assert gone.status == ExportStatus.EXPIRED and not await anyio.Path(done.path).exists()
    assert await export_for_download(download_token(done.id)) is None
