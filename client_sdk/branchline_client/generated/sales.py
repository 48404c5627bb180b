from datetime import datetime
from decimal import Decimal
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import SaleStatus, TenderType
from .fragments import MoneyFields, PageInfoFields


class Sales(BaseModel):
    sales: "SalesSales"


class SalesSales(BaseModel):
    edges: list["SalesSalesEdges"]
    page_info: "SalesSalesPageInfo" = Field(alias="pageInfo")


class SalesSalesEdges(BaseModel):
    node: "SalesSalesEdgesNode"


class SalesSalesEdgesNode(BaseModel):
    id: str
    number: Optional[str]
    status: SaleStatus
    is_quote: bool = Field(alias="isQuote")
    occurred_at: datetime = Field(alias="occurredAt")
    placed_at: Optional[datetime] = Field(alias="placedAt")
    customer_name: Optional[str] = Field(alias="customerName")
    customer_phone: Optional[str] = Field(alias="customerPhone")
    subtotal: "SalesSalesEdgesNodeSubtotal"
    discount_total: "SalesSalesEdgesNodeDiscountTotal" = Field(alias="discountTotal")
    tax_total: "SalesSalesEdgesNodeTaxTotal" = Field(alias="taxTotal")
    total: "SalesSalesEdgesNodeTotal"
    refunded_total: "SalesSalesEdgesNodeRefundedTotal" = Field(alias="refundedTotal")
    counter: "SalesSalesEdgesNodeCounter"
    lines: list["SalesSalesEdgesNodeLines"]
    tenders: list["SalesSalesEdgesNodeTenders"]


SalesSalesEdgesNodeSubtotal = MoneyFields
SalesSalesEdgesNodeDiscountTotal = MoneyFields
SalesSalesEdgesNodeTaxTotal = MoneyFields
SalesSalesEdgesNodeTotal = MoneyFields
SalesSalesEdgesNodeRefundedTotal = MoneyFields


class SalesSalesEdgesNodeCounter(BaseModel):
    id: str
    code: str


class SalesSalesEdgesNodeLines(BaseModel):
    line_no: int = Field(alias="lineNo")
    sku: str
    description: str
    quantity: int
    returned_quantity: int = Field(alias="returnedQuantity")
    unit_price: "SalesSalesEdgesNodeLinesUnitPrice" = Field(alias="unitPrice")
    tax_rate: Decimal = Field(alias="taxRate")
    net: "SalesSalesEdgesNodeLinesNet"
    tax: "SalesSalesEdgesNodeLinesTax"
    total: "SalesSalesEdgesNodeLinesTotal"


SalesSalesEdgesNodeLinesUnitPrice = MoneyFields
SalesSalesEdgesNodeLinesNet = MoneyFields
SalesSalesEdgesNodeLinesTax = MoneyFields
SalesSalesEdgesNodeLinesTotal = MoneyFields


class SalesSalesEdgesNodeTenders(BaseModel):
    type_: TenderType = Field(alias="type")
    amount: "SalesSalesEdgesNodeTendersAmount"


SalesSalesEdgesNodeTendersAmount = MoneyFields
SalesSalesPageInfo = PageInfoFields
Sales.model_rebuild()
SalesSales.model_rebuild()
SalesSalesEdges.model_rebuild()
SalesSalesEdgesNode.model_rebuild()
SalesSalesEdgesNodeLines.model_rebuild()
SalesSalesEdgesNodeTenders.model_rebuild()
