"""Mutation payloads: the object, or errors saying why nothing changed."""

import strawberry

from schema.errors import UserError
from schema.types import Branch, Counter, Product, StockLevel, StockMovement


@strawberry.type
class CreateBranchPayload:
    branch: Branch | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetBranchOnlineSettingsPayload:
    branch: Branch | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateCounterPayload:
    counter: Counter | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateCounterPayload:
    counter: Counter | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeactivateCounterPayload:
    counter: Counter | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateProductPayload:
    product: Product | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdjustStockPayload:
    movements: list[StockMovement] = strawberry.field(
        default_factory=list, description="The ledger entries written, with the levels they left."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetReorderPointsPayload:
    levels: list[StockLevel] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
