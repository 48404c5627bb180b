"""Types pushed over subscriptions."""

from datetime import datetime

import strawberry

from schema.types import StockBucket


@strawberry.type(description="A committed stock change at a branch, with the levels it left.")
class StockChange:
    branch_id: strawberry.ID
    variant_id: strawberry.ID
    movement_id: strawberry.ID
    sku: str
    bucket: StockBucket  # type: ignore[valid-type]
    delta: int
    reason: str
    sequence: int = strawberry.field(
        description="Per-branch, gap-free, in commit order. After a reconnect, fetch "
        "stockMovements(branchId, after: <last sequence seen>) to catch up."
    )
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    damaged: int
    occurred_at: datetime
