"""GraphQL types for low-stock alerts and reorder suggestions."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from operations.stock import Crossing as OperationCrossing
from schema.enums import mirrored
from schema.types import AtBranch, Branch, Variant

LowStockCrossing = mirrored(
    OperationCrossing,
    "LowStockCrossing",
    (
        "LOW: available fell to the reorder point or below. OUT: nothing left to sell. "
        "RECOVERED: back above the reorder point."
    ),
)


@strawberry.type(description="A line crossed its reorder point (once per crossing, not on every sale).")
class LowStockAlert(AtBranch):
    crossing: LowStockCrossing  # type: ignore[valid-type]
    sku: str
    available: int
    reorder_point: int
    reorder_quantity: int
    sequence: int = strawberry.field(description="The stock movement's per-branch sequence (see stockChanged).")
    occurred_at: datetime


@strawberry.type(description="Units to move from another branch that holds more than it needs.")
class TransferSuggestion:
    quantity: int
    from_branch_pk: strawberry.Private[int]

    @strawberry.field(description="The branch that can spare the units.")
    async def from_branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.from_branch_pk))


@strawberry.type(description="A low line: how many to bring in, from which branches, and what is left to buy.")
class ReorderSuggestion:
    sku: str
    available: int
    reorder_point: int
    reorder_quantity: int
    need: int = strawberry.field(description="The reorder quantity, or enough to lift available above the point.")
    transfers: list[TransferSuggestion]
    purchase: int = strawberry.field(description="What the branches cannot spare: order it from a supplier.")
    variant_pk: strawberry.Private[int]

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))
