from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import CodStatus, OrderEventKind, OrderExceptionCode, OrderStatus


class OrderEvents(BaseModel):
    order_events: "OrderEventsOrderEvents" = Field(alias="orderEvents")


class OrderEventsOrderEvents(BaseModel):
    kind: OrderEventKind
    shopify_order_id: str = Field(alias="shopifyOrderId")
    name: str
    status: OrderStatus
    cod_status: Optional[CodStatus] = Field(alias="codStatus")
    exception_code: Optional[OrderExceptionCode] = Field(alias="exceptionCode")
    occurred_at: datetime = Field(alias="occurredAt")
    branch: Optional["OrderEventsOrderEventsBranch"]


class OrderEventsOrderEventsBranch(BaseModel):
    id: str
    code: str


OrderEvents.model_rebuild()
OrderEventsOrderEvents.model_rebuild()
