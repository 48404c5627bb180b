from datetime import date
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import AdjustmentReason, ExportFormat, ExportReport, SalesGroup


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
    from_: date = Field(serialization_alias="from")
    to: date
    branch_ids: Optional[list[str]] = Field(alias="branchIds", default=None)
    "Null: every branch."
    group_by: list[SalesGroup] = Field(alias="groupBy", default_factory=lambda: [])
    "The sales report's grouping."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Repeating a request with the same key returns the first result and changes nothing."


class LoginInput(BaseModel):
    email: str
    password: str


class ReportPeriodInput(BaseModel):
    """Some local days (each branch's calendar) at some branches."""

    from_: date = Field(serialization_alias="from")
    to: date
    branch_ids: Optional[list[str]] = Field(alias="branchIds", default=None)
    "Null: every branch the caller may see."


class SalesReportInput(BaseModel):
    """Which sales a report covers and what its rows are per."""

    from_: date = Field(serialization_alias="from")
    "The first local day (each branch's own calendar)."
    to: date
    "The last local day, included."
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
StockLineInput.model_rebuild()
