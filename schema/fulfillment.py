"""Online-order fulfillment and returns: the fulfillment as clients see it, its inputs and payloads.

Payloads carry the order as it stands afterwards and the fulfillment: both types live in schema/orders.py
(`Order.fulfillments` and the payloads show the same `OrderFulfillment`). Order lines are named by their
global id (`OrderLine.id`) or by Shopify's line item GID.
"""

import strawberry

from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.orders import CodStatus, Order, OrderFulfillment, OrderFulfillmentLine, OrderFulfillmentStatus

# --- inputs --------------------------------------------------------------------------------------


@strawberry.input(description="An order line by its ID or by Shopify's line item GID.")
class FulfillOrderLineInput:
    order_line_id: strawberry.ID | None = strawberry.field(default=None, description="The OrderLine's id.")
    shopify_line_item_id: str | None = strawberry.field(default=None, description="gid://shopify/LineItem/…")
    quantity: int


@strawberry.input(description="Ship an order (or some of its lines) from its branch.")
class FulfillOrderInput:
    order_id: strawberry.ID
    lines: list[FulfillOrderLineInput] | None = strawberry.field(
        default=None, description="Leave out to ship every unit still to ship."
    )
    courier: str | None = strawberry.field(default=None, description="The tracking company, e.g. TCS, Leopards.")
    tracking_number: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="Units shipped from the branch and fulfilled in Shopify by hand later (matched there).")
class RecordManualFulfillmentInput:
    order_id: strawberry.ID
    lines: list[FulfillOrderLineInput] | None = strawberry.field(
        default=None, description="Leave out to record every unit still to ship."
    )
    courier: str | None = strawberry.field(default=None, description="The tracking company, e.g. TCS, Leopards.")
    tracking_number: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="An order line by its ID or by Shopify's line item GID.")
class ReturnedLineInput:
    order_line_id: strawberry.ID | None = strawberry.field(default=None, description="The OrderLine's id.")
    shopify_line_item_id: str | None = strawberry.field(default=None, description="gid://shopify/LineItem/…")
    restock: int = strawberry.field(default=0, description="Sellable: back on the shelf.")
    damaged: int = strawberry.field(default=0, description="Unsellable: into the damaged bucket.")


@strawberry.input(description="A parcel back at a branch (return to origin, or a customer return), line by line.")
class ReceiveReturnedOrderInput:
    order_id: strawberry.ID
    lines: list[ReturnedLineInput]
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="Where it arrived; the order's.")
    note: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


# --- payloads ------------------------------------------------------------------------------------


@strawberry.type
class FulfillOrderPayload:
    fulfillment: OrderFulfillment | None = None
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordManualFulfillmentPayload:
    fulfillment: OrderFulfillment | None = None
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveReturnedOrderPayload:
    order: Order | None = None
    cod_status: CodStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="RETURNED for a COD order; null for a prepaid one."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


__all__ = [
    "FulfillOrderInput",
    "FulfillOrderLineInput",
    "FulfillOrderPayload",
    "OrderFulfillment",
    "OrderFulfillmentLine",
    "OrderFulfillmentStatus",
    "ReceiveReturnedOrderInput",
    "ReceiveReturnedOrderPayload",
    "RecordManualFulfillmentInput",
    "RecordManualFulfillmentPayload",
    "ReturnedLineInput",
]
