from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ReportExportFields, UserErrorFields


class StartExport(BaseModel):
    export_report: "StartExportExportReport" = Field(alias="exportReport")


class StartExportExportReport(BaseModel):
    export: Optional["StartExportExportReportExport"]
    errors: list["StartExportExportReportErrors"]


StartExportExportReportExport = ReportExportFields
StartExportExportReportErrors = UserErrorFields
StartExport.model_rebuild()
StartExportExportReport.model_rebuild()
