from .base_model import BaseModel
from .fragments import BranchSummary, StaffSummary


class Me(BaseModel):
    me: "MeMe"


class MeMe(StaffSummary):
    branches: list["MeMeBranches"]


MeMeBranches = BranchSummary
Me.model_rebuild()
MeMe.model_rebuild()
