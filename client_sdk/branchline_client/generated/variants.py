from pydantic import Field

from .base_model import BaseModel
from .fragments import PageInfoFields, VariantFields


class Variants(BaseModel):
    variants: "VariantsVariants"


class VariantsVariants(BaseModel):
    edges: list["VariantsVariantsEdges"]
    page_info: "VariantsVariantsPageInfo" = Field(alias="pageInfo")


class VariantsVariantsEdges(BaseModel):
    node: "VariantsVariantsEdgesNode"


VariantsVariantsEdgesNode = VariantFields
VariantsVariantsPageInfo = PageInfoFields
Variants.model_rebuild()
VariantsVariants.model_rebuild()
VariantsVariantsEdges.model_rebuild()
