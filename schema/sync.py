"""GraphQL types for the Shopify inventory push: parked rows and retrying them."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.errors import UserError

if TYPE_CHECKING:
    from schema.shopify import SyncStatus


@strawberry.type(description="A stock change Shopify has not accepted after repeated tries, kept until retried.")
class ParkedSyncRow:
    key: str = strawberry.field(description="What the change is, e.g. movement:123 (a stock movement).")
    last_error: str | None = strawberry.field(description="Why the last try failed, in Shopify's words.")
    attempts: int
    created_at: datetime


@strawberry.type
class RetryParkedSyncPayload:
    retried: int = strawberry.field(default=0, description="Parked changes put back in the queue.")
    status: Annotated["SyncStatus", strawberry.lazy("schema.shopify")] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
