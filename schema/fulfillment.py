"""Online-order fulfillment and returns: the fulfillment as clients see it, its inputs and payloads.

Payloads carry the order as it stands afterwards (the `Order` type of schema/orders.py) and the fulfillment.
Order lines are named by their global id (`OrderLine:<id>`) or by Shopify's line item GID.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import orders as models
from schema.errors import UserError
from schema.ids import global_id
from schema.inputs import KEY_DESCRIPTION
from schema.orders import Order

OrderFulfillmentStatus = strawberry.enum(
    Enum("OrderFulfillmentStatus", {s.name: s.value for s in models.FulfillmentStatus}),
    name="OrderFulfillmentStatus",
    description="PENDING: deducted here, Shopify not yet told (Smart) or not yet matched (Manual). "
    "SYNCED: Shopify holds the matching fulfillment.",
)
OrderFulfillmentWorkflow = strawberry.enum(
    Enum("OrderFulfillmentWorkflow", {w.name: w.value for w in models.FulfillmentWorkflow}),
    name="OrderFulfillmentWorkflow",
    description="SMART: fulfilled here, Shopify told. MANUAL: recorded here, fulfilled in Shopify by hand "
    "(matched, not deducted again). BRANCH_SYNC: fulfilled in Shopify, deducted here from its webhook.",
)


@strawberry.type(description="Units of an order line in one fulfillment.")
class OrderFulfillmentLine:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.type(description="Units of an online order leaving a branch; each deducts stock once.")
class OrderFulfillment(relay.Node):
    id: relay.NodeID[int]
    order_id: strawberry.ID
    branch_id: strawberry.ID
    workflow: OrderFulfillmentWorkflow  # type: ignore[valid-type]
    status: OrderFulfillmentStatus  # type: ignore[valid-type]
    shopify_fulfillment_id: str | None
    tracking_company: str | None
    tracking_number: str | None
    created_by: str
    created_at: datetime
    lines: list[OrderFulfillmentLine]

    @classmethod
    def from_model(cls, m: models.Fulfillment, lines: list[models.FulfillmentLine]) -> Self:
        return cls(
            id=m.id,
            order_id=strawberry.ID(str(global_id("Order", m.order_id))),
            branch_id=strawberry.ID(str(global_id("Branch", m.branch_id))),
            workflow=OrderFulfillmentWorkflow(m.workflow.value),
            status=OrderFulfillmentStatus(m.status.value),
            shopify_fulfillment_id=m.shopify_fulfillment_id,
            tracking_company=m.tracking_company,
            tracking_number=m.tracking_number,
            created_by=m.created_by,
            created_at=m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC),
            lines=[
                OrderFulfillmentLine(
                    order_line_id=strawberry.ID(str(global_id("OrderLine", fl.order_line_id))), quantity=fl.quantity
                )
                for fl in lines
            ],
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        from resolvers.fulfillment import fulfillment_nodes

        return await fulfillment_nodes(info, node_ids)


# --- inputs --------------------------------------------------------------------------------------


@strawberry.input(description="An order line by its ID or by Shopify's line item GID.")
class FulfillOrderLineInput:
    order_line_id: strawberry.ID | None = None
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


@strawberry.input(description="An order line by its ID or by Shopify's line item GID.")
class ReturnedLineInput:
    order_line_id: strawberry.ID | None = None
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
    order_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveReturnedOrderPayload:
    order: Order | None = None
    order_id: strawberry.ID | None = None
    cod_status: str | None = strawberry.field(default=None, description="RETURNED for a COD order.")
    errors: list[UserError] = strawberry.field(default_factory=list)
