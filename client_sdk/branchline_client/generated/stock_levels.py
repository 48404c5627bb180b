from pydantic import Field

from .base_model import BaseModel
from .fragments import PageInfoFields, StockLevelFields


class StockLevels(BaseModel):
    stock_levels: "StockLevelsStockLevels" = Field(alias="stockLevels")


class StockLevelsStockLevels(BaseModel):
    edges: list["StockLevelsStockLevelsEdges"]
    page_info: "StockLevelsStockLevelsPageInfo" = Field(alias="pageInfo")


class StockLevelsStockLevelsEdges(BaseModel):
    node: "StockLevelsStockLevelsEdgesNode"


StockLevelsStockLevelsEdgesNode = StockLevelFields
StockLevelsStockLevelsPageInfo = PageInfoFields
StockLevels.model_rebuild()
StockLevelsStockLevels.model_rebuild()
StockLevelsStockLevelsEdges.model_rebuild()
