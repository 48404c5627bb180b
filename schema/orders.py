"""Online orders from Shopify: the order, its lines, history and fulfillments; events; payloads."""

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from models import orders as models
from operations.kernel.access import Actor, Permission
from operations.orders.steps import CANCEL_REASONS
from schema.errors import UserError
from schema.ids import global_id
from schema.inputs import KEY_DESCRIPTION
from schema.types import Branch, Variant

OrderStatus = strawberry.enum(
    Enum("OrderStatus", {s.name: s.value for s in models.OrderStatus}),
    name="OrderStatus",
    description="OPEN (units reserved) → PARTIALLY_FULFILLED → FULFILLED; or CANCELLED.",
)
CodStatus = strawberry.enum(
    Enum("CodStatus", {s.name: s.value for s in models.CodStatus}),
    name="CodStatus",
    description="Cash on delivery: PENDING_CONFIRMATION → CONFIRMED → DISPATCHED → DELIVERED, or REFUSED → "
    "RETURNING → RETURNED; CANCELLED before dispatch.",
)


def _sees(actor: Actor, order: models.Order) -> bool:
    """Orders need VIEW_SALES at their branch; one without a branch yet, someone who sees every branch."""
    if order.branch_id is None:
        return actor.can(Permission.VIEW_SALES) and actor.branch_ids is None
    return actor.can(Permission.VIEW_SALES, order.branch_id)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@strawberry.type(description="One line of an online order: what Shopify says now and what Branchline holds.")
class OrderLine(relay.Node):
    id: relay.NodeID[int]  # named by it in fulfillOrder and receiveReturnedOrder
    shopify_line_item_id: str
    sku: str | None
    title: str
    quantity: int = strawberry.field(description="Shopify's current quantity (after edits and refunds).")
    unit_price: Decimal
    reserved: int = strawberry.field(description="Units held at the order's branch now.")
    fulfilled: int
    returned: int
    variant_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.OrderLine) -> Self:
        return cls(
            id=m.id,
            shopify_line_item_id=m.shopify_line_item_id,
            sku=m.sku,
            title=m.title,
            quantity=m.quantity,
            unit_price=m.unit_price,
            reserved=m.reserved,
            fulfilled=m.fulfilled,
            returned=m.returned,
            variant_pk=m.variant_id,
        )

    @strawberry.field(description="Null when the Shopify variant is unknown here or its stock is not tracked.")
    async def variant(self, info: Info) -> Variant | None:
        if self.variant_pk is None:
            return None
        found = await info.context.loaders.variant.load(self.variant_pk)
        return Variant.from_model(found) if found else None

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by whoever sees their order (they are named by it in fulfillOrder and receiveReturnedOrder)."""
        loaders = info.context.loaders
        wanted = [int(i) for i in node_ids if i.isdigit()]
        lines = {r.id: r for r in await loaders.order_line.load_many(wanted) if r is not None}
        orders = await loaders.order.load_many(sorted({line.order_id for line in lines.values()}))
        orders = {o.id: o for o in orders if o is not None}
        actor = info.context.actor
        return [
            cls.from_model(lines[i]) if i in lines and _sees(actor, orders[lines[i].order_id]) else None for i in wanted
        ]


@strawberry.type(description="A step in an order's life.")
class OrderHistoryEntry:
    kind: str
    detail: JSON
    actor: str
    occurred_at: datetime


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
    order_line_id: strawberry.ID = strawberry.field(description="The OrderLine's id.")
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

    @strawberry.field(description="Units in this fulfillment, over all its lines.")
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @classmethod
    def from_model(cls, m: models.Fulfillment, lines: list[models.FulfillmentLine]) -> Self:
        return cls(
            id=m.id,
            order_id=strawberry.ID(str(global_id("Order", m.order_id))),
            branch_id=strawberry.ID(str(global_id("Branch", m.branch_id))),
            workflow=OrderFulfillmentWorkflow(m.workflow.value),
            status=OrderFulfillmentStatus(m.status.value),
            # A Manual/Smart fulfillment matched (or split) to a Shopify one carries it in the matched column.
            shopify_fulfillment_id=m.shopify_fulfillment_id or m.matched_shopify_fulfillment_id,
            tracking_company=m.tracking_company,
            tracking_number=m.tracking_number,
            created_by=m.created_by,
            created_at=_utc(m.created_at),
            lines=[
                OrderFulfillmentLine(
                    order_line_id=strawberry.ID(str(global_id("OrderLine", fl.order_line_id))), quantity=fl.quantity
                )
                for fl in lines
            ],
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by staff who may see stock at their branch."""
        loaders = info.context.loaders
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {r.id: r for r in await loaders.fulfillment.load_many(wanted) if r is not None}
        lines = dict(zip(rows, await loaders.lines_of_fulfillment.load_many(list(rows)), strict=True))
        actor = info.context.actor
        return [
            cls.from_model(rows[i], lines[i])
            if i in rows and actor.can(Permission.VIEW_STOCK, rows[i].branch_id)
            else None
            for i in wanted
        ]


ExchangeKind = strawberry.enum(
    Enum("ExchangeKind", {k.name: k.value for k in models.ExchangeKind}),
    name="ExchangeKind",
    description="BEFORE_DISPATCH: the reserved variant is swapped and Shopify's order edited. "
    "AFTER_DELIVERY: the customer's units come back and a replacement goes out.",
)
ExchangeStatus = strawberry.enum(
    Enum("ExchangeStatus", {k.name: k.value for k in models.ExchangeStatus}),
    name="ExchangeStatus",
    description="PENDING: swapped here, Shopify's order edit not yet committed. SYNCED: Shopify's order shows it. "
    "REFUSED: Shopify would not take the edit, the swap was undone (see error). DONE: after delivery, both "
    "stock moves made and pushed.",
)


@strawberry.type(description="One exchanged line: units of one variant given back for another.")
class OrderExchangeLine:
    order_line_id: strawberry.ID = strawberry.field(description="The line the customer gave units back from.")
    new_order_line_id: strawberry.ID | None = strawberry.field(
        description="Before dispatch: the line now holding them."
    )
    quantity: int
    from_variant_id: strawberry.ID | None
    to_variant_id: strawberry.ID
    condition: str | None = strawberry.field(description="After delivery: restock or damaged.")


@strawberry.type(description="A customer's exchange on an online order: one document, both sides, the difference.")
class OrderExchange:
    id: strawberry.ID
    order_id: strawberry.ID
    branch_id: strawberry.ID
    kind: ExchangeKind  # type: ignore[valid-type]
    status: ExchangeStatus  # type: ignore[valid-type]
    lines: list[OrderExchangeLine]
    price_difference: Decimal = strawberry.field(description="What the customer owes (negative: is owed).")
    courier: str | None
    tracking_number: str | None
    note: str | None
    error: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def from_model(cls, m: models.OrderExchange) -> Self:
        def gid(kind: str, pk: int | None) -> strawberry.ID | None:
            return strawberry.ID(str(global_id(kind, pk))) if pk is not None else None

        return cls(
            id=strawberry.ID(str(m.id)),
            order_id=gid("Order", m.order_id),
            branch_id=gid("Branch", m.branch_id),
            kind=ExchangeKind(m.kind.value),
            status=ExchangeStatus(m.status.value),
            lines=[
                OrderExchangeLine(
                    order_line_id=gid("OrderLine", x["orderLineId"]),
                    new_order_line_id=gid("OrderLine", x.get("newOrderLineId")),
                    quantity=x["quantity"],
                    from_variant_id=gid("Variant", x.get("fromVariantId")),
                    to_variant_id=gid("Variant", x["toVariantId"]),
                    condition=x.get("condition"),
                )
                for x in m.lines
            ],
            price_difference=m.price_difference,
            courier=m.courier,
            tracking_number=m.tracking_number,
            note=m.note,
            error=m.error,
            created_by=m.created_by,
            created_at=_utc(m.created_at),
        )


@strawberry.type(description="An online order from Shopify, reserved at the branch that ships it.")
class Order(relay.Node):
    id: relay.NodeID[int]
    shopify_order_id: str
    name: str
    status: OrderStatus  # type: ignore[valid-type]
    cod_status: CodStatus | None  # type: ignore[valid-type]
    is_cod: bool
    payment_gateways: list[str]
    financial_status: str
    currency: str
    total: Decimal
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    courier: str | None
    tracking_number: str | None
    exception_code: str | None = strawberry.field(
        description="Something a person must resolve (unknown variant, unmapped location, short stock)."
    )
    exception_message: str | None
    shopify_location_id: str | None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    branch_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.Order) -> Self:
        return cls(
            id=m.id,
            shopify_order_id=m.shopify_order_id,
            name=m.name,
            status=OrderStatus(m.status.value),
            cod_status=CodStatus(m.cod_status.value) if m.cod_status else None,
            is_cod=m.is_cod,
            payment_gateways=list(m.payment_gateways or []),
            financial_status=m.financial_status,
            currency=m.currency,
            total=m.total,
            customer_name=m.customer_name,
            customer_phone=m.customer_phone,
            customer_email=m.customer_email,
            courier=m.courier,
            tracking_number=m.tracking_number,
            exception_code=m.exception_code,
            exception_message=m.exception_message,
            shopify_location_id=m.shopify_location_id,
            created_at=_utc(m.created_at),
            updated_at=_utc(m.updated_at),
            cancelled_at=_utc(m.cancelled_at),
            branch_pk=m.branch_id,
        )

    @strawberry.field(description="The branch holding and shipping the order; null while it waits for one.")
    async def branch(self, info: Info) -> Branch | None:
        if self.branch_pk is None:
            return None
        found = await info.context.loaders.branch.load(self.branch_pk)
        return Branch.from_model(found) if found else None

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return [OrderLine.from_model(m) for m in await info.context.loaders.lines_of_order.load(self.id)]

    @strawberry.field
    async def history(self, info: Info) -> list[OrderHistoryEntry]:
        return [
            OrderHistoryEntry(kind=h.kind, detail=h.detail, actor=h.actor, occurred_at=_utc(h.occurred_at))
            for h in await info.context.loaders.history_of_order.load(self.id)
        ]

    @strawberry.field
    async def fulfillments(self, info: Info) -> list[OrderFulfillment]:
        rows = await info.context.loaders.fulfillments_of_order.load(self.id)
        return [OrderFulfillment.from_model(f, lines) for f, lines in rows]

    @strawberry.field(description="Exchanges on this order, oldest first.")
    async def exchanges(self, info: Info) -> list[OrderExchange]:
        return [OrderExchange.from_model(m) for m in await info.context.loaders.exchanges_of_order.load(self.id)]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {r.id: r for r in await info.context.loaders.order.load_many(wanted) if r is not None}
        actor = info.context.actor
        return [cls.from_model(rows[i]) if i in rows and _sees(actor, rows[i]) else None for i in wanted]


@strawberry.type(description="Something happened to an online order at one of the watched branches.")
class OrderEvent:
    kind: str = strawberry.field(description="created, updated, cancelled, routed, confirmed, dispatched, ...")
    order_id: strawberry.ID
    shopify_order_id: str
    name: str
    branch_id: strawberry.ID | None
    status: OrderStatus  # type: ignore[valid-type]
    cod_status: CodStatus | None  # type: ignore[valid-type]
    exception_code: str | None
    occurred_at: datetime


# --- mutations -----------------------------------------------------------------------------------

OrderCancelReason = strawberry.enum(
    Enum("OrderCancelReason", {v: v for v in CANCEL_REASONS}),
    name="OrderCancelReason",
    description="Why an order is cancelled, as Shopify records it (OrderCancelReason in its Admin API).",
)


@strawberry.input(description="COD: the customer confirmed on the phone; the order may now be shipped.")
class ConfirmOrderInput:
    order_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="COD: the courier delivered and collected the cash.")
class MarkOrderDeliveredInput:
    order_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="COD: refused at the door; the parcel returns to origin.")
class MarkOrderRefusedInput:
    order_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="An order to cancel before anything shipped.")
class CancelOrderInput:
    order_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    reason: OrderCancelReason = OrderCancelReason.CUSTOMER  # type: ignore[attr-defined]


@strawberry.input(description="Ship an order from another branch.")
class AssignOrderBranchInput:
    order_id: strawberry.ID
    branch_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class ConfirmOrderPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarkOrderDeliveredPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarkOrderRefusedPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelOrderPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssignOrderBranchPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
