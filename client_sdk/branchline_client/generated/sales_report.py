from pydantic import Field

from .base_model import BaseModel
from .fragments import SalesReportRowFields


class SalesReport(BaseModel):
    sales_report: "SalesReportSalesReport" = Field(alias="salesReport")


class SalesReportSalesReport(BaseModel):
    rows: list["SalesReportSalesReportRows"]
    totals: "SalesReportSalesReportTotals"


SalesReportSalesReportRows = SalesReportRowFields
SalesReportSalesReportTotals = SalesReportRowFields
SalesReport.model_rebuild()
SalesReportSalesReport.model_rebuild()
