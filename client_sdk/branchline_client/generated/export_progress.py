from pydantic import Field

from .base_model import BaseModel
from .fragments import ReportExportFields


class ExportProgress(BaseModel):
    export_progress: "ExportProgressExportProgress" = Field(alias="exportProgress")


ExportProgressExportProgress = ReportExportFields
ExportProgress.model_rebuild()
