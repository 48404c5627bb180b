from pydantic import Field

from .base_model import BaseModel
from .fragments import MovementFields, PageInfoFields


class StockMovements(BaseModel):
    stock_movements: "StockMovementsStockMovements" = Field(alias="stockMovements")


class StockMovementsStockMovements(BaseModel):
    edges: list["StockMovementsStockMovementsEdges"]
    page_info: "StockMovementsStockMovementsPageInfo" = Field(alias="pageInfo")


class StockMovementsStockMovementsEdges(BaseModel):
    node: "StockMovementsStockMovementsEdgesNode"


StockMovementsStockMovementsEdgesNode = MovementFields
StockMovementsStockMovementsPageInfo = PageInfoFields
StockMovements.model_rebuild()
StockMovementsStockMovements.model_rebuild()
StockMovementsStockMovementsEdges.model_rebuild()
