from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import StaffSummary, UserErrorFields


class CounterLogin(BaseModel):
    counter_login: "CounterLoginCounterLogin" = Field(alias="counterLogin")


class CounterLoginCounterLogin(BaseModel):
    token: Optional[str]
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    staff: Optional["CounterLoginCounterLoginStaff"]
    errors: list["CounterLoginCounterLoginErrors"]


CounterLoginCounterLoginStaff = StaffSummary
CounterLoginCounterLoginErrors = UserErrorFields
CounterLogin.model_rebuild()
CounterLoginCounterLogin.model_rebuild()
