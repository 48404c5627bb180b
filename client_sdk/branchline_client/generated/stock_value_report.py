from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import MoneyFields


class StockValueReport(BaseModel):
    stock_value_report: list["StockValueReportStockValueReport"] = Field(
        alias="stockValueReport"
    )


class StockValueReportStockValueReport(BaseModel):
    product_type: str = Field(alias="productType")
    units: int
    value: "StockValueReportStockValueReportValue"
    uncosted_units: int = Field(alias="uncostedUnits")
    branch: Optional["StockValueReportStockValueReportBranch"]


StockValueReportStockValueReportValue = MoneyFields


class StockValueReportStockValueReportBranch(BaseModel):
    id: str
    code: str


StockValueReport.model_rebuild()
StockValueReportStockValueReport.model_rebuild()
