"""Exchanges on online orders: inputs and payload (the types live in schema/orders.py, on `Order.exchanges`)."""

import strawberry

from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.orders import Order, OrderExchange


@strawberry.input(description="Units of an order line given back for another variant.")
class ExchangeLineInput:
    order_line_id: strawberry.ID | None = strawberry.field(default=None, description="The OrderLine's id.")
    shopify_line_item_id: str | None = strawberry.field(default=None, description="gid://shopify/LineItem/…")
    quantity: int
    new_variant_id: strawberry.ID = strawberry.field(description="The variant the customer takes instead.")
    damaged: bool = strawberry.field(
        default=False, description="After delivery: the unit that came back is unsellable (damaged bucket)."
    )


@strawberry.input(description="Swap variants on an order that has not shipped them yet; Shopify's order is edited.")
class ExchangeOrderItemsInput:
    order_id: strawberry.ID
    lines: list[ExchangeLineInput]
    note: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="A delivered order: the customer's units come back, replacements go out.")
class ExchangeDeliveredItemsInput:
    order_id: strawberry.ID
    lines: list[ExchangeLineInput]
    branch_id: strawberry.ID | None = strawberry.field(
        default=None, description="The branch taking the units back and sending the replacement; the order's."
    )
    courier: str | None = None
    tracking_number: str | None = None
    note: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class ExchangeOrderItemsPayload:
    exchange: OrderExchange | None = None
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExchangeDeliveredItemsPayload:
    exchange: OrderExchange | None = None
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
