"""SimShop: one Shopify shop held in memory, plus the merchant/shopper actions tests drive it with."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import fields as dc_fields
from typing import Any

from . import orders as order_ops
from .config import SimConfig
from .cost import LeakyBucket
from .faults import Faults
from .ids import BIG_ID_START, SMALL_ID_START, now, parse_gid
from .models import (
    QUANTITY_STATES,
    BulkOperation,
    Customer,
    Fulfillment,
    FulfillmentOrder,
    InventoryItem,
    InventoryLevel,
    Location,
    Order,
    Product,
    ProductVariant,
    Refund,
    WebhookSubscription,
)
from .payloads import level_payload, product_payload
from .webhooks import WebhookDispatcher


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset | set) else value


class SimShop:
    """All state of one shop. Nothing here touches a database; `dump`/`load` persist it as JSON."""

    def __init__(
        self,
        domain: str = "zari-demo.myshopify.com",
        access_token: str = "shpat_simulated",
        client_secret: str = "sim-client-secret",
        restore_rate: float = 100.0,
        bucket_size: float = 2000.0,
        *,
        name: str = "Zari Demo",
        currency: str = "PKR",
        **config: Any,
    ) -> None:
        self.domain = domain
        self.access_token = access_token
        self.client_secret = client_secret
        self.name = name
        self.currency = currency
        self.config = SimConfig(**config)
        self.bucket = LeakyBucket(bucket_size, restore_rate)
        self.faults = Faults()
        self.faults.expire_hook = self.expire_bulk_results
        self.webhooks = WebhookDispatcher(self)
        self.public_url: str | None = None
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, ProductVariant] = {}
        self.items: dict[int, InventoryItem] = {}
        self.levels: dict[tuple[int, int], InventoryLevel] = {}
        self.customers: dict[int, Customer] = {}
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.refunds: dict[int, Refund] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.subscriptions: dict[int, WebhookSubscription] = {}
        self.idempotency: dict[str, dict] = {}
        self.calls: list[dict] = []
        self.throttled_calls = 0
        self.inventory_log: list[dict] = []
        self.applied: list[dict] = []  # catalog and customer writes Shopify took (catalog_edits.py)
        self._next_big = BIG_ID_START
        self._next_small = SMALL_ID_START
        self._next_order_number = 1001
        self._bulk_dir: str | None = None

    # ----------------------------------------------------------------- ids and lookups
    def next_big_id(self) -> int:
        self._next_big += 1117  # a stride makes ids look less like a counter and catches off-by-one joins
        return self._next_big

    def next_small_id(self) -> int:
        self._next_small += 37
        return self._next_small

    @property
    def bulk_dir(self) -> str:
        if self._bulk_dir is None:
            self._bulk_dir = tempfile.mkdtemp(prefix="shopify-sim-bulk-")
        return self._bulk_dir

    def close(self) -> None:
        """Delete bulk result files. Safe to call twice."""
        if self._bulk_dir:
            shutil.rmtree(self._bulk_dir, ignore_errors=True)
            self._bulk_dir = None

    def line_item(self, line_item_id: int) -> tuple[Order, Any] | None:
        for order in self.orders.values():
            li = order.line(line_item_id)
            if li is not None:
                return order, li
        return None

    def variant_by_sku(self, sku: str) -> ProductVariant | None:
        return next((v for v in self.variants.values() if v.sku == sku), None)

    def _id_of(self, value: Any, type_name: str) -> int:
        """Accept a model object, a GID string or a bare int wherever the Python API takes a reference."""
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            parsed = parse_gid(value)
            if parsed is None:
                raise ValueError(f"not a GID: {value!r}")
            if parsed.type == "ProductVariant" and type_name == "InventoryItem":
                return self.variants[parsed.id].inventory_item_id
            if parsed.type != type_name:
                raise ValueError(f"expected a {type_name} id, got {value!r}")
            return parsed.id
        if type_name == "InventoryItem" and isinstance(value, ProductVariant):
            return value.inventory_item_id
        return value.id

    # ----------------------------------------------------------------- catalogue
    def add_location(self, name: str, *, is_active: bool = True, **address: Any) -> Location:
        loc = Location(id=self.next_small_id(), name=name, address=dict(address), is_active=is_active)
        self.locations[loc.id] = loc
        return loc

    def add_product(
        self,
        title: str,
        variants: list[dict] | None = None,
        vendor: str = "",
        product_type: str = "",
        status: str = "ACTIVE",
        tags: list[str] | None = None,
    ) -> Product:
        product = Product(
            id=self.next_small_id(),
            title=title,
            handle=_slug(title),
            vendor=vendor,
            product_type=product_type,
            status=status,
            tags=list(tags or []),
        )
        self.products[product.id] = product
        for spec in variants or [{}]:
            self._add_variant(product, spec)
        return product

    def _add_variant(self, product: Product, spec: dict) -> ProductVariant:
        options = dict(spec.get("options") or {"Title": "Default Title"})
        for opt in options:
            if opt not in product.option_names:
                product.option_names.append(opt)
        item = InventoryItem(
            id=self.next_big_id(),
            variant_id=0,
            sku=spec.get("sku"),
            tracked=spec.get("tracked", True),
            unit_cost=f"{float(spec['unit_cost']):.2f}" if spec.get("unit_cost") is not None else None,
        )
        variant = ProductVariant(
            id=self.next_small_id(),
            product_id=product.id,
            inventory_item_id=item.id,
            title=" / ".join(str(v) for v in options.values()),
            sku=spec.get("sku"),
            barcode=spec.get("barcode"),
            price=f"{float(spec.get('price', 0)):.2f}",
            compare_at_price=spec.get("compare_at_price"),
            options=options,
            position=len(product.variant_ids) + 1,
            inventory_policy=spec.get("inventory_policy", "DENY"),
        )
        item.variant_id = variant.id
        self.items[item.id] = item
        self.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        return variant

    def edit_variant(self, variant: Any, *, title: str | None = None, **changes: Any) -> ProductVariant:
        """The merchant editing a variant (price, compare_at_price, sku, barcode) and optionally its product's
        title in the admin: `updatedAt` moves on and products/update fires, as for any edit in Shopify."""
        found = self.variants[self._id_of(variant, "ProductVariant")]
        for attribute, value in changes.items():
            if attribute not in {"price", "compare_at_price", "sku", "barcode"}:
                raise ValueError(f"not an editable variant field: {attribute!r}")
            setattr(found, attribute, value)
            if attribute == "sku":
                self.items[found.inventory_item_id].sku = value
        product = self.products[found.product_id]
        if title is not None:
            product.title = title
        found.updated_at = product.updated_at = now()
        self.emit("products/update", product_payload(self, product))
        return found

    def add_customer(
        self, first_name: str, last_name: str, email: str | None = None, phone: str | None = None
    ) -> Customer:
        customer = Customer(id=self.next_big_id(), first_name=first_name, last_name=last_name, email=email, phone=phone)
        self.customers[customer.id] = customer
        return customer

    # ----------------------------------------------------------------- inventory primitives
    def level(self, item_id: int, location_id: int) -> InventoryLevel | None:
        return self.levels.get((item_id, location_id))

    def activate(self, item_id: int, location_id: int) -> InventoryLevel:
        """Stock an item at a location (inventoryActivate). Idempotent: an existing level is returned."""
        lvl = self.levels.get((item_id, location_id))
        if lvl is None:
            lvl = InventoryLevel(item_id=item_id, location_id=location_id)
            self.levels[(item_id, location_id)] = lvl
        return lvl

    def apply_deltas(self, lvl: InventoryLevel, deltas: dict[str, int], *, reason: str, source: str) -> None:
        """The one place quantities change: records updated_at per state and fires inventory_levels/update."""
        ts = now()
        changed_available = False
        for name, delta in deltas.items():
            if not delta:
                continue
            lvl.quantities[name] += delta
            lvl.state_updated_at[name] = ts
            changed_available = changed_available or name == "available"
            self.inventory_log.append(
                {"item_id": lvl.item_id, "location_id": lvl.location_id, "name": name, "delta": delta}
                | {"reason": reason, "source": source, "at": ts}
            )
        lvl.updated_at = ts
        item = self.items.get(lvl.item_id)
        if item is not None:
            item.updated_at = ts
        if changed_available and self.config.inventory_webhooks:
            self.emit("inventory_levels/update", level_payload(lvl))

    def stock(self, variant_or_item: Any, location: Any, available: int = 0, **states: int) -> InventoryLevel:
        """Activate the item at the location and set its quantities (test setup; fires no webhook)."""
        item_id = self._id_of(variant_or_item, "InventoryItem")
        lvl = self.activate(item_id, self._id_of(location, "Location"))
        wanted = {"available": available, **states}
        for name, value in wanted.items():
            if name not in QUANTITY_STATES:
                raise ValueError(f"unknown quantity state {name!r}")
            lvl.quantities[name] = value
            lvl.state_updated_at[name] = now()
        lvl.updated_at = now()
        return lvl

    def quantities(self, inventory_item: Any, location: Any) -> dict[str, int]:
        """All states incl. on_hand; an item not stocked at the location raises KeyError."""
        lvl = self.levels[(self._id_of(inventory_item, "InventoryItem"), self._id_of(location, "Location"))]
        return lvl.snapshot()

    def set_quantity(self, inventory_item: Any, location: Any, quantity: int, name: str = "available") -> None:
        """The merchant typing a new count in the admin. Fires inventory_levels/update for `available`."""
        item_id = self._id_of(inventory_item, "InventoryItem")
        lvl = self.activate(item_id, self._id_of(location, "Location"))
        if name == "on_hand":
            name, quantity = "available", lvl.get("available") + quantity - lvl.get("on_hand")
        self.apply_deltas(lvl, {name: quantity - lvl.get(name)}, reason="correction", source="admin")

    # ----------------------------------------------------------------- orders (see orders.py)
    def place_order(self, lines: list, gateway: str | None = None, customer: Any = None, location: Any = None, **kw):
        return order_ops.place_order(self, lines, gateway=gateway, customer=customer, location=location, **kw)

    def fulfill(self, order_gid: Any, lines: list | None = None, location: Any = None, tracking: dict | None = None):
        return order_ops.merchant_fulfill(self, order_gid, lines=lines, location=location, tracking=tracking)

    def cancel_order(
        self, order_gid: Any, restock: bool = True, reason: str = "CUSTOMER", staff_note: str | None = None
    ):
        return order_ops.cancel_order(self, order_gid, restock=restock, reason=reason, staff_note=staff_note)

    def refund(self, order_gid: Any, lines: list, note: str | None = None):
        return order_ops.merchant_refund(self, order_gid, lines, note=note)

    # ----------------------------------------------------------------- webhooks
    def emit(self, topic: str, payload: dict) -> None:
        """Queue one event for every subscription to `topic`. Delivery happens later, off the request."""
        self.webhooks.enqueue(topic, payload)

    def subscribe(self, topic: str, uri: str, name: str | None = None) -> WebhookSubscription:
        sub = WebhookSubscription(id=self.next_small_id(), topic=topic, uri=uri, name=name)
        self.subscriptions[sub.id] = sub
        return sub

    @property
    def deliveries(self) -> list:
        return self.webhooks.log

    # ----------------------------------------------------------------- seeding, persistence, summary
    def seed_demo(self, products: int = 50, locations: int = 3, customers: int = 20, rng_seed: int = 1) -> SimShop:
        from .seed import seed_demo

        seed_demo(self, products=products, locations=locations, customers=customers, rng_seed=rng_seed)
        return self

    def dump(self, path: str) -> None:
        from .persist import dump

        dump(self, path)

    def load(self, path: str) -> SimShop:
        from .persist import load

        load(self, path)
        return self

    def expire_bulk_results(self) -> int:
        """Expire every bulk result URL now (also `shop.faults.expire_bulk_results()`)."""
        from .bulk import expire_results

        return expire_results(self)

    def reset_faults(self) -> None:
        self.faults.reset()

    def summary(self) -> dict:
        return {
            "domain": self.domain,
            "locations": len(self.locations),
            "products": len(self.products),
            "variants": len(self.variants),
            "inventory_levels": len(self.levels),
            "customers": len(self.customers),
            "orders": len(self.orders),
            "fulfillments": len(self.fulfillments),
            "refunds": len(self.refunds),
            "bulk_operations": len(self.bulk_operations),
            "webhook_subscriptions": len(self.subscriptions),
            "deliveries": len(self.webhooks.log),
            "pending_deliveries": self.webhooks.pending(),
            "calls": len(self.calls),
            "throttled_calls": self.throttled_calls,
            "bucket_available": self.bucket.available(),
            "config": {f.name: _plain(getattr(self.config, f.name)) for f in dc_fields(self.config)},
        }
