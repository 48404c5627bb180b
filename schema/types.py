"""Node types: plain dataclasses built from the ORM rows; relations and node(id:) read through the
request's DataLoaders (schema/loaders.py), never the ORM."""

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from models import branches as branch_models
from models import catalog as catalog_models
from models import orders as order_models
from models import stock as stock_models
from operations.kernel import Permission, require_signed_in, visible_branches
from schema.enums import mirrored

if TYPE_CHECKING:
    from schema.staff import Staff

StockBucket = mirrored(
    stock_models.Bucket,
    "StockBucket",
    (
        "ON_HAND: physically at the branch. RESERVED: promised to open orders. "
        "IN_TRANSIT: on the way between branches. DAMAGED: set aside, not sellable."
    ),
)

StockMovementReason = mirrored(
    stock_models.MovementReason,
    "StockMovementReason",
    (
        "Why stock moved. SALE, VOID, RETURN, EXCHANGE, DRAFT_HOLD(_EXPIRED): at the counter. CORRECTION, "
        "COUNT, DAMAGED, SHRINKAGE, FOUND, PROMOTION, INTERNAL_USE, OPENING_STOCK: adjustments (COUNT also an approved "
        "stock count). IMPORT: opening stock from Shopify. RECEIVED: goods from a supplier. TRANSFER_*: between "
        "branches. ONLINE_ORDER, ORDER_*, EXCHANGE_SHIPPED, ONLINE_FULFILLMENT, FULFILLMENT_CANCELLED: online orders."
    ),
)

FulfillmentWorkflow = mirrored(
    order_models.FulfillmentWorkflow,
    "FulfillmentWorkflow",
    (
        "How a branch ships online orders, and how a fulfillment was made. SMART: fulfillOrder here, "
        "Shopify is told. MANUAL: recordManualFulfillment here, fulfilled in Shopify by hand later (matched, not "
        "deducted again). BRANCH_SYNC: fulfilled in Shopify, deducted here when its webhook arrives."
    ),
)


def _works_at(actor, branch_id: int) -> bool:
    return actor.branch_ids is None or branch_id in actor.branch_ids


def _works_at_branch(actor, branch) -> bool:
    return _works_at(actor, branch.id)


def _works_at_counter(actor, counter) -> bool:
    return _works_at(actor, counter.branch_id)


def _sees_stock(actor, row) -> bool:
    return actor.can(Permission.VIEW_STOCK, row.branch_id)


async def _by_ids(
    loader: DataLoader,
    name: str,
    info: Info,
    node_ids: Iterable[str],
    required: bool,
    convert,
    allowed: Callable | None = None,
) -> list:
    """Rows by id for node(id:) (`loader` is one of the request's, schema/loaders.py), each hidden
    (None) unless `allowed(actor, row)`; the catalog only needs a signed-in caller."""
    actor = info.context.actor
    require_signed_in(actor)
    ids = []
    for raw in node_ids:
        try:
            ids.append(int(raw))
        except ValueError:
            ids.append(None)
    rows = {row.id: row for row in await loader.load_many([i for i in ids if i is not None]) if row is not None}
    if allowed is not None:
        rows = {pk: row for pk, row in rows.items() if allowed(actor, row)}
    out = [convert(rows[i]) if i in rows else None for i in ids]
    if required and any(x is None for x in out):
        raise ValueError(f"{name} not found")
    return out


@strawberry.type(description="An amount of money: a decimal string and its ISO currency.")
class Money:
    amount: Decimal
    currency: str = "PKR"


@strawberry.type(description="A physical store.")
class Branch(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str
    timezone: str
    allow_negative_stock: bool
    fulfillment_workflow: FulfillmentWorkflow  # type: ignore[valid-type]
    routing_priority: int = strawberry.field(description="Online orders go to the lowest first.")
    online_safety_stock: int = strawberry.field(description="Units per variant kept for walk-in customers.")
    shopify_location_id: str | None
    created_at: datetime
    loyalty_points_per_100_pkr: Decimal | None = strawberry.field(
        default=None, description="Loyalty points earned per PKR 100 paid here; null: the retailer's default."
    )

    @classmethod
    def from_model(cls, m: branch_models.Branch) -> Self:
        return cls(
            id=m.id,
            code=m.code,
            name=m.name,
            timezone=m.timezone,
            allow_negative_stock=m.allow_negative_stock,
            fulfillment_workflow=FulfillmentWorkflow(m.fulfillment_workflow),
            routing_priority=m.routing_priority,
            online_safety_stock=m.online_safety_stock,
            shopify_location_id=m.shopify_location_id,
            created_at=m.created_at,
            loyalty_points_per_100_pkr=m.loyalty_points_per_100_pkr,
        )

    @strawberry.field(description="The branch's counters (tills).")
    async def counters(self, info: Info) -> list["Counter"]:
        return [Counter.from_model(c) for c in await info.context.loaders.counters_of_branch.load(self.id)]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        loader = info.context.loaders.branch
        return await _by_ids(loader, "Branch", info, node_ids, required, cls.from_model, _works_at_branch)


@strawberry.type(description="A counter (till) at a branch.")
class Counter(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str
    active: bool = strawberry.field(description="False once deactivated: no sign-in, register or sale here.")
    branch_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: branch_models.Counter) -> Self:
        return cls(id=m.id, code=m.code, name=m.name, active=m.active, branch_pk=m.branch_id)

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        loader = info.context.loaders.counter
        return await _by_ids(loader, "Counter", info, node_ids, required, cls.from_model, _works_at_counter)


@strawberry.type
class Product(relay.Node):
    id: relay.NodeID[int]
    title: str
    vendor: str
    product_type: str
    archived_at: datetime | None = strawberry.field(
        description="When it was archived: none of its variants can be sold (ARCHIVED); its history stays."
    )
    shopify_product_id: str | None = strawberry.field(description="The Shopify product's GID, when linked.")

    @classmethod
    def from_model(cls, m: catalog_models.Product) -> Self:
        return cls(
            id=m.id,
            title=m.title,
            vendor=m.vendor,
            product_type=m.product_type,
            archived_at=m.archived_at,
            shopify_product_id=m.shopify_product_id,
        )

    @strawberry.field(description="Archived products cannot be sold.")
    def archived(self) -> bool:
        return self.archived_at is not None

    @strawberry.field
    async def variants(self, info: Info) -> list["Variant"]:
        return [Variant.from_model(v) for v in await info.context.loaders.variants_of_product.load(self.id)]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        return await _by_ids(info.context.loaders.product, "Product", info, node_ids, required, cls.from_model)


@strawberry.type(description="A sellable variant (size/colour) of a product: the unit stock is counted in.")
class Variant(relay.Node):
    id: relay.NodeID[int]
    sku: str
    barcode: str | None
    title: str
    size: str | None
    colour: str | None
    price: Money
    compare_at_price: Money | None = strawberry.field(description='The "was" price shown struck through.')
    tax_rate: Decimal = strawberry.field(description="Percent, e.g. 18.00")
    pct_code: str | None = strawberry.field(description="Pakistan Customs Tariff code for FBR invoices")
    tracked: bool = strawberry.field(description="Whether stock is counted for it (Shopify's inventory tracking).")
    product_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: catalog_models.Variant) -> Self:
        return cls(
            id=m.id,
            sku=m.sku,
            barcode=m.barcode,
            title=m.title,
            size=m.size,
            colour=m.colour,
            price=Money(amount=m.price),
            compare_at_price=Money(amount=m.compare_at_price) if m.compare_at_price is not None else None,
            tax_rate=m.tax_rate,
            pct_code=m.pct_code,
            tracked=m.tracked,
            product_pk=m.product_id,
        )

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.from_model(await info.context.loaders.product.load(self.product_pk))

    @strawberry.field(
        description="Which branch has it: its level at each branch where the caller may see stock, by branch "
        "(a branch where it was never stocked has no level). `inStock`: only where some are available."
    )
    async def stock(self, info: Info, in_stock: bool = False) -> list["StockLevel"]:
        actor = info.context.actor
        visible = visible_branches(actor)
        rows = await info.context.loaders.stock_of_variant.load(self.id)
        return [
            StockLevel.from_model(row)
            for row in rows
            if (visible is None or row.branch_id in visible)
            and actor.can(Permission.VIEW_STOCK, row.branch_id)
            and (not in_stock or row.on_hand - row.reserved > 0)
        ]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        return await _by_ids(info.context.loaders.variant, "Variant", info, node_ids, required, cls.from_model)


@strawberry.type
class AtBranch:
    """Stock rows belong to one (branch, variant); both load through the request's DataLoaders."""

    branch_pk: strawberry.Private[int]
    variant_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type(description="Stock of one variant at one branch. available = onHand - reserved.")
class StockLevel(AtBranch, relay.Node):
    id: relay.NodeID[int]
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    damaged: int
    reorder_point: int
    reorder_quantity: int
    version: int
    updated_at: datetime

    @classmethod
    def from_model(cls, m: stock_models.StockLevel) -> Self:
        return cls(
            id=m.id,
            on_hand=m.on_hand,
            reserved=m.reserved,
            available=m.on_hand - m.reserved,
            in_transit=m.in_transit,
            damaged=m.damaged,
            reorder_point=m.reorder_point,
            reorder_quantity=m.reorder_quantity,
            version=m.version,
            updated_at=m.updated_at,
            branch_pk=m.branch_id,
            variant_pk=m.variant_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        loader = info.context.loaders.stock_level
        return await _by_ids(loader, "StockLevel", info, node_ids, required, cls.from_model, _sees_stock)


StockReferenceType = strawberry.enum(
    Enum(
        "StockReferenceType",
        [
            "SALE",
            "SALE_RETURN",
            "ONLINE_ORDER",
            "ORDER_FULFILLMENT",
            "STOCK_COUNT",
            "TRANSFER",
            "GOODS_RECEIPT",
            "ADJUSTMENT",
            "SHOPIFY_REFUND",
            "IMPORT_JOB",
        ],
    ),
    description="What a stock movement was written for: a counter sale (or void, draft hold), a return or "
    "exchange, an online order (intake, routing, cancelling, a return or exchange), a fulfillment, a stock count, "
    "a transfer, goods received, a stock adjustment, a refund made in Shopify, the catalog import.",
)

# What the ledger records as a posting's reference (operations/stock/entries.py `Posting`) -> its type here and
# the node type its id is the global ID of (None: the recorded key is shown as it is, e.g. a Shopify refund GID).
REFERENCE_TYPES: dict[str, tuple[str, str | None]] = {
    "sale": ("SALE", "Sale"),
    "sale_return": ("SALE_RETURN", "SaleReturn"),
    "online_order": ("ONLINE_ORDER", "Order"),
    "order": ("ONLINE_ORDER", "Order"),
    "fulfillment": ("ORDER_FULFILLMENT", "OrderFulfillment"),
    "stock_count": ("STOCK_COUNT", "StockCount"),
    "transfer": ("TRANSFER", "Transfer"),
    "goods_receipt": ("GOODS_RECEIPT", "GoodsReceipt"),
    "adjustment": ("ADJUSTMENT", None),
    "refund": ("SHOPIFY_REFUND", None),
    "import_job": ("IMPORT_JOB", "ImportJob"),
}


@strawberry.type(description="What a stock movement was written for.")
class StockReference:
    type: StockReferenceType  # type: ignore[valid-type]
    id: strawberry.ID | None = strawberry.field(
        description="Its global ID (node(id:) reads it; an import job's: importJob(id:)); a Shopify refund's "
        "GID; null for an adjustment (it has no document of its own)."
    )


def stock_reference(reference_type: str | None, reference_id: str | None) -> StockReference | None:
    """A posting's recorded reference as the schema shows it; None when there is none (the system's own
    postings: an expired draft hold)."""
    known = REFERENCE_TYPES.get(reference_type or "")
    if known is None:
        return None
    type_name, node_type = known
    if reference_id is None:
        shown = None
    elif node_type is not None and reference_id.isdigit():
        shown = strawberry.ID(relay.to_base64(node_type, reference_id))
    else:
        shown = strawberry.ID(reference_id)
    return StockReference(type=StockReferenceType[type_name], id=shown)


@strawberry.type(description="One entry of the stock ledger; never changed once written.")
class StockMovement(AtBranch, relay.Node):
    id: relay.NodeID[int]
    sequence: int = strawberry.field(description="Per-branch, gap-free, in commit order.")
    bucket: StockBucket  # type: ignore[valid-type]
    delta: int
    reason: StockMovementReason  # type: ignore[valid-type]
    on_hand: int = strawberry.field(description="On hand right after this movement.")
    reserved: int
    available: int
    in_transit: int
    damaged: int
    occurred_at: datetime
    posting_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: stock_models.StockMovement) -> Self:
        return cls(
            id=m.id,
            sequence=m.sequence,
            bucket=StockBucket(m.bucket.value if hasattr(m.bucket, "value") else m.bucket),
            delta=m.delta,
            reason=StockMovementReason(m.reason),
            on_hand=m.on_hand_after,
            reserved=m.reserved_after,
            available=m.on_hand_after - m.reserved_after,
            in_transit=m.in_transit_after,
            damaged=m.damaged_after,
            occurred_at=m.occurred_at,
            branch_pk=m.branch_id,
            variant_pk=m.variant_id,
            posting_pk=m.posting_id,
        )

    @classmethod
    def from_applied(cls, m: Any) -> Self:
        """From operations.stock.ledger.AppliedMovement (a mutation's result)."""
        return cls(
            id=m.id,
            sequence=m.sequence,
            bucket=StockBucket(m.bucket.value),
            delta=m.delta,
            reason=StockMovementReason(m.reason),
            on_hand=m.on_hand,
            reserved=m.reserved,
            available=m.available,
            in_transit=m.in_transit,
            damaged=m.damaged,
            occurred_at=m.occurred_at,
            branch_pk=m.branch_id,
            variant_pk=m.variant_id,
            posting_pk=None,  # read through the movement when asked for
        )

    async def _posting(self, info: Info) -> stock_models.StockPosting:
        """The posting this movement was written in (its actor, reference and note), through the loaders."""
        loaders = info.context.loaders
        posting_pk = self.posting_pk
        if posting_pk is None:
            posting_pk = (await loaders.stock_movement.load(self.id)).posting_id
        return await loaders.stock_posting.load(posting_pk)

    @strawberry.field(description="Who moved the stock; null when the system, Shopify or a worker did.")
    async def actor(self, info: Info) -> Annotated["Staff", strawberry.lazy("schema.staff")] | None:
        from schema.staff import actor_as_staff  # schema/staff.py builds on this module

        return await actor_as_staff(info, (await self._posting(info)).actor)

    @strawberry.field(
        description="What it was written for: a sale, a transfer, a count...; null for the system's own "
        "housekeeping (a draft's hold expiring)."
    )
    async def reference(self, info: Info) -> StockReference | None:
        posting = await self._posting(info)
        return stock_reference(posting.reference_type, posting.reference_id)

    @strawberry.field(description="As written down with the change (an adjustment's, a count's, a receipt's note).")
    async def note(self, info: Info) -> str | None:
        return (await self._posting(info)).note

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        loader = info.context.loaders.stock_movement
        return await _by_ids(loader, "StockMovement", info, node_ids, required, cls.from_model, _sees_stock)
