from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    CodStatus,
    ErrorCode,
    ExportFormat,
    ExportStatus,
    OrderExceptionCode,
    OrderFinancialStatus,
    OrderStatus,
    ReportTender,
    StaffRole,
    StockBucket,
    StockMovementReason,
)


class BranchSummary(BaseModel):
    id: str
    code: str
    name: str
    timezone: str


class MoneyFields(BaseModel):
    amount: Decimal
    currency: str


class MovementFields(BaseModel):
    id: str
    sequence: int
    bucket: StockBucket
    delta: int
    reason: StockMovementReason
    on_hand: int = Field(alias="onHand")
    reserved: int
    available: int
    in_transit: int = Field(alias="inTransit")
    damaged: int
    occurred_at: datetime = Field(alias="occurredAt")
    note: Optional[str]
    branch: "MovementFieldsBranch"
    variant: "MovementFieldsVariant"


class MovementFieldsBranch(BaseModel):
    id: str


class MovementFieldsVariant(BaseModel):
    id: str
    sku: str


class OrderFields(BaseModel):
    id: str
    shopify_order_id: str = Field(alias="shopifyOrderId")
    name: str
    status: OrderStatus
    cod_status: Optional[CodStatus] = Field(alias="codStatus")
    is_cod: bool = Field(alias="isCod")
    financial_status: Optional[OrderFinancialStatus] = Field(alias="financialStatus")
    total: "OrderFieldsTotal"
    customer_name: str = Field(alias="customerName")
    customer_phone: Optional[str] = Field(alias="customerPhone")
    courier: Optional[str]
    tracking_number: Optional[str] = Field(alias="trackingNumber")
    exception_code: Optional[OrderExceptionCode] = Field(alias="exceptionCode")
    exception_message: Optional[str] = Field(alias="exceptionMessage")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    cancelled_at: Optional[datetime] = Field(alias="cancelledAt")
    branch: Optional["OrderFieldsBranch"]


class OrderFieldsTotal(MoneyFields):
    pass


class OrderFieldsBranch(BaseModel):
    id: str
    code: str


class PageInfoFields(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: Optional[str] = Field(alias="endCursor")


class ReportExportFields(BaseModel):
    id: str
    report: str
    format: ExportFormat
    status: ExportStatus
    rows_written: int = Field(alias="rowsWritten")
    created_at: datetime = Field(alias="createdAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    error: Optional[str]
    download_url: Optional[str] = Field(alias="downloadUrl")


class SalesReportRowFields(BaseModel):
    day: Optional[date]
    week: Optional[date]
    month: Optional[date]
    tender_type: Optional[ReportTender] = Field(alias="tenderType")
    product_type: Optional[str] = Field(alias="productType")
    gross: Optional["SalesReportRowFieldsGross"]
    discounts: Optional["SalesReportRowFieldsDiscounts"]
    net: Optional["SalesReportRowFieldsNet"]
    tax: Optional["SalesReportRowFieldsTax"]
    total: "SalesReportRowFieldsTotal"
    units: Optional[int]
    sales_count: int = Field(alias="salesCount")
    average_basket: Optional["SalesReportRowFieldsAverageBasket"] = Field(
        alias="averageBasket"
    )
    returns_count: int = Field(alias="returnsCount")
    returned_units: Optional[int] = Field(alias="returnedUnits")
    refunds: "SalesReportRowFieldsRefunds"
    refunded_net: Optional["SalesReportRowFieldsRefundedNet"] = Field(
        alias="refundedNet"
    )
    total_after_refunds: "SalesReportRowFieldsTotalAfterRefunds" = Field(
        alias="totalAfterRefunds"
    )
    cost_of_goods: Optional["SalesReportRowFieldsCostOfGoods"] = Field(
        alias="costOfGoods"
    )
    margin: Optional["SalesReportRowFieldsMargin"]
    uncosted_units: Optional[int] = Field(alias="uncostedUnits")
    branch: Optional["SalesReportRowFieldsBranch"]
    counter: Optional["SalesReportRowFieldsCounter"]
    cashier: Optional["SalesReportRowFieldsCashier"]
    salesperson: Optional["SalesReportRowFieldsSalesperson"]
    product: Optional["SalesReportRowFieldsProduct"]
    variant: Optional["SalesReportRowFieldsVariant"]


class SalesReportRowFieldsGross(MoneyFields):
    pass


class SalesReportRowFieldsDiscounts(MoneyFields):
    pass


class SalesReportRowFieldsNet(MoneyFields):
    pass


class SalesReportRowFieldsTax(MoneyFields):
    pass


class SalesReportRowFieldsTotal(MoneyFields):
    pass


class SalesReportRowFieldsAverageBasket(MoneyFields):
    pass


class SalesReportRowFieldsRefunds(MoneyFields):
    pass


class SalesReportRowFieldsRefundedNet(MoneyFields):
    pass


class SalesReportRowFieldsTotalAfterRefunds(MoneyFields):
    pass


class SalesReportRowFieldsCostOfGoods(MoneyFields):
    pass


class SalesReportRowFieldsMargin(MoneyFields):
    pass


class SalesReportRowFieldsBranch(BranchSummary):
    pass


class SalesReportRowFieldsCounter(BaseModel):
    id: str
    code: str


class SalesReportRowFieldsCashier(BaseModel):
    id: str
    name: str


class SalesReportRowFieldsSalesperson(BaseModel):
    id: str
    name: str


class SalesReportRowFieldsProduct(BaseModel):
    id: str
    title: str


class SalesReportRowFieldsVariant(BaseModel):
    id: str
    sku: str


class StaffSummary(BaseModel):
    id: str
    name: str
    role: StaffRole


class StockChangeFields(BaseModel):
    branch_id: str = Field(alias="branchId")
    variant_id: str = Field(alias="variantId")
    movement_id: str = Field(alias="movementId")
    sku: str
    bucket: StockBucket
    delta: int
    reason: str
    sequence: int
    on_hand: int = Field(alias="onHand")
    reserved: int
    available: int
    in_transit: int = Field(alias="inTransit")
    damaged: int
    occurred_at: datetime = Field(alias="occurredAt")


class StockLevelFields(BaseModel):
    id: str
    branch: "StockLevelFieldsBranch"
    variant: "StockLevelFieldsVariant"
    on_hand: int = Field(alias="onHand")
    reserved: int
    available: int
    in_transit: int = Field(alias="inTransit")
    damaged: int
    reorder_point: int = Field(alias="reorderPoint")
    updated_at: datetime = Field(alias="updatedAt")


class StockLevelFieldsBranch(BranchSummary):
    pass


class StockLevelFieldsVariant(BaseModel):
    id: str
    sku: str


class TenderTotalsFields(BaseModel):
    cash: "TenderTotalsFieldsCash"
    card: "TenderTotalsFieldsCard"
    bank: "TenderTotalsFieldsBank"
    loyalty: "TenderTotalsFieldsLoyalty"


class TenderTotalsFieldsCash(MoneyFields):
    pass


class TenderTotalsFieldsCard(MoneyFields):
    pass


class TenderTotalsFieldsBank(MoneyFields):
    pass


class TenderTotalsFieldsLoyalty(MoneyFields):
    pass


class UserErrorFields(BaseModel):
    field: Optional[str]
    message: str
    code: ErrorCode


class VariantFields(BaseModel):
    id: str
    sku: str
    barcode: Optional[str]
    title: str
    size: Optional[str]
    colour: Optional[str]
    price: "VariantFieldsPrice"
    tax_rate: Decimal = Field(alias="taxRate")
    product: "VariantFieldsProduct"


class VariantFieldsPrice(MoneyFields):
    pass


class VariantFieldsProduct(BaseModel):
    id: str
    title: str
    vendor: str
    product_type: str = Field(alias="productType")


BranchSummary.model_rebuild()
MoneyFields.model_rebuild()
MovementFields.model_rebuild()
OrderFields.model_rebuild()
PageInfoFields.model_rebuild()
ReportExportFields.model_rebuild()
SalesReportRowFields.model_rebuild()
StaffSummary.model_rebuild()
StockChangeFields.model_rebuild()
StockLevelFields.model_rebuild()
TenderTotalsFields.model_rebuild()
UserErrorFields.model_rebuild()
VariantFields.model_rebuild()
