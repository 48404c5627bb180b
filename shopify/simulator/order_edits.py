"""Order editing (orderEditBegin → orderEditSetQuantity / orderEditAddVariant → orderEditCommit).

An edit is staged on a calculated order and changes nothing until it is committed; then, like Shopify:
lowering a line's quantity takes unfulfilled units off its fulfillment orders (committed −, and back to
available when `restock` is true); an added variant becomes a new line item on an open fulfillment order
at the chosen location (a new one when none is open there), moving available → committed; the order is
bumped and `orders/edited` and `orders/updated` fire. A quantity cannot go below what has been fulfilled,
and a cancelled order cannot be edited. Calculated line items of existing lines carry the line item's
number (`gid://shopify/CalculatedLineItem/<line item id>`), as Shopify's do; staged sessions live in
memory only (an edit not committed before a restart is simply gone, as an abandoned edit is in Shopify).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .connections import paginate
from .ids import gid, maybe_gid, now
from .models import FulfillmentOrder, FulfillmentOrderLineItem, LineItem
from .orders import OrderError, _move, _order, _refresh_fulfillment_status
from .payloads import order_payload
from .resolve_catalog import shop_of

if TYPE_CHECKING:
    from .store import SimShop


@dataclass
class CalculatedLineItem:
    id: int
    variant_id: int | None
    title: str
    sku: str | None
    quantity: int
    editable_quantity: int
    location_id: int | None = None  # added lines: where the units will be committed
    restock: bool = True

    @property
    def gid(self) -> str:
        return gid("CalculatedLineItem", self.id)


@dataclass
class CalculatedOrder:
    id: int
    order_id: int
    lines: dict[int, CalculatedLineItem] = field(default_factory=dict)  # existing line item id -> staged line
    added: list[CalculatedLineItem] = field(default_factory=list)
    committed: bool = False

    @property
    def gid(self) -> str:
        return gid("CalculatedOrder", self.id)


def _sessions(shop: SimShop) -> dict[int, CalculatedOrder]:
    if not hasattr(shop, "calculated_orders"):
        shop.calculated_orders = {}
    return shop.calculated_orders


def begin(shop: SimShop, order_ref: Any) -> CalculatedOrder:
    order = _order(shop, order_ref)
    if order.cancelled_at is not None:
        raise OrderError("The order has been canceled and can't be edited", ["id"], "INVALID")
    calc = CalculatedOrder(id=shop.next_small_id(), order_id=order.id)
    for li in order.line_items:
        calc.lines[li.id] = CalculatedLineItem(
            id=li.id,
            variant_id=li.variant_id,
            title=li.title,
            sku=li.sku,
            quantity=li.current_quantity,
            editable_quantity=li.current_quantity,
        )
    _sessions(shop)[calc.id] = calc
    return calc


def _session(shop: SimShop, ref: str) -> CalculatedOrder:
    calc = _sessions(shop).get(maybe_gid(ref, "CalculatedOrder") or -1)
    if calc is None or calc.committed:
        raise OrderError("The calculated order does not exist or has been committed", ["id"], "INVALID")
    return calc


def set_quantity(shop: SimShop, ref: str, line_ref: str, quantity: int, restock: bool) -> CalculatedLineItem:
    calc = _session(shop, ref)
    if quantity < 0:
        raise OrderError("Quantity can't be negative", ["quantity"], "INVALID")
    line_id = maybe_gid(line_ref, "CalculatedLineItem") or -1
    line = calc.lines.get(line_id) or next((x for x in calc.added if x.id == line_id), None)
    if line is None:
        raise OrderError("Line item does not exist on the calculated order", ["lineItemId"], "INVALID")
    li = shop.orders[calc.order_id].line(line_id)
    if li is not None and quantity < li.fulfilled_quantity:
        raise OrderError("Quantity can't be less than the fulfilled quantity", ["quantity"], "INVALID")
    line.quantity, line.restock = quantity, restock
    return line


def add_variant(
    shop: SimShop, ref: str, variant_ref: str, quantity: int, location_ref: str | None, allow_duplicates: bool
) -> CalculatedLineItem:
    calc = _session(shop, ref)
    order = shop.orders[calc.order_id]
    variant = shop.variants.get(maybe_gid(variant_ref, "ProductVariant") or -1)
    if variant is None:
        raise OrderError("Variant does not exist", ["variantId"], "INVALID")
    if quantity <= 0:
        raise OrderError("Quantity must be greater than 0", ["quantity"], "INVALID")
    on_order = any(x.variant_id == variant.id for x in (*calc.lines.values(), *calc.added))
    if on_order and not allow_duplicates:
        raise OrderError("The variant is already on the order", ["variantId"], "INVALID")
    location_id = maybe_gid(location_ref, "Location") if location_ref else order.location_id
    location = shop.locations.get(location_id or -1)
    if location is None or not location.is_active:
        raise OrderError("Location does not exist or is inactive", ["locationId"], "INVALID")
    item = shop.items.get(variant.inventory_item_id)
    if item is not None and item.tracked and shop.level(item.id, location.id) is None:
        raise OrderError(f"{variant.sku or variant.gid} is not stocked at {location.name}", ["locationId"], "INVALID")
    product = shop.products[variant.product_id]
    title = product.title if variant.title == "Default Title" else f"{product.title} - {variant.title}"
    line = CalculatedLineItem(
        id=shop.next_big_id(),
        variant_id=variant.id,
        title=title,
        sku=variant.sku,
        quantity=quantity,
        editable_quantity=quantity,
        location_id=location.id,
    )
    calc.added.append(line)
    return line


def commit(shop: SimShop, ref: str, staff_note: str | None = None):
    """Apply every staged change at once; nothing is applied if any of it is refused."""
    calc = _session(shop, ref)
    order = shop.orders[calc.order_id]
    if order.cancelled_at is not None:
        raise OrderError("The order has been canceled and can't be edited", ["id"], "INVALID")
    for li_id, staged in calc.lines.items():  # the order may have moved on since the edit began
        li = order.line(li_id)
        if staged.quantity < li.fulfilled_quantity:
            raise OrderError("Quantity can't be less than the fulfilled quantity", ["lineItemId"], "INVALID")
    for li_id, staged in calc.lines.items():
        li = order.line(li_id)
        change = staged.quantity - li.current_quantity
        if change < 0:
            _take_off(shop, order, li, -change, staged.restock)
        elif change > 0:
            _put_on(shop, order, li, change, order.location_id)
        li.current_quantity = staged.quantity
    for staged in calc.added:
        variant = shop.variants[staged.variant_id]
        li = LineItem(
            id=staged.id,
            variant_id=variant.id,
            product_id=variant.product_id,
            title=staged.title,
            sku=staged.sku,
            quantity=staged.quantity,
            price=variant.price,
            current_quantity=staged.quantity,
        )
        order.line_items.append(li)
        _put_on(shop, order, li, staged.quantity, staged.location_id)
    calc.committed = True
    if staff_note:
        order.note = staff_note
    _refresh_fulfillment_status(order)
    order.updated_at = now()
    body = order_payload(shop, order)
    shop.emit(
        "orders/edited", {"order_edit": {"id": calc.id, "order_id": order.id, "committed_at": body["updated_at"]}}
    )
    shop.emit("orders/updated", body)
    return order


def _take_off(shop: SimShop, order, li: LineItem, count: int, restock: bool) -> None:
    item_id = shop.variants[li.variant_id].inventory_item_id if li.variant_id in shop.variants else None
    for fo in (shop.fulfillment_orders[i] for i in order.fulfillment_order_ids):
        for fli in fo.line_items:
            if fli.line_item_id == li.id and fli.remaining_quantity and count:
                take = min(count, fli.remaining_quantity)
                fli.remaining_quantity -= take
                fli.total_quantity -= take
                count -= take
                deltas = {"committed": -take, "available": take} if restock else {"committed": -take}
                _move(shop, item_id, fo.location_id, deltas, "order_edited")
        if fo.status in ("OPEN", "IN_PROGRESS") and all(x.remaining_quantity == 0 for x in fo.line_items):
            fo.status = "CLOSED"
            fo.updated_at = now()


def _put_on(shop: SimShop, order, li: LineItem, count: int, location_id: int) -> None:
    variant = shop.variants[li.variant_id]
    fo = next(
        (
            shop.fulfillment_orders[i]
            for i in order.fulfillment_order_ids
            if shop.fulfillment_orders[i].location_id == location_id and shop.fulfillment_orders[i].status == "OPEN"
        ),
        None,
    )
    if fo is None:
        ts = now()
        fo = FulfillmentOrder(
            id=shop.next_small_id(), order_id=order.id, location_id=location_id, created_at=ts, updated_at=ts
        )
        shop.fulfillment_orders[fo.id] = fo
        order.fulfillment_order_ids.append(fo.id)
    fli = next((x for x in fo.line_items if x.line_item_id == li.id), None)
    if fli is None:
        fli = FulfillmentOrderLineItem(
            id=shop.next_small_id(),
            line_item_id=li.id,
            variant_id=variant.id,
            inventory_item_id=variant.inventory_item_id,
            sku=variant.sku,
            total_quantity=0,
            remaining_quantity=0,
        )
        fo.line_items.append(fli)
    fli.total_quantity += count
    fli.remaining_quantity += count
    _move(shop, variant.inventory_item_id, location_id, {"available": -count, "committed": count}, "order_edited")


# -- GraphQL resolvers ----------------------------------------------------------------------------


def _failed(exc: OrderError, **empty: Any) -> dict:
    return {**empty, "userErrors": [{"field": exc.field, "message": exc.message}]}


def m_begin(_root: Any, info: Any, id: str) -> dict:
    try:
        calc = begin(shop_of(info), maybe_gid(id, "Order") or -1)
    except OrderError as exc:
        return _failed(exc, calculatedOrder=None)
    return {"calculatedOrder": calc, "userErrors": []}


def m_set_quantity(
    _root: Any, info: Any, id: str, lineItemId: str, quantity: int, restock: bool = False, **_: Any
) -> dict:
    shop = shop_of(info)
    try:
        line = set_quantity(shop, id, lineItemId, quantity, bool(restock))
    except OrderError as exc:
        return _failed(exc, calculatedLineItem=None, calculatedOrder=None)
    return {"calculatedLineItem": line, "calculatedOrder": _session(shop, id), "userErrors": []}


def m_add_variant(
    _root: Any,
    info: Any,
    id: str,
    variantId: str,
    quantity: int,
    locationId: str | None = None,
    allowDuplicates: bool = False,
) -> dict:
    shop = shop_of(info)
    try:
        line = add_variant(shop, id, variantId, quantity, locationId, bool(allowDuplicates))
    except OrderError as exc:
        return _failed(exc, calculatedLineItem=None, calculatedOrder=None)
    return {"calculatedLineItem": line, "calculatedOrder": _session(shop, id), "userErrors": []}


def m_commit(_root: Any, info: Any, id: str, notifyCustomer: bool = False, staffNote: str | None = None) -> dict:
    try:
        order = commit(shop_of(info), id, staffNote)
    except OrderError as exc:
        return _failed(exc, order=None)
    return {"order": order, "userErrors": []}


TYPE_RESOLVERS: dict[str, dict[str, Any]] = {
    "Mutation": {
        "orderEditBegin": m_begin,
        "orderEditSetQuantity": m_set_quantity,
        "orderEditAddVariant": m_add_variant,
        "orderEditCommit": m_commit,
    },
    "CalculatedOrder": {
        "originalOrder": lambda c, i: shop_of(i).orders[c.order_id],
        "lineItems": lambda c, i, **a: paginate([*c.lines.values(), *c.added], a, i),
        "addedLineItems": lambda c, i, **a: paginate(list(c.added), a, i),
    },
    "CalculatedLineItem": {"variant": lambda x, i: shop_of(i).variants.get(x.variant_id)},
}

SDL = """
type CalculatedLineItem {
  id: ID! title: String! sku: String quantity: Int! editableQuantity: Int! variant: ProductVariant
}
type CalculatedOrder {
  id: ID! originalOrder: Order! lineItems(CONN): CalculatedLineItemConnection!
  addedLineItems(CONN): CalculatedLineItemConnection!
}
type OrderEditBeginPayload { calculatedOrder: CalculatedOrder userErrors: [UserError!]! }
type OrderEditSetQuantityPayload {
  calculatedLineItem: CalculatedLineItem calculatedOrder: CalculatedOrder userErrors: [UserError!]!
}
type OrderEditAddVariantPayload {
  calculatedLineItem: CalculatedLineItem calculatedOrder: CalculatedOrder userErrors: [UserError!]!
}
type OrderEditCommitPayload { order: Order userErrors: [UserError!]! }
"""

MUTATIONS = """
  orderEditBegin(id: ID!): OrderEditBeginPayload
  orderEditSetQuantity(id: ID!, lineItemId: ID!, quantity: Int!, restock: Boolean, locationId: ID):
    OrderEditSetQuantityPayload
  orderEditAddVariant(id: ID!, variantId: ID!, quantity: Int!, locationId: ID, allowDuplicates: Boolean = false):
    OrderEditAddVariantPayload
  orderEditCommit(id: ID!, notifyCustomer: Boolean, staffNote: String): OrderEditCommitPayload
"""
