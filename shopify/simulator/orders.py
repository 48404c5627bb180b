"""Order lifecycle and its stock effects (reference 2.6, 4, 8.2).

Placing moves available→committed at the assigned location; fulfilling removes committed (so on_hand drops);
cancelling with restock and refunds with CANCEL/RETURN put units back into available. Functions raise
OrderError; GraphQL resolvers turn it into userErrors and the Python API lets it propagate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ids import now
from .models import Fulfillment, FulfillmentOrder, FulfillmentOrderLineItem, LineItem, Order, Refund
from .payloads import fulfillment_payload, order_payload, refund_payload

if TYPE_CHECKING:
    from .store import SimShop


class OrderError(ValueError):
    def __init__(self, message: str, field: list | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def _order(shop: SimShop, ref: Any) -> Order:
    order = shop.orders.get(shop._id_of(ref, "Order"))
    if order is None:
        raise OrderError("Order does not exist", ["id"], "NOT_FOUND")
    return order


def _tracked(shop: SimShop, inventory_item_id: int | None) -> bool:
    item = shop.items.get(inventory_item_id) if inventory_item_id else None
    return bool(item and item.tracked)


def _move(shop: SimShop, item_id: int | None, location_id: int, deltas: dict, reason: str) -> None:
    """Change stock for a tracked item; untracked items carry no counts Shopify cares about."""
    if not _tracked(shop, item_id):
        return
    lvl = shop.level(item_id, location_id)
    if lvl is None:
        raise OrderError("The item is not stocked at the location", ["locationId"], "INVALID")
    shop.apply_deltas(lvl, deltas, reason=reason, source="order")


def _pick_location(shop: SimShop, wanted: list[tuple[int, int]]) -> int:
    """First active location that can ship everything from `available`, else first that stocks everything."""
    active = [loc for loc in shop.locations.values() if loc.is_active]
    tracked = [(i, q) for i, q in wanted if _tracked(shop, i)]
    for loc in active:
        levels = [shop.level(i, loc.id) for i, _ in tracked]
        if all(lv is not None and lv.get("available") >= q for lv, (_, q) in zip(levels, tracked, strict=True)):
            return loc.id
    for loc in active:
        if all(shop.level(i, loc.id) is not None for i, _ in tracked):
            return loc.id
    raise OrderError("No active location stocks every item of the order")


def place_order(
    shop: SimShop,
    lines: list,
    *,
    gateway: str | None = None,
    customer: Any = None,
    location: Any = None,
    source_name: str = "web",
    note: str | None = None,
) -> Order:
    """A shopper checking out (or a POS sale): commit stock, split into a fulfillment order, fire webhooks."""
    gateway = gateway or shop.config.cod_gateway
    resolved = []
    for ref, qty in lines:
        variant = shop.variants[shop._id_of(ref, "ProductVariant")]
        resolved.append((variant, int(qty)))
    loc_id = (
        shop._id_of(location, "Location")
        if location is not None
        else _pick_location(shop, [(v.inventory_item_id, q) for v, q in resolved])
    )
    ts = now()
    shop._next_order_number += 1
    order = Order(
        id=shop.next_big_id(),
        number=shop._next_order_number,
        payment_gateway_names=[gateway],
        customer_id=shop._id_of(customer, "Customer") if customer is not None else None,
        location_id=loc_id,
        source_name=source_name,
        currency=shop.currency,
        financial_status="PENDING" if "cash on delivery" in gateway.lower() else "PAID",
        note=note,
        created_at=ts,
        updated_at=ts,
    )
    fo = FulfillmentOrder(id=shop.next_small_id(), order_id=order.id, location_id=loc_id, created_at=ts, updated_at=ts)
    for variant, qty in resolved:
        product = shop.products[variant.product_id]
        title = product.title if variant.title == "Default Title" else f"{product.title} - {variant.title}"
        li = LineItem(
            id=shop.next_big_id(),
            variant_id=variant.id,
            product_id=product.id,
            title=title,
            sku=variant.sku,
            quantity=qty,
            price=variant.price,
            current_quantity=qty,
        )
        order.line_items.append(li)
        fo.line_items.append(
            FulfillmentOrderLineItem(
                id=shop.next_small_id(),
                line_item_id=li.id,
                variant_id=variant.id,
                inventory_item_id=variant.inventory_item_id,
                sku=variant.sku,
                total_quantity=qty,
                remaining_quantity=qty,
            )
        )
    for variant, qty in resolved:
        _move(shop, variant.inventory_item_id, loc_id, {"available": -qty, "committed": qty}, "order_placed")
    shop.orders[order.id] = order
    shop.fulfillment_orders[fo.id] = fo
    order.fulfillment_order_ids.append(fo.id)
    shop.emit("orders/create", order_payload(shop, order))
    if order.financial_status == "PAID":
        shop.emit("orders/paid", order_payload(shop, order))
    return order


def _refresh_fulfillment_status(order: Order) -> None:
    live = [li for li in order.line_items if li.current_quantity > 0]
    if live and all(li.fulfilled_quantity >= li.current_quantity for li in live):
        order.fulfillment_status = "FULFILLED"
    elif any(li.fulfilled_quantity for li in order.line_items):
        order.fulfillment_status = "PARTIALLY_FULFILLED"
    else:
        order.fulfillment_status = "UNFULFILLED"


def create_fulfillment(
    shop: SimShop, order: Order, picks: list[tuple[FulfillmentOrder, FulfillmentOrderLineItem, int]], tracking: dict
) -> Fulfillment:
    """Ship `picks` (all from one location): committed and on_hand drop, FOs progress, webhooks fire."""
    if not picks:
        raise OrderError("Nothing to fulfill", ["fulfillment"], "INVALID")
    locations = {fo.location_id for fo, _, _ in picks}
    if len(locations) != 1:
        raise OrderError("All fulfillment orders must be assigned to the same location", ["fulfillment"])
    for fo, fli, qty in picks:
        if fo.status not in ("OPEN", "IN_PROGRESS"):
            raise OrderError(f"Fulfillment order {fo.gid} is not open", ["fulfillment"])
        if qty <= 0 or qty > fli.remaining_quantity:
            raise OrderError(f"Invalid fulfillment order line item quantity requested for {fli.gid}", ["fulfillment"])
    ts = now()
    loc_id = locations.pop()
    by_line: dict[int, int] = {}
    for fo, fli, qty in picks:
        fli.remaining_quantity -= qty
        order.line(fli.line_item_id).fulfilled_quantity += qty
        by_line[fli.line_item_id] = by_line.get(fli.line_item_id, 0) + qty
        _move(shop, fli.inventory_item_id, loc_id, {"committed": -qty}, "fulfilled")
        fo.status = "CLOSED" if all(x.remaining_quantity == 0 for x in fo.line_items) else "IN_PROGRESS"
        fo.updated_at = ts
    numbers = [n for n in (tracking.get("numbers") or [tracking.get("number")]) if n]
    urls = [u for u in (tracking.get("urls") or [tracking.get("url")]) if u]
    fulfillment = Fulfillment(
        id=shop.next_big_id(),
        order_id=order.id,
        location_id=loc_id,
        name=f"{order.name}.{len(order.fulfillment_ids) + 1}",
        tracking_company=tracking.get("company"),
        tracking_numbers=numbers,
        tracking_urls=urls,
        lines=[{"line_item_id": k, "quantity": v} for k, v in by_line.items()],
        created_at=ts,
        updated_at=ts,
    )
    shop.fulfillments[fulfillment.id] = fulfillment
    order.fulfillment_ids.append(fulfillment.id)
    _refresh_fulfillment_status(order)
    order.updated_at = ts
    shop.emit("fulfillments/create", fulfillment_payload(shop, fulfillment))
    shop.emit("orders/updated", order_payload(shop, order))
    topic = "orders/fulfilled" if order.fulfillment_status == "FULFILLED" else "orders/partially_fulfilled"
    shop.emit(topic, order_payload(shop, order))
    return fulfillment


def merchant_fulfill(
    shop: SimShop, order_ref: Any, *, lines: list | None = None, location: Any = None, tracking: dict | None = None
) -> list[Fulfillment]:
    """Fulfil from the admin: everything remaining, or [(line_item_gid, qty)]; one fulfillment per location."""
    order = _order(shop, order_ref)
    fos = [shop.fulfillment_orders[i] for i in order.fulfillment_order_ids]
    fos = [fo for fo in fos if fo.status in ("OPEN", "IN_PROGRESS")]
    if location is not None:
        loc_id = shop._id_of(location, "Location")
        fos = [fo for fo in fos if fo.location_id == loc_id]
    picks: list = []
    if lines is None:
        picks = [(fo, fli, fli.remaining_quantity) for fo in fos for fli in fo.line_items if fli.remaining_quantity]
    else:
        for ref, qty in lines:
            li_id, left = shop._id_of(ref, "LineItem"), int(qty)
            for fo in fos:
                for fli in fo.line_items:
                    if fli.line_item_id == li_id and fli.remaining_quantity and left:
                        take = min(left, fli.remaining_quantity)
                        picks.append((fo, fli, take))
                        left -= take
            if left:
                raise OrderError(f"Not enough unfulfilled units of line item {ref}")
    by_location: dict[int, list] = {}
    for pick in picks:
        by_location.setdefault(pick[0].location_id, []).append(pick)
    if not by_location:
        raise OrderError("Nothing left to fulfill")
    return [create_fulfillment(shop, order, group, tracking or {}) for group in by_location.values()]


def cancel_order(
    shop: SimShop, order_ref: Any, *, restock: bool = True, reason: str = "CUSTOMER", staff_note: str | None = None
) -> Order:
    order = _order(shop, order_ref)
    if order.cancelled_at is not None:
        raise OrderError("Order has already been cancelled", ["orderId"], "INVALID")
    if order.fulfillment_ids:
        raise OrderError("Cannot cancel an order with fulfillments. Cancel the fulfillments first.", ["orderId"])
    ts = now()
    for fo in (shop.fulfillment_orders[i] for i in order.fulfillment_order_ids):
        for fli in fo.line_items:
            r = fli.remaining_quantity
            if r:
                deltas = {"committed": -r, "available": r} if restock else {"committed": -r}
                _move(shop, fli.inventory_item_id, fo.location_id, deltas, "order_cancelled")
                fli.remaining_quantity = 0
        if fo.status in ("OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"):
            fo.status = "CANCELLED" if fo.status != "IN_PROGRESS" else "CLOSED"
            fo.updated_at = ts
    for li in order.line_items:
        li.current_quantity = 0
    order.financial_status = {"PAID": "REFUNDED", "PENDING": "VOIDED", "AUTHORIZED": "VOIDED"}.get(
        order.financial_status, order.financial_status
    )
    order.cancelled_at = order.closed_at = order.updated_at = ts
    order.cancel_reason = reason
    if staff_note:
        order.note = staff_note
    shop.emit("orders/cancelled", order_payload(shop, order))
    shop.emit("orders/updated", order_payload(shop, order))
    return order


def _returned(order: Order, shop: SimShop, line_item_id: int) -> int:
    return sum(
        e["quantity"]
        for r in order.refund_ids
        for e in shop.refunds[r].lines
        if e["line_item_id"] == line_item_id and e["restock_type"] == "RETURN"
    )


def create_refund(shop: SimShop, order: Order, lines: list[dict], note: str | None = None) -> Refund:
    """lines: [{"line_item_id", "quantity", "restock_type", "location_id"}]. Validates all, then applies."""
    for n, e in enumerate(lines):
        li = order.line(e["line_item_id"])
        field = ["refundLineItems", str(n)]
        if li is None:
            raise OrderError("Line item does not belong to the order", [*field, "lineItemId"], "INVALID")
        if e["restock_type"] not in ("NO_RESTOCK", "CANCEL", "RETURN"):
            raise OrderError("Restock type is not allowed", [*field, "restockType"], "INVALID")
        if e["quantity"] <= 0 or e["quantity"] > li.current_quantity:
            raise OrderError("Quantity cannot refund more items than were purchased", [*field, "quantity"], "INVALID")
        unfulfilled = sum(
            fli.remaining_quantity
            for i in order.fulfillment_order_ids
            for fli in shop.fulfillment_orders[i].line_items
            if fli.line_item_id == li.id
        )
        if e["restock_type"] == "CANCEL" and e["quantity"] > unfulfilled:
            raise OrderError("Cannot cancel more items than are unfulfilled", [*field, "quantity"], "INVALID")
        if e["restock_type"] == "RETURN" and e["quantity"] > li.fulfilled_quantity - _returned(order, shop, li.id):
            raise OrderError("Cannot return more items than were fulfilled", [*field, "quantity"], "INVALID")
    ts = now()
    refund = Refund(id=shop.next_big_id(), order_id=order.id, note=note, created_at=ts)
    for e in lines:
        li = order.line(e["line_item_id"])
        qty, kind = e["quantity"], e["restock_type"]
        item_id = shop.variants[li.variant_id].inventory_item_id if li.variant_id in shop.variants else None
        if kind in ("CANCEL", "NO_RESTOCK"):
            left = qty
            for fo in (shop.fulfillment_orders[i] for i in order.fulfillment_order_ids):
                for fli in fo.line_items:
                    if fli.line_item_id == li.id and fli.remaining_quantity and left:
                        take = min(left, fli.remaining_quantity)
                        fli.remaining_quantity -= take
                        left -= take
                        _move(shop, item_id, fo.location_id, {"committed": -take}, "refund")
                        target = e["location_id"] or fo.location_id
                        if kind == "CANCEL":
                            _move(shop, item_id, target, {"available": take}, "restock")
                            e["location_id"] = target
                if fo.status == "OPEN" and all(x.remaining_quantity == 0 for x in fo.line_items):
                    fo.status = "CLOSED"
        elif kind == "RETURN":
            target = e["location_id"] or order.location_id
            _move(shop, item_id, target, {"available": qty}, "restock")
            e["location_id"] = target
        li.current_quantity -= qty
        refund.lines.append({"id": shop.next_big_id(), **e})
    shop.refunds[refund.id] = refund
    order.refund_ids.append(refund.id)
    fully = all(li.current_quantity == 0 for li in order.line_items)
    order.financial_status = "REFUNDED" if fully else "PARTIALLY_REFUNDED"
    _refresh_fulfillment_status(order)
    order.updated_at = ts
    shop.emit("refunds/create", refund_payload(shop, refund))
    shop.emit("orders/updated", order_payload(shop, order))
    return refund


def merchant_refund(shop: SimShop, order_ref: Any, lines: list, note: str | None = None) -> Refund:
    """lines: [(line_item_gid, qty, restock_type, location_gid_or_None)] as the merchant enters them."""
    order = _order(shop, order_ref)
    parsed = []
    for entry in lines:
        li_ref, qty, kind = entry[0], entry[1], entry[2] if len(entry) > 2 else "NO_RESTOCK"
        loc = entry[3] if len(entry) > 3 else None
        parsed.append(
            {
                "line_item_id": shop._id_of(li_ref, "LineItem"),
                "quantity": int(qty),
                "restock_type": kind,
                "location_id": shop._id_of(loc, "Location") if loc is not None else None,
            }
        )
    return create_refund(shop, order, parsed, note=note)


def move_fulfillment_order(
    shop: SimShop, fo: FulfillmentOrder, new_location_id: int, lines: list[tuple[int, int]] | None
) -> tuple[FulfillmentOrder, FulfillmentOrder, FulfillmentOrder | None]:
    """Re-point a whole open FO, or split off `lines` [(fo_line_id, qty)] into a new FO at the new location."""
    if fo.status not in ("OPEN", "SCHEDULED", "ON_HOLD"):
        raise OrderError("Fulfillment order is not in a movable state", ["id"], "INVALID")
    loc = shop.locations.get(new_location_id)
    if loc is None or not loc.is_active:
        raise OrderError("Location does not exist or is inactive", ["newLocationId"], "INVALID")
    if new_location_id == fo.location_id:
        raise OrderError("Cannot move to the location the fulfillment order is already assigned to", ["newLocationId"])
    wanted = {fli.id: fli.remaining_quantity for fli in fo.line_items if fli.remaining_quantity}
    if lines:
        wanted = {}
        for fli_id, qty in lines:
            fli = next((x for x in fo.line_items if x.id == fli_id), None)
            if fli is None or qty <= 0 or qty > fli.remaining_quantity:
                raise OrderError("Invalid fulfillment order line item", ["fulfillmentOrderLineItems"], "INVALID")
            wanted[fli_id] = qty
    for fli in fo.line_items:
        if fli.id in wanted and _tracked(shop, fli.inventory_item_id) and not shop.level(fli.inventory_item_id, loc.id):
            raise OrderError(f"{fli.sku or fli.gid} is not stocked at {loc.name}", ["newLocationId"], "INVALID")
    ts = now()
    whole = all(wanted.get(fli.id, 0) == fli.remaining_quantity for fli in fo.line_items)
    for fli in fo.line_items:
        qty = wanted.get(fli.id, 0)
        if qty:
            _move(shop, fli.inventory_item_id, fo.location_id, {"committed": -qty, "available": qty}, "fo_moved")
            _move(shop, fli.inventory_item_id, loc.id, {"available": -qty, "committed": qty}, "fo_moved")
    order = shop.orders[fo.order_id]
    order.updated_at = ts
    if whole:
        fo.location_id = loc.id
        fo.updated_at = ts
        shop.emit("orders/updated", order_payload(shop, order))
        return fo, fo, None
    moved = FulfillmentOrder(id=shop.next_small_id(), order_id=fo.order_id, location_id=loc.id, created_at=ts)
    for fli in fo.line_items:
        qty = wanted.get(fli.id, 0)
        if qty:
            fli.remaining_quantity -= qty
            fli.total_quantity -= qty
            moved.line_items.append(
                FulfillmentOrderLineItem(
                    id=shop.next_small_id(),
                    line_item_id=fli.line_item_id,
                    variant_id=fli.variant_id,
                    inventory_item_id=fli.inventory_item_id,
                    sku=fli.sku,
                    total_quantity=qty,
                    remaining_quantity=qty,
                )
            )
    fo.line_items = [x for x in fo.line_items if x.total_quantity > 0]
    fo.updated_at = ts
    shop.fulfillment_orders[moved.id] = moved
    order.fulfillment_order_ids.append(moved.id)
    shop.emit("orders/updated", order_payload(shop, order))
    return moved, fo, fo


def add_fulfillment_event(shop: SimShop, fulfillment: Fulfillment, status: str, message: str | None) -> dict:
    ts = now()
    event = {"id": shop.next_small_id(), "status": status, "message": message, "happened_at": ts}
    fulfillment.events.append(event)
    fulfillment.display_status = status
    fulfillment.updated_at = ts
    shop.emit("fulfillments/update", fulfillment_payload(shop, fulfillment))
    return event
