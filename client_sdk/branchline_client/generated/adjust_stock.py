from pydantic import Field

from .base_model import BaseModel
from .fragments import MovementFields, UserErrorFields


class AdjustStock(BaseModel):
    adjust_stock: "AdjustStockAdjustStock" = Field(alias="adjustStock")


class AdjustStockAdjustStock(BaseModel):
    movements: list["AdjustStockAdjustStockMovements"]
    errors: list["AdjustStockAdjustStockErrors"]


AdjustStockAdjustStockMovements = MovementFields
AdjustStockAdjustStockErrors = UserErrorFields
AdjustStock.model_rebuild()
AdjustStockAdjustStock.model_rebuild()
