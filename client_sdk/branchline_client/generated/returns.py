from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Restock
from .fragments import MoneyFields, PageInfoFields


class Returns(BaseModel):
    returns: "ReturnsReturns"


class ReturnsReturns(BaseModel):
    edges: list["ReturnsReturnsEdges"]
    page_info: "ReturnsReturnsPageInfo" = Field(alias="pageInfo")


class ReturnsReturnsEdges(BaseModel):
    node: "ReturnsReturnsEdgesNode"


class ReturnsReturnsEdgesNode(BaseModel):
    id: str
    number: str
    reason: Optional[str]
    created_at: datetime = Field(alias="createdAt")
    net: "ReturnsReturnsEdgesNodeNet"
    tax: "ReturnsReturnsEdgesNodeTax"
    total: "ReturnsReturnsEdgesNodeTotal"
    cash_paid_out: "ReturnsReturnsEdgesNodeCashPaidOut" = Field(alias="cashPaidOut")
    sale: "ReturnsReturnsEdgesNodeSale"
    branch: "ReturnsReturnsEdgesNodeBranch"
    lines: list["ReturnsReturnsEdgesNodeLines"]


ReturnsReturnsEdgesNodeNet = MoneyFields
ReturnsReturnsEdgesNodeTax = MoneyFields
ReturnsReturnsEdgesNodeTotal = MoneyFields
ReturnsReturnsEdgesNodeCashPaidOut = MoneyFields


class ReturnsReturnsEdgesNodeSale(BaseModel):
    id: str
    number: Optional[str]


class ReturnsReturnsEdgesNodeBranch(BaseModel):
    id: str
    code: str


class ReturnsReturnsEdgesNodeLines(BaseModel):
    line_no: int = Field(alias="lineNo")
    sku: str
    quantity: int
    restock: Restock
    total: "ReturnsReturnsEdgesNodeLinesTotal"


ReturnsReturnsEdgesNodeLinesTotal = MoneyFields
ReturnsReturnsPageInfo = PageInfoFields
Returns.model_rebuild()
ReturnsReturns.model_rebuild()
ReturnsReturnsEdges.model_rebuild()
ReturnsReturnsEdgesNode.model_rebuild()
ReturnsReturnsEdgesNodeLines.model_rebuild()
