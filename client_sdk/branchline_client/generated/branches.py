from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import BranchSummary, PageInfoFields


class Branches(BaseModel):
    branches: "BranchesBranches"


class BranchesBranches(BaseModel):
    edges: list["BranchesBranchesEdges"]
    page_info: "BranchesBranchesPageInfo" = Field(alias="pageInfo")


class BranchesBranchesEdges(BaseModel):
    node: "BranchesBranchesEdgesNode"


class BranchesBranchesEdgesNode(BranchSummary):
    routing_priority: int = Field(alias="routingPriority")
    shopify_location_id: Optional[str] = Field(alias="shopifyLocationId")


BranchesBranchesPageInfo = PageInfoFields
Branches.model_rebuild()
BranchesBranches.model_rebuild()
BranchesBranchesEdges.model_rebuild()
