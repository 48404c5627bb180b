from datetime import date
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    AdjustmentReason,
    CodStatus,
    ExportFormat,
    ExportReport,
    OrderStatus,
    ReportPeriod,
    SalesGroup,
)


class AdjustStockInput(BaseModel):
    branch_id: str = Field(alias="branchId")
    reason: AdjustmentReason
    lines: list["StockLineInput"]
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Repeating a request with the same key returns the first result and changes nothing."
    note: Optional[str] = None
    manager_pin: Optional[str] = Field(alias="managerPin", default=None)
    "A manager's PIN: needed when the adjustment moves more units than the approval size (BRANCHLINE_ADJUSTMENT_APPROVAL_UNITS) and the caller may not approve at this branch themself."


class CounterLoginInput(BaseModel):
    counter_id: str = Field(alias="counterId")
    pin: str
    staff_id: Optional[str] = Field(alias="staffId", default=None)
    "Optional: the cashier picked from a list, then the PIN."


class ExportReportInput(BaseModel):
    report: ExportReport
    format: ExportFormat
    from_: Optional[date] = Field(serialization_alias="from", default=None)
    to: Optional[date] = None
    period: Optional[ReportPeriod] = None
    "In place of from and to: the days are fixed when the export starts."
    branch_ids: Optional[list[str]] = Field(alias="branchIds", default=None)
    "Null: every branch."
    group_by: list[SalesGroup] = Field(alias="groupBy", default_factory=lambda: [])
    "The sales report's grouping."
    movements: Optional["MovementsExportFilter"] = None
    orders: Optional["OrdersExportFilter"] = None
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Repeating a request with the same key returns the first result and changes nothing."


class LoginInput(BaseModel):
    email: str
    password: str


class MovementsExportFilter(BaseModel):
    """The stockMovements query's filters, for a STOCK_MOVEMENTS export."""

    variant_ids: Optional[list[str]] = Field(alias="variantIds", default=None)
    reasons: Optional[list[str]] = None
    "At most 50 (e.g. sale)."
    reference_type: Optional[str] = Field(alias="referenceType", default=None)
    reference_id: Optional[str] = Field(alias="referenceId", default=None)
    "With referenceType: one document."
    actor: Optional[str] = None
    'Who moved the stock ("staff:12 (…)").'


class OrdersExportFilter(BaseModel):
    """The orders list's filters, for an ORDER_LIST export."""

    status: Optional[OrderStatus] = None
    cod_status: Optional[CodStatus] = Field(alias="codStatus", default=None)
    with_exception: Optional[bool] = Field(alias="withException", default=None)


class ReportPeriodInput(BaseModel):
    """Some local days (each branch's calendar) at some branches."""

    from_: Optional[date] = Field(serialization_alias="from", default=None)
    to: Optional[date] = None
    period: Optional[ReportPeriod] = None
    "In place of from and to."
    branch_ids: Optional[list[str]] = Field(alias="branchIds", default=None)
    "Null: every branch the caller may see."


class SalesReportInput(BaseModel):
    """Which sales a report covers and what its rows are per."""

    from_: Optional[date] = Field(serialization_alias="from", default=None)
    "The first local day (each branch's own calendar); or a period."
    to: Optional[date] = None
    "The last local day, included."
    period: Optional[ReportPeriod] = None
    "In place of from and to."
    branch_ids: Optional[list[str]] = Field(alias="branchIds", default=None)
    "Null: every branch the caller may see."
    group_by: list[SalesGroup] = Field(alias="groupBy", default_factory=lambda: [])
    "Empty: one row of totals."


class StockLineInput(BaseModel):
    variant: "VariantRefInput"
    quantity: Optional[int] = None
    "The change: -2 takes two units off."
    counted_quantity: Optional[int] = Field(alias="countedQuantity", default=None)
    "What is physically there: on hand becomes this."


class VariantRefInput(BaseModel):
    """A variant by exactly one of: its ID, its SKU, its barcode (a scan)."""

    id: Optional[str] = None
    sku: Optional[str] = None
    barcode: Optional[str] = None


AdjustStockInput.model_rebuild()
ExportReportInput.model_rebuild()
StockLineInput.model_rebuild()
