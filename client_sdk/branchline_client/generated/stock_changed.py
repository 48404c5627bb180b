from pydantic import Field

from .base_model import BaseModel
from .fragments import StockChangeFields


class StockChanged(BaseModel):
    stock_changed: "StockChangedStockChanged" = Field(alias="stockChanged")


StockChangedStockChanged = StockChangeFields
StockChanged.model_rebuild()
