from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import StaffSummary, UserErrorFields


class Login(BaseModel):
    login: "LoginLogin"


class LoginLogin(BaseModel):
    token: Optional[str]
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    staff: Optional["LoginLoginStaff"]
    errors: list["LoginLoginErrors"]


LoginLoginStaff = StaffSummary
LoginLoginErrors = UserErrorFields
Login.model_rebuild()
LoginLogin.model_rebuild()
