"""Reports beside the sales report: day close, returns, stock, online orders, commission, sync status, and exports
with their inputs and payloads (operations/reports/)."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Self

import strawberry
from strawberry.types import Info

from models import reports as models
from operations import reports as ops
from schema import ids
from schema.enums import mirrored
from schema.errors import UserError
from schema.fiscal import BranchFiscalStatus, FiscalStatus
from schema.inputs import KEY_DESCRIPTION
from schema.orders import CodStatus, OrderStatus
from schema.registers import RegisterReport
from schema.reports import ReportPeriod, SalesGroup
from schema.staff import Staff, staff_member
from schema.types import Branch, Money, Variant

ExportFormat = mirrored(models.ExportFormat, "ExportFormat")
ExportStatus = mirrored(
    models.ExportStatus, "ExportStatus", "EXPIRED: the file was deleted after its time (exports are short-lived)."
)


@strawberry.enum(description="What an export writes.")
class ExportReport(Enum):
    SALES = "sales"
    SALE_LINES = strawberry.enum_value("sale_lines", description="Every line of every sale, one row each.")
    COMMISSION = "commission"
    RETURNS = "returns"
    VALUATION = strawberry.enum_value("valuation", description="Stock value as it stood at the end of `to`.")
    ORDERS = "orders"
    STOCK_MOVEMENTS = strawberry.enum_value(
        "stock_movements", description="The stock movements themselves, one row each (filters in `movements`)."
    )
    ORDER_LIST = strawberry.enum_value(
        "order_list", description="The online orders themselves, one row each (filters in `orders`)."
    )


def _money(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money(amount=amount)


async def _branch(info: Info, pk: int | None) -> Branch | None:
    row = await info.context.loaders.branch.load(pk) if pk else None
    return Branch.from_model(row) if row else None


async def _variant(info: Info, pk: int) -> Variant | None:
    row = await info.context.loaders.variant.load(pk)
    return Variant.from_model(row) if row else None


@strawberry.input(description="Some local days (each branch's calendar) at some branches.")
class ReportPeriodInput:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    period: ReportPeriod | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="In place of from and to."
    )
    branch_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Null: every branch the caller may see."
    )


@strawberry.type(description="Every register closed on some days (X reports of those still open), side by side.")
class DayClose:
    registers: list[RegisterReport]
    sales_total: Money
    refunded_total: Money
    over_short: Money = strawberry.field(description="Negative: the drawers are short.")
    cash_to_bank: Money = strawberry.field(description="Counted at close less each drawer's opening float.")

    @classmethod
    def from_report(cls, d: ops.DayClose) -> Self:
        return cls(
            registers=[RegisterReport.from_report(r) for r in d.registers],
            sales_total=Money(amount=d.sales_total),
            refunded_total=Money(amount=d.refunded_total),
            over_short=Money(amount=d.over_short),
            cash_to_bank=Money(amount=d.cash_to_bank),
        )


@strawberry.type(description="Returns by the branch that took the goods back, reason and what became of them.")
class ReturnsReportRow:
    reason: str | None
    restock: str = strawberry.field(description="restock, no_restock or damaged.")
    exchange: bool
    returns_count: int
    units: int
    refunds: Money
    branch_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)


@strawberry.type(description="A branch's stock of one product type and its value at weighted average cost.")
class ValuationReportRow:
    product_type: str
    units: int
    value: Money
    uncosted_units: int = strawberry.field(description="Units of variants with no cost yet (not in the value).")
    branch_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)


@strawberry.type(description="A stock level in a stock report.")
class StockReportLine:
    on_hand: int
    available: int
    reorder_point: int
    last_sold_at: datetime | None
    branch_pk: strawberry.Private[int]
    variant_pk: strawberry.Private[int]

    @classmethod
    def of(cls, s: ops.StockLine) -> Self:
        return cls(
            on_hand=s.on_hand,
            available=s.available,
            reorder_point=s.reorder_point,
            last_sold_at=s.last_sold_at,
            branch_pk=s.branch_id,
            variant_pk=s.variant_id,
        )

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)

    @strawberry.field
    async def variant(self, info: Info) -> Variant | None:
        return await _variant(info, self.variant_pk)


@strawberry.type(description="A transfer on the road: dispatched, not yet wholly received.")
class TransferAgeing:
    number: str
    status: str
    dispatched_at: datetime
    units_on_the_road: int
    days: int
    source_pk: strawberry.Private[int]
    destination_pk: strawberry.Private[int]

    @strawberry.field
    async def source_branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.source_pk)

    @strawberry.field
    async def destination_branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.destination_pk)


@strawberry.type(description="Online orders of one branch, courier, status and COD status.")
class OrdersReportRow:
    courier: str | None
    status: str
    cod_status: str | None
    orders: int
    value: Money
    branch_pk: strawberry.Private[int | None]

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)


@strawberry.type(description="Online orders and cash on delivery over some days.")
class OrdersReport:
    rows: list[OrdersReportRow]
    delivered_rate: Decimal | None = strawberry.field(description="Of COD orders whose trip ended: 0–1.")
    refused_rate: Decimal | None
    rto_rate: Decimal | None = strawberry.field(description="Returned to origin: refused or sent back.")
    value_in_transit: Money = strawberry.field(description="COD orders with the courier: cash not yet collected.")

    @classmethod
    def from_report(cls, r: ops.OrdersReport) -> Self:
        return cls(
            rows=[
                OrdersReportRow(
                    courier=o.courier,
                    status=o.status,
                    cod_status=o.cod_status,
                    orders=o.orders,
                    value=Money(amount=o.value),
                    branch_pk=o.branch_id,
                )
                for o in r.rows
            ],
            delivered_rate=r.delivered_rate,
            refused_rate=r.refused_rate,
            rto_rate=r.rto_rate,
            value_in_transit=Money(amount=r.value_in_transit),
        )


@strawberry.type(description="Writes waiting for Shopify: catalog edits or customers made here.")
class ShopWritesSummary:
    pending: int
    parked: int = strawberry.field(description="Failed too often or refused: waiting for someone to retry them.")
    last_done_at: datetime | None


@strawberry.type(description="One branch in the sync report: its inventory pushes and its fiscal documents.")
class SyncBranchSummary:
    pushes_pending: int
    pushes_parked: int
    fiscal: BranchFiscalStatus = strawberry.field(
        description="As fiscalStatus counts them; notFiscalised: sales at unregistered counters, never reported."
    )
    branch_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)


@strawberry.type(description="Where the sync with Shopify stands, and fiscal reporting, over the branches asked for.")
class SyncSummary:
    pushes_pending: int = strawberry.field(description="Inventory pushes of these branches waiting to go.")
    pushes_parked: int
    drift_lines_open: int = strawberry.field(description="Unexplained in the latest drift check, not repaired.")
    catalog_edits: ShopWritesSummary = strawberry.field(description="For the whole shop (not per branch).")
    customer_writes: ShopWritesSummary = strawberry.field(description="For the whole shop (not per branch).")
    invoices_not_reported: int = strawberry.field(description="Fiscal documents pending (parked included) or refused.")
    not_fiscalised: int = strawberry.field(description="Sales and returns at counters not registered: never reported.")
    fiscal: FiscalStatus = strawberry.field(description="fiscalStatus over the same branches.")
    branches: list[SyncBranchSummary]


@strawberry.type(description="A salesperson's place on the commission leaderboard.")
class CommissionReportRow:
    rank: int
    sales: Money = strawberry.field(description="What customers paid for the lines they sold.")
    refunds: Money = strawberry.field(description="Refunded on their lines in the period.")
    commission: Money = strawberry.field(description="Earned less what refunds took back.")
    salesperson_pk: strawberry.Private[int]

    @strawberry.field
    async def salesperson(self, info: Info) -> Staff | None:
        return await staff_member(info, self.salesperson_pk)


@strawberry.type(description="A commission percent from a moment on, for a salesperson, a product type, or both.")
class CommissionRate:
    id: strawberry.ID
    percent: Decimal
    product_type: str | None
    effective_from: datetime
    staff_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.CommissionRate) -> Self:
        return cls(
            id=str(ids.global_id("CommissionRate", m.id)),
            percent=m.percent,
            product_type=m.product_type,
            effective_from=m.effective_from,
            staff_pk=m.staff_id,
        )

    @strawberry.field
    async def staff(self, info: Info) -> Staff | None:
        return await staff_member(info, self.staff_pk)


@strawberry.input
class SetCommissionRateInput:
    percent: Decimal = strawberry.field(description="0–100, two decimals at most.")
    staff_id: strawberry.ID | None = None
    product_type: str | None = None
    effective_from: datetime | None = strawberry.field(default=None, description="Null: from now on.")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class SetCommissionRatePayload:
    rate: CommissionRate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A report written to a file in the background.")
class ReportExport:
    id: strawberry.ID
    report: str
    format: ExportFormat  # type: ignore[valid-type]
    status: ExportStatus  # type: ignore[valid-type]
    rows_written: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = strawberry.field(description="When the file is deleted.")
    error: str | None
    download_url: str | None = strawberry.field(
        default=None,
        description="Once DONE: a link to the file, good for a few minutes (ask exportProgress again for a new one).",
    )

    @classmethod
    def from_model(cls, m: models.ReportExport, download_url: str | None = None) -> Self:
        return cls(
            id=str(ids.global_id("ReportExport", m.id)),
            report=m.report,
            format=m.format,
            status=m.status,
            rows_written=m.rows_written,
            created_at=m.created_at,
            finished_at=m.finished_at,
            expires_at=m.expires_at,
            error=m.error,
            download_url=download_url,
        )


@strawberry.input(description="The stockMovements query's filters, for a STOCK_MOVEMENTS export.")
class MovementsExportFilter:
    variant_ids: list[strawberry.ID] | None = None
    reasons: list[str] | None = strawberry.field(default=None, description="At most 50 (e.g. sale).")
    reference_type: str | None = None
    reference_id: str | None = strawberry.field(default=None, description="With referenceType: one document.")
    actor: str | None = strawberry.field(default=None, description='Who moved the stock ("staff:12 (…)").')


@strawberry.input(description="The orders list's filters, for an ORDER_LIST export.")
class OrdersExportFilter:
    status: OrderStatus | None = None  # type: ignore[valid-type]
    cod_status: CodStatus | None = None  # type: ignore[valid-type]
    with_exception: bool | None = None


@strawberry.input
class ExportReportInput:
    report: ExportReport
    format: ExportFormat  # type: ignore[valid-type]
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    period: ReportPeriod | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="In place of from and to: the days are fixed when the export starts."
    )
    branch_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Null: every branch.")
    group_by: list[SalesGroup] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="The sales report's grouping."
    )
    movements: MovementsExportFilter | None = None
    orders: OrdersExportFilter | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class ExportReportPayload:
    export: ReportExport | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
