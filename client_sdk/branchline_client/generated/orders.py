from pydantic import Field

from .base_model import BaseModel
from .fragments import OrderFields, PageInfoFields


class Orders(BaseModel):
    orders: "OrdersOrders"


class OrdersOrders(BaseModel):
    edges: list["OrdersOrdersEdges"]
    page_info: "OrdersOrdersPageInfo" = Field(alias="pageInfo")


class OrdersOrdersEdges(BaseModel):
    node: "OrdersOrdersEdgesNode"


OrdersOrdersEdgesNode = OrderFields
OrdersOrdersPageInfo = PageInfoFields
Orders.model_rebuild()
OrdersOrders.model_rebuild()
OrdersOrdersEdges.model_rebuild()
