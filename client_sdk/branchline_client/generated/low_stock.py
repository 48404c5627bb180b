from datetime import datetime

from pydantic import Field

from .base_model import BaseModel
from .enums import LowStockCrossing


class LowStock(BaseModel):
    low_stock: "LowStockLowStock" = Field(alias="lowStock")


class LowStockLowStock(BaseModel):
    crossing: LowStockCrossing
    sku: str
    available: int
    reorder_point: int = Field(alias="reorderPoint")
    reorder_quantity: int = Field(alias="reorderQuantity")
    sequence: int
    occurred_at: datetime = Field(alias="occurredAt")
    branch: "LowStockLowStockBranch"
    variant: "LowStockLowStockVariant"


class LowStockLowStockBranch(BaseModel):
    id: str
    code: str


class LowStockLowStockVariant(BaseModel):
    id: str


LowStock.model_rebuild()
LowStockLowStock.model_rebuild()
