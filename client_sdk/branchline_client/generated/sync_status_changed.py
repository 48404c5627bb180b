from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class SyncStatusChanged(BaseModel):
    sync_status_changed: "SyncStatusChangedSyncStatusChanged" = Field(
        alias="syncStatusChanged"
    )


class SyncStatusChangedSyncStatusChanged(BaseModel):
    pending: int
    parked: int
    last_pushed_at: Optional[datetime] = Field(alias="lastPushedAt")
    lag_seconds: float = Field(alias="lagSeconds")
    needs_attention: int = Field(alias="needsAttention")


SyncStatusChanged.model_rebuild()
