from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class SyncStatus(BaseModel):
    sync_status: "SyncStatusSyncStatus" = Field(alias="syncStatus")


class SyncStatusSyncStatus(BaseModel):
    connection: Optional["SyncStatusSyncStatusConnection"]
    pending: int
    parked: int
    last_pushed_at: Optional[datetime] = Field(alias="lastPushedAt")
    lag_seconds: float = Field(alias="lagSeconds")
    needs_attention: int = Field(alias="needsAttention")
    order_actions: "SyncStatusSyncStatusOrderActions" = Field(alias="orderActions")
    webhooks: "SyncStatusSyncStatusWebhooks"


class SyncStatusSyncStatusConnection(BaseModel):
    shop_domain: str = Field(alias="shopDomain")
    connected: bool
    connected_at: datetime = Field(alias="connectedAt")


class SyncStatusSyncStatusOrderActions(BaseModel):
    pending: int
    parked: int
    last_done_at: Optional[datetime] = Field(alias="lastDoneAt")


class SyncStatusSyncStatusWebhooks(BaseModel):
    pending: int
    exceptions: int
    parked: int
    lag_seconds: float = Field(alias="lagSeconds")


SyncStatus.model_rebuild()
SyncStatusSyncStatus.model_rebuild()
