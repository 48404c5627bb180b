"""Exports: a report (or the sale lines, stock movements or online orders themselves) written to a CSV or Excel
file in the background, its progress, a short-lived signed download link, and the sweep that deletes expired files.

Files stream: the sale lines are read in keyset batches (`id > last ORDER BY id LIMIT n`, each batch its own
short statement) and written as they come, the CSV with the standard csv module and the Excel file with
XlsxWriter in constant-memory mode (each row is flushed to disk as soon as the next begins), so memory stays
flat whatever the row count. Excel cells are typed: numbers as numbers, money with two decimals, dates as dates.

The branches an export covers are fixed when it starts, with the caller's rights checked then (the same checks
as the report itself); the job then reads those branches. A download link is `<id>.<expiry>.<signature>`: an
HMAC-SHA256 under the server secret (operations/kernel/settings.py SecretKeys), good for `link_seconds`, shown
only to the staff member who asked for the export or someone who may report on all its branches.
"""

import asyncio
import csv
import hashlib
import hmac
import logging
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from models.branches import Branch, Counter
from models.catalog import Product, Variant
from models.reports import ExportFormat, ExportStatus, ReportExport
from models.staff import Staff
from operations.kernel import (
    SYSTEM,
    AccessDenied,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    current_settings,
    fetch,
    is_sqlite,
    read_time,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.reports.commission import commission_report
from operations.reports.list_exports import (
    MOVEMENT_COLUMNS,
    ORDER_COLUMNS,
    check_filters,
    movement_rows,
    order_rows,
)
from operations.reports.operational import orders_report, returns_report
from operations.reports.periods import MAX_DAYS, Scope, in_scope, scope_for
from operations.reports.sales import SalesFilter, SalesGroup, check_groups, sales_rows, sales_sql
from operations.reports.stock import valuation_report

log = logging.getLogger("branchline.reports")

BATCH = 5000  # rows read per statement
PROGRESS_EVERY = 20_000  # rows between progress updates
REPORTS = ("sales", "sale_lines", "commission", "returns", "valuation", "orders", "stock_movements", "order_list")


@dataclass(frozen=True)
class ExportRequest:
    report: str  # one of REPORTS
    format: ExportFormat
    first: date
    last: date
    branch_ids: tuple[int, ...] | None = None
    group_by: tuple[SalesGroup, ...] = ()
    filters: dict[str, Any] | None = None  # a list's own filters (operations/reports/list_exports.py)


# A column: its title and its kind (text, int, money, date, datetime).
Column = tuple[str, str]


async def start_export(actor, request: ExportRequest, idempotency_key: str) -> tuple[ReportExport, bool]:
    """Check the request and the caller's rights, and record the job (`launch_export` runs it)."""
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    if request.report not in REPORTS:
        problems.add(ErrorCode.INVALID, f"no report {request.report!r}", "report")
    problems.raise_if_any()
    if request.report == "sales":
        check_groups(request.group_by)
    filters = check_filters(request.report, request.filters or {})
    scope = await scope_for(actor, request.first, request.last, request.branch_ids, Permission.VIEW_REPORTS)
    parameters = {
        "from": request.first.isoformat(),
        "to": request.last.isoformat(),
        "branchIds": scope.branch_ids,
        "groupBy": [g.value for g in request.group_by],
    }
    if filters:
        parameters["filters"] = filters

    async def create() -> ReportExport:
        export = await ReportExport.create(
            report=request.report,
            format=request.format,
            parameters=parameters,
            requested_by_id=actor.staff_id,
            branch_ids=scope.branch_ids,
        )
        await record_audit(
            actor, "report.exported", target=("report_export", export.id), report=request.report, **parameters
        )
        return export

    wanted = {"report": request.report, "format": request.format.value, **parameters}
    async with transaction() as tx:
        return await run_once(tx, "exportReport", idempotency_key, wanted, create, lambda pk: ReportExport.get(id=pk))


def _may_see(actor, export: ReportExport) -> bool:
    if actor.staff_id is not None and actor.staff_id == export.requested_by_id:
        return True
    return all(actor.can(Permission.VIEW_REPORTS, b) for b in export.branch_ids or []) and actor.can(
        Permission.VIEW_REPORTS
    )


async def export_progress(actor, export_id: int) -> tuple[ReportExport, str | None]:
    """The job as it stands, and a fresh download token once its file is ready."""
    require(actor, Permission.VIEW_REPORTS)
    export = await ReportExport.get_or_none(id=export_id)
    if export is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such export", "id")
    if not _may_see(actor, export):
        raise AccessDenied(f"{actor.label} may not see export {export_id}")
    ready = export.status == ExportStatus.DONE and export.expires_at and export.expires_at > datetime.now(UTC)
    return export, download_token(export.id) if ready else None


def _signature(message: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"report-export:{message}".encode(), hashlib.sha256).hexdigest()


def download_token(export_id: int, now: datetime | None = None) -> str:
    expiry = int(((now or datetime.now(UTC)) + timedelta(seconds=current_settings().reports.link_seconds)).timestamp())
    message = f"{export_id}.{expiry}"
    return f"{message}.{_signature(message, current_settings().keys.secret)}"


async def export_for_download(token: str, now: datetime | None = None) -> ReportExport | None:
    """The finished export a link names, or None: a bad signature, an expired link or file, or not ready."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    message = f"{parts[0]}.{parts[1]}"
    keys = current_settings().keys
    if not any(hmac.compare_digest(_signature(message, k), parts[2]) for k in (keys.secret, *keys.previous)):
        return None
    now = now or datetime.now(UTC)
    if int(parts[1]) < now.timestamp():
        return None
    export = await ReportExport.get_or_none(id=int(parts[0]))
    if export is None or export.status != ExportStatus.DONE or not export.path or export.expires_at <= now:
        return None
    return export


def file_name(export: ReportExport) -> str:
    p = export.parameters
    return f"{export.report}-{p['from']}-to-{p['to']}.{export.format.value}"


_running: set[asyncio.Task] = set()


def launch_export(export_id: int) -> asyncio.Task:
    """Run an export in the background of this process (kept, so the task is not collected)."""
    task = asyncio.create_task(run_export(export_id), name=f"report-export-{export_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


def _directory() -> Path:
    path = Path(current_settings().reports.export_dir or Path(tempfile.gettempdir()) / "branchline-exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


async def run_export(export_id: int) -> ReportExport:
    """Write the export's file to its end; a failure is recorded on the job (never raised)."""
    export = await ReportExport.get(id=export_id)
    if export.status != ExportStatus.RUNNING:
        return export
    path = _directory() / f"export-{export.id}-{secrets.token_hex(8)}.{export.format.value}"
    await ReportExport.filter(id=export.id).update(path=str(path))
    try:
        columns, rows = await _source(export)
        written = await _write(export, path, columns, rows)
    except Exception as error:  # recorded for the caller to see; the file is removed
        log.exception("export %s failed", export.id)
        path.unlink(missing_ok=True)
        await ReportExport.filter(id=export.id).update(
            status=ExportStatus.FAILED, error=str(error)[:1000], finished_at=datetime.now(UTC), path=None
        )
    else:
        now = datetime.now(UTC)
        ttl = timedelta(seconds=current_settings().reports.export_ttl_seconds)
        await ReportExport.filter(id=export.id).update(
            status=ExportStatus.DONE, rows_written=written, finished_at=now, expires_at=now + ttl
        )
    return await ReportExport.get(id=export.id)


async def sweep_exports(now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry (and of jobs that died without one); returns how many."""
    now = now or datetime.now(UTC)
    ttl = timedelta(seconds=current_settings().reports.export_ttl_seconds)
    swept = 0
    expired = await ReportExport.filter(status=ExportStatus.DONE, expires_at__lte=now)
    dead = await ReportExport.filter(status=ExportStatus.RUNNING, created_at__lte=now - ttl, id__not_in=_live_ids())
    for export in [*expired, *dead]:
        if export.path:
            await asyncio.to_thread(Path(export.path).unlink, missing_ok=True)
        await ReportExport.filter(id=export.id, status=export.status).update(status=ExportStatus.EXPIRED, path=None)
        swept += 1
    return swept


def _live_ids() -> list[int]:
    return [int(t.get_name().rsplit("-", 1)[1]) for t in _running if not t.done()] or [0]


async def _write(export: ReportExport, path: Path, columns: list[Column], rows: AsyncIterator[list[tuple]]) -> int:
    written = 0
    next_progress = PROGRESS_EVERY

    async def progress() -> None:
        nonlocal next_progress
        if written >= next_progress:
            next_progress = written + PROGRESS_EVERY
            await ReportExport.filter(id=export.id).update(rows_written=written)

    if export.format == ExportFormat.CSV:
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([title for title, _ in columns])
            async for batch in rows:
                writer.writerows([_csv_cell(v) for v in row] for row in batch)
                written += len(batch)
                await progress()
        return written
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet(export.report[:31])
        bold = workbook.add_format({"bold": True})
        formats = {
            "money": workbook.add_format({"num_format": "#,##0.00"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
            "percent": workbook.add_format({"num_format": "0.00%"}),
        }
        for c, (title, kind) in enumerate(columns):
            sheet.write_string(0, c, title, bold)
            sheet.set_column(c, c, 14 if kind != "text" else 20)
        r = 1
        async for batch in rows:
            for row in batch:
                for c, value in enumerate(row):
                    _xlsx_cell(sheet, r, c, value, columns[c][1], formats)
                r += 1
            written += len(batch)
            await progress()
    finally:
        workbook.close()
    return written


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _xlsx_cell(sheet, r: int, c: int, value: Any, kind: str, formats: dict) -> None:
    if value is None:
        return
    if kind in ("money", "int", "percent") and isinstance(value, int | Decimal | float):
        sheet.write_number(r, c, float(value), formats.get(kind))
    elif kind in ("date", "datetime") and isinstance(value, date):
        sheet.write_datetime(r, c, value, formats[kind])
    else:
        sheet.write_string(r, c, str(value))


async def _once(rows: list[tuple]) -> AsyncIterator[list[tuple]]:
    yield rows


async def _names(model, ids: Iterable[int], field: str) -> dict[int, str]:
    wanted = [i for i in set(ids) if i is not None]
    return dict(await model.filter(id__in=wanted).values_list("id", field)) if wanted else {}


async def _source(export: ReportExport) -> tuple[list[Column], AsyncIterator[list[tuple]]]:
    """The export's columns and its rows in batches, read as SYSTEM over the branches fixed at its start."""
    p = export.parameters
    first, last = date.fromisoformat(p["from"]), date.fromisoformat(p["to"])
    branch_ids = tuple(p["branchIds"])
    if (last - first).days + 1 > MAX_DAYS:
        raise OperationError.single(ErrorCode.INVALID, "too long a span", "to")
    if export.report == "sale_lines":
        scope = await scope_for(SYSTEM, first, last, branch_ids, Permission.VIEW_REPORTS)
        return SALE_LINE_COLUMNS, _sale_lines(scope)
    if export.report in ("stock_movements", "order_list"):
        scope = await scope_for(SYSTEM, first, last, branch_ids, Permission.VIEW_REPORTS)
        filters = p.get("filters") or {}
        if export.report == "stock_movements":
            return MOVEMENT_COLUMNS, movement_rows(scope, filters, BATCH)
        return ORDER_COLUMNS, order_rows(scope, filters, BATCH)
    if export.report == "sales":
        groups = tuple(SalesGroup(g) for g in p["groupBy"])
        return await _sales(SalesFilter(first, last, branch_ids, groups))
    if export.report == "commission":
        rows = await commission_report(SYSTEM, first, last, branch_ids)
        names = await _names(Staff, [r.salesperson_id for r in rows], "name")
        columns = [
            ("Rank", "int"),
            ("Salesperson", "text"),
            ("Sales", "money"),
            ("Refunds", "money"),
            ("Commission", "money"),
        ]
        return columns, _once(
            [(r.rank, names.get(r.salesperson_id, ""), r.sales, r.refunds, r.commission) for r in rows]
        )
    if export.report == "returns":
        rows = await returns_report(SYSTEM, first, last, branch_ids)
        names = await _names(Branch, [r.branch_id for r in rows], "code")
        columns = [
            ("Branch", "text"),
            ("Reason", "text"),
            ("Restock", "text"),
            ("Exchange", "text"),
            ("Returns", "int"),
            ("Units", "int"),
            ("Refunds", "money"),
        ]
        return columns, _once(
            [
                (
                    names.get(r.branch_id),
                    r.reason,
                    r.restock,
                    "yes" if r.exchange else "no",
                    r.returns_count,
                    r.units,
                    r.refunds,
                )
                for r in rows
            ]
        )
    if export.report == "valuation":
        zones = dict(await Branch.filter(id__in=list(branch_ids)).values_list("id", "timezone"))
        end = max(
            (datetime.combine(last + timedelta(days=1), datetime.min.time(), ZoneInfo(z)) for z in zones.values()),
            default=datetime.now(UTC),
        )
        rows = await valuation_report(SYSTEM, branch_ids, as_of=min(end.astimezone(UTC), datetime.now(UTC)))
        names = await _names(Branch, [r.branch_id for r in rows], "code")
        columns = [
            ("Branch", "text"),
            ("Product type", "text"),
            ("Units", "int"),
            ("Value", "money"),
            ("Units without cost", "int"),
        ]
        return columns, _once(
            [(names.get(r.branch_id), r.product_type, r.units, r.value, r.uncosted_units) for r in rows]
        )
    report = await orders_report(SYSTEM, first, last, branch_ids)
    names = await _names(Branch, [r.branch_id for r in report.rows], "code")
    columns = [
        ("Branch", "text"),
        ("Courier", "text"),
        ("Status", "text"),
        ("COD status", "text"),
        ("Orders", "int"),
        ("Value", "money"),
    ]
    return columns, _once(
        [(names.get(r.branch_id), r.courier, r.status, r.cod_status, r.orders, r.value) for r in report.rows]
    )


_GROUP_COLUMNS: dict[SalesGroup, Column] = {
    SalesGroup.DAY: ("Day", "date"),
    SalesGroup.WEEK: ("Week", "date"),
    SalesGroup.MONTH: ("Month", "date"),
    SalesGroup.BRANCH: ("Branch", "text"),
    SalesGroup.COUNTER: ("Counter", "text"),
    SalesGroup.CASHIER: ("Cashier", "text"),
    SalesGroup.SALESPERSON: ("Salesperson", "text"),
    SalesGroup.TENDER_TYPE: ("Tender", "text"),
    SalesGroup.PRODUCT: ("Product", "text"),
    SalesGroup.PRODUCT_TYPE: ("Product type", "text"),
    SalesGroup.VARIANT: ("SKU", "text"),
}
_NAMED: dict[SalesGroup, tuple[Any, str]] = {
    SalesGroup.BRANCH: (Branch, "code"),
    SalesGroup.COUNTER: (Counter, "code"),
    SalesGroup.CASHIER: (Staff, "name"),
    SalesGroup.SALESPERSON: (Staff, "name"),
    SalesGroup.PRODUCT: (Product, "title"),
    SalesGroup.VARIANT: (Variant, "sku"),
}
SALES_FIGURES: list[tuple[str, str, Callable]] = [
    ("Gross", "money", lambda r: r.gross),
    ("Discounts", "money", lambda r: r.discounts),
    ("Net", "money", lambda r: r.net),
    ("Tax", "money", lambda r: r.tax),
    ("Total", "money", lambda r: r.total),
    ("Units", "int", lambda r: r.units),
    ("Sales", "int", lambda r: r.sales_count),
    ("Average basket", "money", lambda r: r.average_basket),
    ("Returns", "int", lambda r: r.returns_count),
    ("Returned units", "int", lambda r: r.returned_units),
    ("Refunds", "money", lambda r: r.refunds),
    ("Refunded net", "money", lambda r: r.refunded_net),
    ("Total after refunds", "money", lambda r: r.total_after_refunds),
    ("Cost of goods", "money", lambda r: r.cost_of_goods),
    ("Margin", "money", lambda r: r.margin),
]


async def _sales(f: SalesFilter) -> tuple[list[Column], AsyncIterator[list[tuple]]]:
    scope = await scope_for(SYSTEM, f.first, f.last, f.branch_ids, Permission.VIEW_REPORTS)
    columns = [_GROUP_COLUMNS[g] for g in f.group_by] + [(t, k) for t, k, _ in SALES_FIGURES]

    # Not bounded by the report's 5,000 rows (MAX_ROWS in sales.py): an export is what a report too big for that
    # is sent to, and DAY x VARIANT over a year can be hundreds of thousands of groups. So the grouped statement is
    # read a page at a time (LIMIT/OFFSET over its ORDER BY, which is every group key: a total order), each page its
    # own short statement, and only that page is held. The database groups again for each page (a cost paid in
    # time, not memory), and no transaction is held between pages, as with the sale lines; a sale rung up
    # while a period still open is exported can therefore shift a group between pages.
    async def batches() -> AsyncIterator[list[tuple]]:
        offset = 0
        while scope.zones:
            async with transaction() as tx:
                sql, values = sales_sql(scope, tx.conn, f.group_by)
                raw = await fetch(tx.conn, f"{sql} LIMIT {BATCH} OFFSET {offset}", values)
                chunk = sales_rows(tx.conn, f.group_by, raw)
            del raw
            if not chunk:
                return
            offset += len(chunk)
            names = {
                g: await _names(_NAMED[g][0], [r.key[g] for r in chunk], _NAMED[g][1])
                for g in f.group_by
                if g in _NAMED
            }
            yield [
                tuple(names[g].get(r.key[g], "") if g in names else r.key[g] for g in f.group_by)
                + tuple(get(r) for _, _, get in SALES_FIGURES)
                for r in chunk
            ]
            if len(chunk) < BATCH:
                return

    return columns, batches()


SALE_LINE_COLUMNS: list[Column] = [
    ("Sale", "text"),
    ("Sold at (local time)", "datetime"),
    ("Branch", "text"),
    ("Counter", "text"),
    ("SKU", "text"),
    ("Description", "text"),
    ("Quantity", "int"),
    ("Unit price", "money"),
    ("Discount", "money"),
    ("Net", "money"),
    ("Tax", "money"),
    ("Total", "money"),
    ("Unit cost", "money"),
    ("Returned", "int"),
]


async def _sale_lines(scope: Scope) -> AsyncIterator[list[tuple]]:
    """Every line of the scope's sales, in keyset batches of BATCH (no transaction held between them)."""
    branches = {b.id: (b.code, ZoneInfo(b.timezone)) for b in await Branch.filter(id__in=scope.branch_ids)}
    counters = dict(await Counter.filter(branch_id__in=scope.branch_ids).values_list("id", "code"))
    last_id = 0
    while True:
        async with transaction() as tx:
            conn = tx.conn
            where, values = in_scope(scope, conn, "s.occurred_at", "s.branch_id")
            rows = (
                await fetch(
                    conn,
                    "SELECT l.id, s.number, s.occurred_at, s.branch_id, s.counter_id, l.sku, l.description, l.quantity,"
                    " l.unit_price, l.line_discount + l.order_discount AS discount, l.net, l.tax, l.total, l.unit_cost,"
                    " l.returned_quantity FROM sale_line l JOIN sale s ON s.id = l.sale_id"
                    f" WHERE l.id > ? AND s.status IN ('placed', 'updated', 'refunded') AND {where}"
                    f" ORDER BY l.id LIMIT {BATCH}",
                    [last_id, *values],
                )
                if scope.zones
                else []
            )
            sqlite = is_sqlite(conn)
        if not rows:
            return
        last_id = rows[-1]["id"]
        out = []
        for r in rows:
            code, zone = branches[r["branch_id"]]
            at = read_time(r["occurred_at"]).astimezone(zone).replace(tzinfo=None)
            out.append(
                (
                    r["number"],
                    at,
                    code,
                    counters.get(r["counter_id"], ""),
                    r["sku"],
                    r["description"],
                    r["quantity"],
                    _dec(r["unit_price"], sqlite),
                    _dec(r["discount"], sqlite),
                    _dec(r["net"], sqlite),
                    _dec(r["tax"], sqlite),
                    _dec(r["total"], sqlite),
                    _dec(r["unit_cost"], sqlite, "0.0001"),
                    r["returned_quantity"],
                )
            )
        del rows
        yield out


def _dec(value, sqlite: bool, places: str = "0.01") -> Decimal | None:
    if value is None:
        return None
    return (Decimal(str(value)) if sqlite else Decimal(value)).quantize(Decimal(places))
