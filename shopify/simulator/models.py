"""Plain dataclasses for the objects one simulated shop holds. Behaviour lives in store/orders/inventory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .ids import gid, level_gid, now

# Every state Shopify tracks per item and location. on_hand is derived: the sum of all but `incoming`.
QUANTITY_STATES = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control", "incoming")
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control")
QUANTITY_NAMES = (*QUANTITY_STATES, "on_hand")


@dataclass
class Location:
    id: int
    name: str
    address: dict = field(default_factory=dict)
    is_active: bool = True
    fulfills_online_orders: bool = True
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Location", self.id)


@dataclass
class Product:
    id: int
    title: str
    handle: str
    vendor: str = ""
    product_type: str = ""
    status: str = "ACTIVE"
    tags: list = field(default_factory=list)
    option_names: list = field(default_factory=list)
    variant_ids: list = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Product", self.id)


@dataclass
class ProductVariant:
    id: int
    product_id: int
    inventory_item_id: int
    title: str
    sku: str | None = None
    barcode: str | None = None
    price: str = "0.00"
    compare_at_price: str | None = None
    options: dict = field(default_factory=dict)
    position: int = 1
    inventory_policy: str = "DENY"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("ProductVariant", self.id)


@dataclass
class InventoryItem:
    """1:1 with a variant. `tracked=False` means Shopify keeps no counts that matter for selling it."""

    id: int
    variant_id: int
    sku: str | None = None
    tracked: bool = True
    requires_shipping: bool = True
    unit_cost: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("InventoryItem", self.id)


@dataclass
class InventoryLevel:
    """An item stocked at a location. Exists only once activated; adjusting before that is an error."""

    item_id: int
    location_id: int
    quantities: dict = field(default_factory=lambda: dict.fromkeys(QUANTITY_STATES, 0))
    state_updated_at: dict = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return level_gid(self.location_id, self.item_id)

    def get(self, name: str) -> int:
        if name == "on_hand":
            return sum(self.quantities[n] for n in ON_HAND_PARTS)
        return self.quantities[name]

    def snapshot(self) -> dict[str, int]:
        return {name: self.get(name) for name in QUANTITY_NAMES}


@dataclass
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    tags: list = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Customer", self.id)


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    product_id: int | None
    title: str
    sku: str | None
    quantity: int
    price: str
    current_quantity: int = 0  # quantity minus refunded/cancelled units
    fulfilled_quantity: int = 0
    requires_shipping: bool = True

    @property
    def gid(self) -> str:
        return gid("LineItem", self.id)


@dataclass
class Order:
    id: int
    number: int
    line_items: list[LineItem] = field(default_factory=list)
    payment_gateway_names: list = field(default_factory=list)
    customer_id: int | None = None
    location_id: int | None = None
    source_name: str = "web"
    currency: str = "PKR"
    financial_status: str = "PENDING"
    fulfillment_status: str = "UNFULFILLED"
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    fulfillment_order_ids: list = field(default_factory=list)
    fulfillment_ids: list = field(default_factory=list)
    refund_ids: list = field(default_factory=list)
    note: str | None = None
    test: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Order", self.id)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    def total_price(self) -> str:
        total = sum(float(li.price) * li.quantity for li in self.line_items)
        return f"{total:.2f}"

    def line(self, line_item_id: int) -> LineItem | None:
        return next((li for li in self.line_items if li.id == line_item_id), None)


@dataclass
class FulfillmentOrderLineItem:
    id: int
    line_item_id: int
    variant_id: int | None
    inventory_item_id: int | None
    sku: str | None
    total_quantity: int
    remaining_quantity: int

    @property
    def gid(self) -> str:
        return gid("FulfillmentOrderLineItem", self.id)


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    line_items: list[FulfillmentOrderLineItem] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("FulfillmentOrder", self.id)


@dataclass
class Fulfillment:
    id: int
    order_id: int
    location_id: int
    name: str
    status: str = "SUCCESS"
    display_status: str | None = None
    tracking_company: str | None = None
    tracking_numbers: list = field(default_factory=list)
    tracking_urls: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # [{"line_item_id": int, "quantity": int}]
    events: list = field(default_factory=list)  # [{"id", "status", "message", "happened_at"}]
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Fulfillment", self.id)


@dataclass
class Refund:
    id: int
    order_id: int
    note: str | None = None
    lines: list = field(default_factory=list)  # [{"id","line_item_id","quantity","restock_type","location_id"}]
    created_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("Refund", self.id)


@dataclass
class BulkOperation:
    id: int
    query: str
    type: str = "QUERY"
    status: str = "CREATED"
    group_objects: bool = False
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    path: str | None = None
    token: str | None = None
    partial: bool = False
    expires_at: float | None = None  # monotonic-free wall time (time.time())
    cancel_requested: bool = False
    api_version: str = "2026-10"
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None

    @property
    def gid(self) -> str:
        return gid("BulkOperation", self.id)


@dataclass
class WebhookSubscription:
    id: int
    topic: str  # REST form, e.g. "orders/create"
    uri: str
    format: str = "JSON"
    name: str | None = None
    include_fields: list = field(default_factory=list)
    consecutive_failures: int = 0
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def gid(self) -> str:
        return gid("WebhookSubscription", self.id)
