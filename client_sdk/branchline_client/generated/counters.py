from pydantic import Field

from .base_model import BaseModel
from .fragments import PageInfoFields


class Counters(BaseModel):
    counters: "CountersCounters"


class CountersCounters(BaseModel):
    edges: list["CountersCountersEdges"]
    page_info: "CountersCountersPageInfo" = Field(alias="pageInfo")


class CountersCountersEdges(BaseModel):
    node: "CountersCountersEdgesNode"


class CountersCountersEdgesNode(BaseModel):
    id: str
    code: str
    name: str
    active: bool


CountersCountersPageInfo = PageInfoFields
Counters.model_rebuild()
CountersCounters.model_rebuild()
CountersCountersEdges.model_rebuild()
