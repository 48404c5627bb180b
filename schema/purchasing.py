"""Purchasing: suppliers, purchase orders, goods-received notes, stock valuation; their inputs
and payloads. Relations load through the request's DataLoaders (schema/loaders.py)."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import purchasing as models
from operations.kernel import Actor, Permission, require_signed_in
from schema.enums import mirrored
from schema.errors import UserError
from schema.ids import global_id
from schema.inputs import KEY_DESCRIPTION, VariantRefInput
from schema.staff import Staff, actor_field
from schema.types import Branch, Money, Variant

PKR = Decimal("0.01")

PurchaseOrderStatus = mirrored(
    models.PurchaseOrderStatus,
    "PurchaseOrderStatus",
    "DRAFT → ORDERED → PARTIALLY_RECEIVED → RECEIVED → CLOSED; CANCELLED before anything was received.",
)


def sees_purchasing(actor: Actor, branch_id: int | None = None) -> bool:
    """Buyers (PURCHASE) and the staff who receive the goods (ADJUST_STOCK) at that branch."""
    return actor.can(Permission.PURCHASE, branch_id) or actor.can(Permission.ADJUST_STOCK, branch_id)


def _pks(node_ids: Iterable[str]) -> list[int | None]:
    return [int(i) if str(i).isdigit() else None for i in node_ids]


async def _rows(loader, wanted: list[int | None]) -> dict:
    return {r.id: r for r in await loader.load_many([i for i in wanted if i]) if r is not None}


def _money(amount: Decimal | None, currency: str = "PKR") -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)


@strawberry.type(description="Who the retailer buys from.")
class Supplier(relay.Node):
    id: relay.NodeID[int]
    name: str
    phone: str | None
    email: str | None
    ntn: str | None = strawberry.field(description="Pakistan's national tax number, when the supplier has one.")
    active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, m: models.Supplier) -> Self:
        return cls(
            id=m.id, name=m.name, phone=m.phone, email=m.email, ntn=m.ntn, active=m.active, created_at=m.created_at
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        actor = info.context.actor
        require_signed_in(actor)
        wanted = _pks(node_ids)
        rows = await _rows(info.context.loaders.supplier, wanted)
        visible = sees_purchasing(actor)
        return [cls.from_model(rows[i]) if visible and i in rows else None for i in wanted]


@strawberry.type(description="One variant on a purchase order. outstanding = ordered - received - cancelled.")
class PurchaseOrderLine:
    id: strawberry.ID = strawberry.field(description="Receive against it as receiveGoods lines.lineId.")
    line_no: int
    quantity_ordered: int
    quantity_received: int
    quantity_cancelled: int = strawberry.field(
        description="No longer expected: the order was closed short or cancelled"
    )
    outstanding: int
    unit_cost: Money = strawberry.field(description="Agreed with the supplier, per unit (up to 4 decimals).")
    total: Money = strawberry.field(description="quantityOrdered × unitCost, to the paisa.")
    variant_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.PurchaseOrderLine, currency: str) -> Self:
        return cls(
            id=global_id("PurchaseOrderLine", m.id),
            line_no=m.line_no,
            quantity_ordered=m.quantity_ordered,
            quantity_received=m.quantity_received,
            quantity_cancelled=m.quantity_cancelled,
            outstanding=m.outstanding,
            unit_cost=Money(amount=m.unit_cost, currency=currency),
            total=Money(amount=(m.unit_cost * m.quantity_ordered).quantize(PKR), currency=currency),
            variant_pk=m.variant_id,
        )

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type(description="What a branch ordered from a supplier, and how much of it has arrived.")
class PurchaseOrder(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="PO- and a number, e.g. PO-000042.")
    status: PurchaseOrderStatus  # type: ignore[valid-type]
    currency: str
    expected_on: date | None
    note: str | None
    created_by: Staff | None = actor_field(lambda o: o.model.created_by, "Who drafted (or placed) it.")
    ordered_at: datetime | None
    last_received_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    close_reason: str | None
    created_at: datetime
    model: strawberry.Private[models.PurchaseOrder]

    @classmethod
    def from_model(cls, m: models.PurchaseOrder) -> Self:
        return cls(
            id=m.id,
            number=m.number,
            status=PurchaseOrderStatus(m.status.value),
            currency=m.currency,
            expected_on=m.expected_on,
            note=m.note,
            ordered_at=m.ordered_at,
            last_received_at=m.last_received_at,
            closed_at=m.closed_at,
            cancelled_at=m.cancelled_at,
            close_reason=m.close_reason,
            created_at=m.created_at,
            model=m,
        )

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier:
        return Supplier.from_model(await info.context.loaders.supplier.load(self.model.supplier_id))

    @strawberry.field(description="The receiving branch.")
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.model.branch_id))

    @strawberry.field
    async def lines(self, info: Info) -> list[PurchaseOrderLine]:
        rows = await info.context.loaders.lines_of_purchase_order.load(self.id)
        return [PurchaseOrderLine.from_model(r, self.currency) for r in rows]

    @strawberry.field(description="Σ quantityOrdered × unitCost.")
    async def total(self, info: Info) -> Money:
        rows = await info.context.loaders.lines_of_purchase_order.load(self.id)
        return Money(amount=sum((r.unit_cost * r.quantity_ordered for r in rows), Decimal(0)).quantize(PKR))

    @strawberry.field(description="Units still expected, over all lines.")
    async def outstanding(self, info: Info) -> int:
        return sum(r.outstanding for r in await info.context.loaders.lines_of_purchase_order.load(self.id))

    @strawberry.field(description="The goods-received notes against this order, oldest first.")
    async def receipts(self, info: Info) -> list["GoodsReceipt"]:
        rows = await info.context.loaders.receipts_of_purchase_order.load(self.id)
        return [GoodsReceipt.from_model(r) for r in rows]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        actor = info.context.actor
        require_signed_in(actor)
        wanted = _pks(node_ids)
        rows = await _rows(info.context.loaders.purchase_order, wanted)
        return [
            cls.from_model(rows[i]) if i in rows and sees_purchasing(actor, rows[i].branch_id) else None for i in wanted
        ]


@strawberry.type(description="Units of one order line on a GRN, their cost, and the variant's average cost after.")
class GoodsReceiptLine:
    quantity: int
    unit_cost: Money = strawberry.field(description="What these units cost (the order's, unless the GRN said).")
    average_cost_before: Money | None = strawberry.field(description="None: the variant had no cost yet.")
    average_cost_after: Money = strawberry.field(description="The weighted average unit cost this receipt left.")
    on_hand_before: int = strawberry.field(description="Units held across all branches that the average weighed.")
    variant_pk: strawberry.Private[int]
    line_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.GoodsReceiptLine) -> Self:
        return cls(
            quantity=m.quantity,
            unit_cost=Money(amount=m.unit_cost),
            average_cost_before=_money(m.average_cost_before),
            average_cost_after=Money(amount=m.average_cost_after),
            on_hand_before=m.on_hand_before,
            variant_pk=m.variant_id,
            line_pk=m.purchase_order_line_id,
        )

    @strawberry.field(description="The order line these units were received against.")
    async def purchase_order_line(self, info: Info) -> PurchaseOrderLine:
        line = await info.context.loaders.purchase_order_line.load(self.line_pk)
        order = await info.context.loaders.purchase_order.load(line.purchase_order_id)
        return PurchaseOrderLine.from_model(line, order.currency)

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type(description="A goods-received note (GRN): units of a purchase order counted in at its branch.")
class GoodsReceipt(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="GRN- and a number, e.g. GRN-000017.")
    received_by: Staff | None = actor_field(lambda g: g.model.received_by)
    received_at: datetime
    note: str | None
    model: strawberry.Private[models.GoodsReceipt]

    @classmethod
    def from_model(cls, m: models.GoodsReceipt) -> Self:
        return cls(id=m.id, number=m.number, received_at=m.received_at, note=m.note, model=m)

    @strawberry.field
    async def purchase_order(self, info: Info) -> PurchaseOrder:
        return PurchaseOrder.from_model(await info.context.loaders.purchase_order.load(self.model.purchase_order_id))

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.model.branch_id))

    @strawberry.field
    async def lines(self, info: Info) -> list[GoodsReceiptLine]:
        return [GoodsReceiptLine.from_model(r) for r in await info.context.loaders.lines_of_goods_receipt.load(self.id)]

    @strawberry.field(description="Σ quantity × unitCost.")
    async def total(self, info: Info) -> Money:
        rows = await info.context.loaders.lines_of_goods_receipt.load(self.id)
        return Money(amount=sum((r.unit_cost * r.quantity for r in rows), Decimal(0)).quantize(PKR))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        actor = info.context.actor
        require_signed_in(actor)
        wanted = _pks(node_ids)
        rows = await _rows(info.context.loaders.goods_receipt, wanted)
        return [
            cls.from_model(rows[i]) if i in rows and sees_purchasing(actor, rows[i].branch_id) else None for i in wanted
        ]


@strawberry.type(description="A variant with stock at the branch but no cost yet: its units are not in the value.")
class UncostedStock:
    on_hand: int
    variant_pk: strawberry.Private[int]

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type(description="A branch's stock at weighted average cost: Σ onHand × averageCost over lines in stock.")
class StockValuation:
    value: Money
    units_valued: int
    variants_valued: int
    uncosted_units: int = strawberry.field(description="Units in stock whose variant has no cost yet.")
    uncosted_count: int = strawberry.field(description="How many variants have stock but no cost.")
    uncosted: list[UncostedStock] = strawberry.field(description="The first 100 of them, by variant.")
    branch_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))


# --- inputs --------------------------------------------------------------------------------------


@strawberry.input
class CreateSupplierInput:
    name: str
    phone: str | None = None
    email: str | None = None
    ntn: str | None = strawberry.field(default=None, description="National tax number, e.g. 1234567-8.")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class PurchaseOrderLineInput:
    variant: VariantRefInput
    quantity: int
    unit_cost: Decimal = strawberry.field(description="PKR per unit, at most 4 decimals, not negative.")


@strawberry.input
class CreatePurchaseOrderInput:
    supplier_id: strawberry.ID
    branch_id: strawberry.ID = strawberry.field(description="The receiving branch.")
    lines: list[PurchaseOrderLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    expected_on: date | None = None
    note: str | None = None
    place: bool = strawberry.field(default=False, description="Straight to ORDERED instead of a DRAFT.")


@strawberry.input
class PlacePurchaseOrderInput:
    purchase_order_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class ClosePurchaseOrderInput:
    purchase_order_id: strawberry.ID
    reason: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class CancelPurchaseOrderInput:
    purchase_order_id: strawberry.ID
    reason: str | None = None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="An order line by exactly one of: its lineId, its variant.")
class ReceiveGoodsLineInput:
    quantity: int = strawberry.field(description="Units counted in: at most what is outstanding on the line.")
    line_id: strawberry.ID | None = None
    variant: VariantRefInput | None = None
    unit_cost: Decimal | None = strawberry.field(
        default=None, description="When the supplier's invoice differs from the order; otherwise the order's."
    )


@strawberry.input
class ReceiveGoodsInput:
    purchase_order_id: strawberry.ID
    lines: list[ReceiveGoodsLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    note: str | None = None


# --- payloads ------------------------------------------------------------------------------------


@strawberry.type
class CreateSupplierPayload:
    supplier: Supplier | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreatePurchaseOrderPayload:
    purchase_order: PurchaseOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlacePurchaseOrderPayload:
    purchase_order: PurchaseOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClosePurchaseOrderPayload:
    purchase_order: PurchaseOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelPurchaseOrderPayload:
    purchase_order: PurchaseOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveGoodsPayload:
    goods_receipt: GoodsReceipt | None = None
    purchase_order: PurchaseOrder | None = strawberry.field(default=None, description="The order, as it is now.")
    errors: list[UserError] = strawberry.field(default_factory=list)
