"""Reports: read-only queries over every context's figures (operations/reports/)."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from models.reports import ExportFormat as ExportFormatModel
from operations.directory import local_days_at
from operations.fiscal import FiscalFigures
from operations.kernel import ErrorCode, OperationError
from operations.reports import (
    ExportRequest,
    NewRate,
    Period,
    SalesFilter,
    SalesGroup,
    commission_report,
    day_close,
    dead_stock,
    export_progress,
    launch_export,
    low_stock,
    orders_report,
    report_days,
    returns_report,
    sales_report,
    set_commission_rate,
    start_export,
    sync_summary,
    transfer_ageing,
    valuation_report,
)
from resolvers.days import query_id
from resolvers.fiscal import status_of
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.report_views import (
    CommissionRate,
    CommissionReportRow,
    DayClose,
    ExportReportInput,
    ExportReportPayload,
    OrdersReport,
    ReportPeriodInput,
    ReturnsReportRow,
    SetCommissionRateInput,
    SetCommissionRatePayload,
    ShopWritesSummary,
    StockReportLine,
    SyncBranchSummary,
    SyncSummary,
    TransferAgeing,
    ValuationReportRow,
)
from schema.report_views import ReportExport as ReportExportType
from schema.reports import SalesReport, SalesReportInput, SalesReportRow
from schema.types import Money


def _period_of(value) -> Period | None:
    return None if value is None else Period(value.value)


async def sales_filter(filter: SalesReportInput) -> SalesFilter:
    branch_ids = _branch_ids(filter.branch_ids)
    first, last = await report_days(filter.from_, filter.to, _period_of(filter.period), branch_ids)
    return SalesFilter(first, last, branch_ids, tuple(SalesGroup(g.value) for g in filter.group_by))


async def sales_report_query(info: Info, filter: SalesReportInput) -> SalesReport:
    """Sales and returns over some local days, grouped as asked, with their totals."""
    try:
        f = await sales_filter(filter)
        rows = await sales_report(info.context.actor, f)
        [totals] = (
            rows
            if not f.group_by
            else await sales_report(info.context.actor, SalesFilter(f.first, f.last, f.branch_ids))
        )
    except OperationError as error:
        raise _refused(error) from None
    return SalesReport(rows=[SalesReportRow.from_row(r) for r in rows], totals=SalesReportRow.from_row(totals))


def _refused(error: OperationError) -> BadRequest:
    problem = error.problems[0]
    return BadRequest(problem.message, code=problem.code.value, field=problem.field)


async def _period(period: ReportPeriodInput) -> tuple[date, date, tuple[int, ...] | None]:
    branch_ids = _branch_ids(period.branch_ids)
    return (*await report_days(period.from_, period.to, _period_of(period.period), branch_ids), branch_ids)


def _branch_ids(values: list[strawberry.ID] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(query_id(b, "Branch", "branchIds") for b in values)


async def day_close_query(info: Info, period: ReportPeriodInput) -> DayClose:
    """Every register's Z figures side by side over some days (X figures for those still open)."""
    try:
        return DayClose.from_report(await day_close(info.context.actor, *await _period(period)))
    except OperationError as error:
        raise _refused(error) from None


async def returns_report_query(info: Info, period: ReportPeriodInput) -> list[ReturnsReportRow]:
    try:
        rows = await returns_report(info.context.actor, *await _period(period))
    except OperationError as error:
        raise _refused(error) from None
    return [
        ReturnsReportRow(
            reason=r.reason,
            restock=r.restock,
            exchange=r.exchange,
            returns_count=r.returns_count,
            units=r.units,
            refunds=Money(amount=r.refunds),
            branch_pk=r.branch_id,
        )
        for r in rows
    ]


async def orders_report_query(info: Info, period: ReportPeriodInput) -> OrdersReport:
    try:
        return OrdersReport.from_report(await orders_report(info.context.actor, *await _period(period)))
    except OperationError as error:
        raise _refused(error) from None


async def stock_value_report(
    info: Info,
    branch_ids: list[strawberry.ID] | None = None,
    as_of: Annotated[
        date | None,
        strawberry.argument(description="The stock as it stood at the end of this local day; null: now."),
    ] = None,
) -> list[ValuationReportRow]:
    """On hand and its value by branch and product type, now or at the end of a past day (from the ledger)."""
    pks = _branch_ids(branch_ids)
    at = None
    if as_of is not None:
        spans = await local_days_at(pks, as_of, as_of)
        at = max((s.end for s in spans if s.end), default=None)
    rows = await valuation_report(info.context.actor, pks, as_of=at)
    return [
        ValuationReportRow(
            product_type=r.product_type,
            units=r.units,
            value=Money(amount=r.value),
            uncosted_units=r.uncosted_units,
            branch_pk=r.branch_id,
        )
        for r in rows
    ]


async def dead_stock_query(
    info: Info, days: int = 90, branch_ids: list[strawberry.ID] | None = None
) -> list[StockReportLine]:
    """Stock on hand with no sale at its branch in the last `days` days."""
    if not 1 <= days <= 3650:
        raise BadRequest("days must be 1–3650", field="days")
    return [StockReportLine.of(s) for s in await dead_stock(info.context.actor, _branch_ids(branch_ids), days)]


async def low_stock_query(info: Info, branch_ids: list[strawberry.ID] | None = None) -> list[StockReportLine]:
    """Levels at or below their reorder point."""
    return [StockReportLine.of(s) for s in await low_stock(info.context.actor, _branch_ids(branch_ids))]


async def transfer_ageing_query(info: Info, branch_ids: list[strawberry.ID] | None = None) -> list[TransferAgeing]:
    """Transfers on the road, oldest first."""
    return [
        TransferAgeing(
            number=t.number,
            status=t.status,
            dispatched_at=t.dispatched_at,
            units_on_the_road=t.units_on_the_road,
            days=t.days,
            source_pk=t.source_branch_id,
            destination_pk=t.destination_branch_id,
        )
        for t in await transfer_ageing(info.context.actor, _branch_ids(branch_ids))
    ]


def _shop_writes(f) -> ShopWritesSummary:
    return ShopWritesSummary(pending=f.pending, parked=f.parked, last_done_at=f.last_done_at)


async def sync_summary_query(info: Info, branch_ids: list[strawberry.ID] | None = None) -> SyncSummary:
    """Shopify pushes and writes, drift, and fiscal reporting (pending, ageing, parked, flagged, not fiscalised)."""
    try:
        s = await sync_summary(info.context.actor, _branch_ids(branch_ids))
    except OperationError as error:
        raise _refused(error) from None
    fiscal = status_of(s.fiscal)
    # Every branch asked for, those with no fiscal document yet too (status_of lists only branches with some).
    per_branch = status_of(FiscalFigures(s.fiscal.at, s.fiscal.ageing_hours, [b.fiscal for b in s.branches])).branches
    return SyncSummary(
        pushes_pending=s.pushes_pending,
        pushes_parked=s.pushes_parked,
        drift_lines_open=s.drift_lines_open,
        catalog_edits=_shop_writes(s.catalog_edits),
        customer_writes=_shop_writes(s.customer_writes),
        invoices_not_reported=s.invoices_not_reported,
        not_fiscalised=s.not_fiscalised,
        fiscal=fiscal,
        branches=[
            SyncBranchSummary(
                pushes_pending=b.pushes_pending,
                pushes_parked=b.pushes_parked,
                fiscal=branch_fiscal,
                branch_pk=b.branch_id,
            )
            for b, branch_fiscal in zip(s.branches, per_branch, strict=True)
        ],
    )


async def commission_report_query(info: Info, period: ReportPeriodInput) -> list[CommissionReportRow]:
    """Each salesperson's commission over some days, highest first."""
    try:
        rows = await commission_report(info.context.actor, *await _period(period))
    except OperationError as error:
        raise _refused(error) from None
    return [
        CommissionReportRow(
            rank=r.rank,
            sales=Money(amount=r.sales),
            refunds=Money(amount=r.refunds),
            commission=Money(amount=r.commission),
            salesperson_pk=r.salesperson_id,
        )
        for r in rows
    ]


async def set_commission_rate_mutation(info: Info, input: SetCommissionRateInput) -> SetCommissionRatePayload:
    async def run():
        staff_pk = ids.decode(input.staff_id, "Staff", "staffId") if input.staff_id is not None else None
        new = NewRate(input.percent, staff_pk, input.product_type, input.effective_from)
        rate, _ = await set_commission_rate(info.context.actor, new, input.idempotency_key)
        return {"rate": CommissionRate.from_model(rate)}

    return await payload(SetCommissionRatePayload, run)


def _url(info: Info, token: str | None) -> str | None:
    if token is None:
        return None
    return f"{str(info.context.request.base_url).rstrip('/')}/exports/{token}"


def _list_filters(input: ExportReportInput) -> dict | None:
    """A list's filters as the export stores them (IDs decoded here, checked in operations)."""
    if input.movements is not None and input.orders is not None:
        raise OperationError.single(ErrorCode.INVALID, "movements or orders, not both", "orders")
    if (m := input.movements) is not None:
        return {
            "variantIds": None
            if m.variant_ids is None
            else [ids.decode(v, "Variant", "movements.variantIds") for v in m.variant_ids],
            "reasons": m.reasons,
            "referenceType": m.reference_type,
            "referenceId": m.reference_id,
            "actor": m.actor,
        }
    if (o := input.orders) is not None:
        return {
            "status": None if o.status is None else o.status.value,
            "codStatus": None if o.cod_status is None else o.cod_status.value,
            "withException": o.with_exception,
        }
    return None


async def export_report_mutation(info: Info, input: ExportReportInput) -> ExportReportPayload:
    """Start writing a report to a file in the background; follow it with exportProgress."""

    async def run():
        branch_ids = (
            None if input.branch_ids is None else tuple(ids.decode(b, "Branch", "branchIds") for b in input.branch_ids)
        )
        request = ExportRequest(
            input.report.value,
            ExportFormatModel(input.format.value),
            *await report_days(input.from_, input.to, _period_of(input.period), branch_ids),
            branch_ids,
            tuple(SalesGroup(g.value) for g in input.group_by),
            _list_filters(input),
        )
        export, replayed = await start_export(info.context.actor, request, input.idempotency_key)
        if not replayed:
            launch_export(export.id)
        return {"export": ReportExportType.from_model(export)}

    return await payload(ExportReportPayload, run)


async def export_progress_query(info: Info, id: strawberry.ID) -> ReportExportType:
    """An export as it stands; once done, with a fresh download link."""
    pk = query_id(id, "ReportExport", "id")
    try:
        export, token = await export_progress(info.context.actor, pk)
    except OperationError as error:
        raise _refused(error) from None
    return ReportExportType.from_model(export, _url(info, token))
