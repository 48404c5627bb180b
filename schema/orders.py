"""Online orders from Shopify: the order, its lines, history, fulfillments and exchanges; events; payloads.

Relations (an order's branch, a fulfillment's order, an exchange line's variants, who acted) read through
the request's loaders (schema/loaders.py). Amounts are `Money` in the order's currency, which the order's
rows (lines, exchanges, fulfillments) do not repeat: whoever builds one from its row passes it in.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from models import orders as models
from operations.kernel import Actor, Permission
from operations.orders import CANCEL_REASONS
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.returns import Restock
from schema.staff import Staff, actor_as_staff
from schema.types import Branch, FulfillmentWorkflow, Money, Variant

OrderStatus = mirrored(
    models.OrderStatus, "OrderStatus", "OPEN (units reserved) → PARTIALLY_FULFILLED → FULFILLED; or CANCELLED."
)
CodStatus = mirrored(
    models.CodStatus,
    "CodStatus",
    (
        "Cash on delivery: PENDING_CONFIRMATION → CONFIRMED → DISPATCHED → DELIVERED, or REFUSED → "
        "RETURNING → RETURNED; CANCELLED before dispatch."
    ),
)
OrderFinancialStatus = mirrored(
    models.FinancialStatus,
    "OrderFinancialStatus",
    (
        "Shopify's financial status of the order (its OrderDisplayFinancialStatus). PENDING also "
        "covers cash on delivery until it is marked paid."
    ),
)
OrderExceptionCode = mirrored(
    models.OrderExceptionCode,
    "OrderExceptionCode",
    (
        "What a person must resolve on an order. UNKNOWN_LOCATION: Shopify's location is no branch. "
        "UNKNOWN_VARIANT: a line's variant is not in Branchline. UNTRACKED_ITEM: Shopify does not track a line's "
        "stock. INSUFFICIENT_STOCK: the branch is short. EXCHANGE_REFUSED: Shopify would not take an exchange."
    ),
)
OrderEventKind = mirrored(
    models.OrderEventKind, "OrderEventKind", "A step in an order's life, in its history and on orderEvents."
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


def _exception(code: str | None):
    return OrderExceptionCode(code) if code is not None else None


_FINANCIAL_STATUSES = frozenset(s.value for s in models.FinancialStatus)


def _financial(status: str):
    """Shopify's status; None for one it added after this version (shown, not failed)."""
    return OrderFinancialStatus(status) if status in _FINANCIAL_STATUSES else None


async def _order(info: Info, pk: int) -> "Order":
    return Order.from_model(await info.context.loaders.order.load(pk))


async def _branch(info: Info, pk: int | None) -> Branch | None:
    if pk is None:
        return None
    found = await info.context.loaders.branch.load(pk)
    return Branch.from_model(found) if found else None


async def _variant(info: Info, pk: int | None) -> Variant | None:
    if pk is None:
        return None
    found = await info.context.loaders.variant.load(pk)
    return Variant.from_model(found) if found else None


async def _order_line(info: Info, pk: int | None, currency: str) -> "OrderLine | None":
    if pk is None:
        return None
    found = await info.context.loaders.order_line.load(pk)
    return OrderLine.from_model(found, currency) if found else None


@strawberry.type(description="One line of an online order: what Shopify says now and what Branchline holds.")
class OrderLine(relay.Node):
    id: relay.NodeID[int]  # named by it in fulfillOrder and receiveReturnedOrder
    shopify_line_item_id: str
    sku: str | None
    title: str
    quantity: int = strawberry.field(description="Shopify's current quantity (after edits and refunds).")
    unit_price: Money
    reserved: int = strawberry.field(description="Units held at the order's branch now.")
    fulfilled: int
    returned: int
    variant_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.OrderLine, currency: str) -> Self:
        """`currency`: the order's (a line does not repeat it)."""
        return cls(
            id=m.id,
            shopify_line_item_id=m.shopify_line_item_id,
            sku=m.sku,
            title=m.title,
            quantity=m.quantity,
            unit_price=Money(amount=m.unit_price, currency=currency),
            reserved=m.reserved,
            fulfilled=m.fulfilled,
            returned=m.returned,
            variant_pk=m.variant_id,
        )

    @strawberry.field(description="Null when the Shopify variant is unknown here or its stock is not tracked.")
    async def variant(self, info: Info) -> Variant | None:
        return await _variant(info, self.variant_pk)

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
            cls.from_model(lines[i], orders[lines[i].order_id].currency)
            if i in lines and _sees(actor, orders[lines[i].order_id])
            else None
            for i in wanted
        ]


@strawberry.type(description="A step in an order's life.")
class OrderHistoryEntry:
    kind: OrderEventKind  # type: ignore[valid-type]
    detail: JSON
    occurred_at: datetime
    actor_label: strawberry.Private[str]

    @strawberry.field(description="Who took the step; null when the system or Shopify did.")
    async def actor(self, info: Info) -> Staff | None:
        return await actor_as_staff(info, self.actor_label)

    @classmethod
    def from_model(cls, m: models.OrderHistory) -> Self:
        return cls(kind=OrderEventKind(m.kind), detail=m.detail, occurred_at=_utc(m.occurred_at), actor_label=m.actor)


OrderFulfillmentStatus = mirrored(
    models.FulfillmentStatus,
    "OrderFulfillmentStatus",
    (
        "PENDING: deducted here, Shopify not yet told (Smart) or not yet matched (Manual). "
        "SYNCED: Shopify holds the matching fulfillment."
    ),
)


@strawberry.type(description="Units of an order line in one fulfillment.")
class OrderFulfillmentLine:
    quantity: int
    order_line_pk: strawberry.Private[int]
    currency: strawberry.Private[str]

    @strawberry.field
    async def order_line(self, info: Info) -> OrderLine:
        return await _order_line(info, self.order_line_pk, self.currency)


@strawberry.type(description="Units of an online order leaving a branch; each deducts stock once.")
class OrderFulfillment(relay.Node):
    id: relay.NodeID[int]
    workflow: FulfillmentWorkflow  # type: ignore[valid-type]
    status: OrderFulfillmentStatus  # type: ignore[valid-type]
    shopify_fulfillment_id: str | None
    tracking_company: str | None
    tracking_number: str | None
    created_at: datetime
    lines: list[OrderFulfillmentLine]
    order_pk: strawberry.Private[int]
    branch_pk: strawberry.Private[int]
    actor_label: strawberry.Private[str]

    @strawberry.field(description="Units in this fulfillment, over all its lines.")
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @strawberry.field
    async def order(self, info: Info) -> "Order":
        return await _order(info, self.order_pk)

    @strawberry.field(description="The branch the units left.")
    async def branch(self, info: Info) -> Branch:
        return await _branch(info, self.branch_pk)

    @strawberry.field(description="Who recorded it; null when the system or Shopify did (Branch Sync).")
    async def actor(self, info: Info) -> Staff | None:
        return await actor_as_staff(info, self.actor_label)

    @classmethod
    def from_model(cls, m: models.Fulfillment, lines: list[models.FulfillmentLine], currency: str) -> Self:
        """`currency`: the order's."""
        return cls(
            id=m.id,
            workflow=FulfillmentWorkflow(m.workflow.value),
            status=OrderFulfillmentStatus(m.status.value),
            # A Manual/Smart fulfillment matched (or split) to a Shopify one carries it in the matched column.
            shopify_fulfillment_id=m.shopify_fulfillment_id or m.matched_shopify_fulfillment_id,
            tracking_company=m.tracking_company,
            tracking_number=m.tracking_number,
            created_at=_utc(m.created_at),
            lines=[
                OrderFulfillmentLine(quantity=fl.quantity, order_line_pk=fl.order_line_id, currency=currency)
                for fl in lines
            ],
            order_pk=m.order_id,
            branch_pk=m.branch_id,
            actor_label=m.created_by,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by staff who may see stock at their branch."""
        loaders = info.context.loaders
        wanted = [int(i) for i in node_ids if i.isdigit()]
        actor = info.context.actor
        rows = {
            r.id: r
            for r in await loaders.fulfillment.load_many(wanted)
            if r is not None and actor.can(Permission.VIEW_STOCK, r.branch_id)
        }
        lines = dict(zip(rows, await loaders.lines_of_fulfillment.load_many(list(rows)), strict=True))
        orders = {o.id: o for o in await loaders.order.load_many(sorted({r.order_id for r in rows.values()}))}
        return [
            cls.from_model(rows[i], lines[i], orders[rows[i].order_id].currency) if i in rows else None for i in wanted
        ]


ExchangeKind = mirrored(
    models.ExchangeKind,
    "ExchangeKind",
    (
        "BEFORE_DISPATCH: the reserved variant is swapped and Shopify's order edited. "
        "AFTER_DELIVERY: the customer's units come back and a replacement goes out."
    ),
)
ExchangeStatus = mirrored(
    models.ExchangeStatus,
    "ExchangeStatus",
    (
        "PENDING: swapped here, Shopify's order edit not yet committed. SYNCED: Shopify's order shows it. "
        "REFUSED: Shopify would not take the edit, the swap was undone (see error). DONE: after delivery, both "
        "stock moves made and pushed."
    ),
)


@strawberry.type(description="One exchanged line: units of one variant given back for another.")
class OrderExchangeLine:
    quantity: int
    condition: Restock | None = strawberry.field(  # type: ignore[valid-type]
        description="After delivery: where the unit that came back went (RESTOCK or DAMAGED)."
    )
    order_line_pk: strawberry.Private[int]
    new_order_line_pk: strawberry.Private[int | None]
    from_variant_pk: strawberry.Private[int | None]
    to_variant_pk: strawberry.Private[int]
    currency: strawberry.Private[str]

    @strawberry.field(description="The line the customer gave units back from.")
    async def order_line(self, info: Info) -> OrderLine:
        return await _order_line(info, self.order_line_pk, self.currency)

    @strawberry.field(description="Before dispatch: the line now holding the new variant.")
    async def new_order_line(self, info: Info) -> OrderLine | None:
        return await _order_line(info, self.new_order_line_pk, self.currency)

    @strawberry.field(description="The variant given back.")
    async def from_variant(self, info: Info) -> Variant | None:
        return await _variant(info, self.from_variant_pk)

    @strawberry.field(description="The variant the customer takes instead.")
    async def to_variant(self, info: Info) -> Variant:
        return await _variant(info, self.to_variant_pk)


@strawberry.type(description="A customer's exchange on an online order: one document, both sides, the difference.")
class OrderExchange(relay.Node):
    id: relay.NodeID[int]
    kind: ExchangeKind  # type: ignore[valid-type]
    status: ExchangeStatus  # type: ignore[valid-type]
    lines: list[OrderExchangeLine]
    price_difference: Money = strawberry.field(description="What the customer owes (negative: is owed).")
    courier: str | None
    tracking_number: str | None
    note: str | None
    error: str | None
    created_at: datetime
    order_pk: strawberry.Private[int]
    branch_pk: strawberry.Private[int]
    actor_label: strawberry.Private[str]

    @strawberry.field
    async def order(self, info: Info) -> "Order":
        return await _order(info, self.order_pk)

    @strawberry.field(description="The branch that took the units back or swapped them.")
    async def branch(self, info: Info) -> Branch:
        return await _branch(info, self.branch_pk)

    @strawberry.field(description="Who took the exchange; null when the system did.")
    async def actor(self, info: Info) -> Staff | None:
        return await actor_as_staff(info, self.actor_label)

    @classmethod
    def from_model(cls, m: models.OrderExchange, currency: str) -> Self:
        """`currency`: the order's."""
        return cls(
            id=m.id,
            kind=ExchangeKind(m.kind.value),
            status=ExchangeStatus(m.status.value),
            lines=[
                OrderExchangeLine(
                    quantity=x["quantity"],
                    condition=Restock(x["condition"]) if x.get("condition") else None,
                    order_line_pk=x["orderLineId"],
                    new_order_line_pk=x.get("newOrderLineId"),
                    from_variant_pk=x.get("fromVariantId"),
                    to_variant_pk=x["toVariantId"],
                    currency=currency,
                )
                for x in m.lines
            ],
            price_difference=Money(amount=m.price_difference, currency=currency),
            courier=m.courier,
            tracking_number=m.tracking_number,
            note=m.note,
            error=m.error,
            created_at=_utc(m.created_at),
            order_pk=m.order_id,
            branch_pk=m.branch_id,
            actor_label=m.created_by,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by whoever sees their order."""
        loaders = info.context.loaders
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {r.id: r for r in await loaders.order_exchange.load_many(wanted) if r is not None}
        orders = {o.id: o for o in await loaders.order.load_many(sorted({r.order_id for r in rows.values()}))}
        actor = info.context.actor
        return [
            cls.from_model(rows[i], orders[rows[i].order_id].currency)
            if i in rows and _sees(actor, orders[rows[i].order_id])
            else None
            for i in wanted
        ]


@strawberry.type(description="An online order from Shopify, reserved at the branch that ships it.")
class Order(relay.Node):
    id: relay.NodeID[int]
    shopify_order_id: str
    name: str
    status: OrderStatus  # type: ignore[valid-type]
    cod_status: CodStatus | None  # type: ignore[valid-type]
    is_cod: bool
    payment_gateways: list[str]
    financial_status: OrderFinancialStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="Null for a status Shopify added after this version."
    )
    currency: str
    total: Money
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    courier: str | None
    tracking_number: str | None
    exception_code: OrderExceptionCode | None = strawberry.field(  # type: ignore[valid-type]
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
            financial_status=_financial(m.financial_status),
            currency=m.currency,
            total=Money(amount=m.total, currency=m.currency),
            customer_name=m.customer_name,
            customer_phone=m.customer_phone,
            customer_email=m.customer_email,
            courier=m.courier,
            tracking_number=m.tracking_number,
            exception_code=_exception(m.exception_code),
            exception_message=m.exception_message,
            shopify_location_id=m.shopify_location_id,
            created_at=_utc(m.created_at),
            updated_at=_utc(m.updated_at),
            cancelled_at=_utc(m.cancelled_at),
            branch_pk=m.branch_id,
        )

    @strawberry.field(description="The branch holding and shipping the order; null while it waits for one.")
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return [OrderLine.from_model(m, self.currency) for m in await info.context.loaders.lines_of_order.load(self.id)]

    @strawberry.field
    async def history(self, info: Info) -> list[OrderHistoryEntry]:
        return [OrderHistoryEntry.from_model(h) for h in await info.context.loaders.history_of_order.load(self.id)]

    @strawberry.field
    async def fulfillments(self, info: Info) -> list[OrderFulfillment]:
        rows = await info.context.loaders.fulfillments_of_order.load(self.id)
        return [OrderFulfillment.from_model(f, lines, self.currency) for f, lines in rows]

    @strawberry.field(description="Exchanges on this order, oldest first.")
    async def exchanges(self, info: Info) -> list[OrderExchange]:
        rows = await info.context.loaders.exchanges_of_order.load(self.id)
        return [OrderExchange.from_model(m, self.currency) for m in rows]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {r.id: r for r in await info.context.loaders.order.load_many(wanted) if r is not None}
        actor = info.context.actor
        return [cls.from_model(rows[i]) if i in rows and _sees(actor, rows[i]) else None for i in wanted]


@strawberry.type(description="Something happened to an online order at one of the watched branches.")
class OrderEvent:
    kind: OrderEventKind  # type: ignore[valid-type]
    shopify_order_id: str
    name: str
    status: OrderStatus  # type: ignore[valid-type]
    cod_status: CodStatus | None  # type: ignore[valid-type]
    exception_code: OrderExceptionCode | None  # type: ignore[valid-type]
    occurred_at: datetime
    order_pk: strawberry.Private[int]
    branch_pk: strawberry.Private[int | None]

    @strawberry.field(description="The order as it stands now (status and codStatus above: as of the event).")
    async def order(self, info: Info) -> Order:
        return await _order(info, self.order_pk)

    @strawberry.field(description="The order's branch at the event; null while it waits for one.")
    async def branch(self, info: Info) -> Branch | None:
        return await _branch(info, self.branch_pk)

    @classmethod
    def from_event(cls, e: dict) -> Self:
        """From the plain JSON published on the bus (operations/orders/events.py `event_of`)."""
        return cls(
            kind=OrderEventKind(e["kind"]),
            shopify_order_id=e["shopifyOrderId"],
            name=e["name"],
            status=OrderStatus(e["status"]),
            cod_status=CodStatus(e["codStatus"]) if e.get("codStatus") else None,
            exception_code=_exception(e.get("exceptionCode")),
            occurred_at=_utc(datetime.fromisoformat(e["occurredAt"])),
            order_pk=e["orderId"],
            branch_pk=e.get("branchId"),
        )


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
