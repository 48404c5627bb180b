"""REST-shaped webhook bodies (reference 5.5): numeric ids as JSON numbers plus admin_graphql_api_id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ids import rest_time
from .models import BulkOperation, Fulfillment, InventoryLevel, LineItem, Order, Product, Refund

if TYPE_CHECKING:
    from .store import SimShop

_FULFILLMENT_STATUS_REST = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


def level_payload(lvl: InventoryLevel) -> dict:
    """Only `available`, no reason and no other states: the real payload is this thin."""
    return {
        "inventory_item_id": lvl.item_id,
        "location_id": lvl.location_id,
        "available": lvl.get("available"),
        "updated_at": rest_time(lvl.updated_at),
        "admin_graphql_api_id": lvl.gid,
    }


def _line_payload(li: LineItem, order: Order) -> dict:
    fulfillable = 0 if order.cancelled_at else max(li.current_quantity - li.fulfilled_quantity, 0)
    status = None
    if li.fulfilled_quantity and li.fulfilled_quantity >= li.current_quantity:
        status = "fulfilled"
    elif li.fulfilled_quantity:
        status = "partial"
    return {
        "id": li.id,
        "admin_graphql_api_id": li.gid,
        "variant_id": li.variant_id,
        "product_id": li.product_id,
        "title": li.title,
        "name": li.title,
        "sku": li.sku,
        "quantity": li.quantity,
        "current_quantity": li.current_quantity,
        "fulfillable_quantity": fulfillable,
        "fulfillment_status": status,
        "price": li.price,
        "requires_shipping": li.requires_shipping,
    }


def order_payload(shop: SimShop, order: Order) -> dict:
    customer = shop.customers.get(order.customer_id) if order.customer_id else None
    return {
        "id": order.id,
        "admin_graphql_api_id": order.gid,
        "name": order.name,
        "order_number": order.number - 1000,
        "number": order.number - 1000,
        "created_at": rest_time(order.created_at),
        "updated_at": rest_time(order.updated_at),
        "processed_at": rest_time(order.created_at),
        "cancelled_at": rest_time(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": rest_time(order.closed_at),
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": _FULFILLMENT_STATUS_REST.get(order.fulfillment_status),
        "payment_gateway_names": list(order.payment_gateway_names),
        "gateway": order.payment_gateway_names[0] if order.payment_gateway_names else None,
        "source_name": order.source_name,
        "location_id": order.location_id if order.source_name == "pos" else None,
        "test": order.test,
        "currency": order.currency,
        "total_price": order.total_price(),
        "note": order.note,
        "customer": (
            {
                "id": customer.id,
                "admin_graphql_api_id": customer.gid,
                "email": customer.email,
                "phone": customer.phone,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
            }
            if customer
            else None
        ),
        "line_items": [_line_payload(li, order) for li in order.line_items],
        "fulfillments": [fulfillment_payload(shop, shop.fulfillments[f]) for f in order.fulfillment_ids],
        "refunds": [refund_payload(shop, shop.refunds[r]) for r in order.refund_ids],
    }


def fulfillment_payload(shop: SimShop, f: Fulfillment) -> dict:
    order = shop.orders[f.order_id]
    lines = []
    for entry in f.lines:
        li = order.line(entry["line_item_id"])
        lines.append(
            {
                "id": li.id,
                "admin_graphql_api_id": li.gid,
                "variant_id": li.variant_id,
                "product_id": li.product_id,
                "sku": li.sku,
                "title": li.title,
                "quantity": entry["quantity"],
                "fulfillment_status": "fulfilled",
                "price": li.price,
            }
        )
    return {
        "id": f.id,
        "admin_graphql_api_id": f.gid,
        "order_id": f.order_id,
        "name": f.name,
        "status": f.status.lower(),
        "shipment_status": f.display_status.lower() if f.display_status else None,
        "location_id": f.location_id,
        "tracking_company": f.tracking_company,
        "tracking_number": f.tracking_numbers[0] if f.tracking_numbers else None,
        "tracking_numbers": list(f.tracking_numbers),
        "tracking_url": f.tracking_urls[0] if f.tracking_urls else None,
        "tracking_urls": list(f.tracking_urls),
        "created_at": rest_time(f.created_at),
        "updated_at": rest_time(f.updated_at),
        "line_items": lines,
    }


def refund_payload(shop: SimShop, refund: Refund) -> dict:
    order = shop.orders[refund.order_id]
    lines = []
    amount = 0.0
    for entry in refund.lines:
        li = order.line(entry["line_item_id"])
        subtotal = float(li.price) * entry["quantity"]
        amount += subtotal
        lines.append(
            {
                "id": entry["id"],
                "line_item_id": li.id,
                "quantity": entry["quantity"],
                "location_id": entry["location_id"],
                "restock_type": entry["restock_type"].lower(),
                "subtotal": round(subtotal, 2),
                "total_tax": 0.0,
                "line_item": {"id": li.id, "variant_id": li.variant_id, "sku": li.sku, "title": li.title},
            }
        )
    return {
        "id": refund.id,
        "admin_graphql_api_id": refund.gid,
        "order_id": refund.order_id,
        "created_at": rest_time(refund.created_at),
        "processed_at": rest_time(refund.created_at),
        "note": refund.note,
        "restock": any(e["restock_type"] != "NO_RESTOCK" for e in refund.lines),
        "refund_line_items": lines,
        "transactions": [
            {
                "kind": "refund",
                "status": "success",
                "amount": f"{amount:.2f}",
                "gateway": order.payment_gateway_names[0] if order.payment_gateway_names else "manual",
            }
        ],
    }


def bulk_finish_payload(op: BulkOperation) -> dict:
    """Lower-case status/type/error_code and no URL: the receiver must fetch the op to get it."""
    return {
        "admin_graphql_api_id": op.gid,
        "completed_at": rest_time(op.completed_at),
        "created_at": rest_time(op.created_at),
        "error_code": op.error_code.lower() if op.error_code else None,
        "status": op.status.lower(),
        "type": op.type.lower(),
    }


def product_payload(shop: SimShop, product: Product) -> dict:
    """`products/create|update`: the product with every variant (reference 5.5, 2026-07 sample)."""
    variants = [shop.variants[v] for v in product.variant_ids]
    body = []
    for v in variants:
        item = shop.items[v.inventory_item_id]
        entry = {
            "id": v.id,
            "admin_graphql_api_id": v.gid,
            "product_id": product.id,
            "title": v.title,
            "price": v.price,
            "compare_at_price": v.compare_at_price,
            "sku": v.sku or "",
            "barcode": v.barcode,
            "position": v.position,
            "inventory_policy": v.inventory_policy.lower(),
            "inventory_item_id": item.id,
            "inventory_quantity": sum(
                lvl.get("available") for (item_id, _), lvl in shop.levels.items() if item_id == item.id
            ),
            "created_at": rest_time(v.created_at),
            "updated_at": rest_time(v.updated_at),
        }
        for n, value in enumerate(v.options.values(), start=1):
            entry[f"option{n}"] = value
        body.append(entry)
    return {
        "id": product.id,
        "admin_graphql_api_id": product.gid,
        "title": product.title,
        "handle": product.handle,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "created_at": rest_time(product.created_at),
        "updated_at": rest_time(product.updated_at),
        "variants": body,
        "options": [{"name": name, "position": n} for n, name in enumerate(product.option_names, start=1)],
        "variant_gids": [{"admin_graphql_api_id": v.gid, "updated_at": rest_time(v.updated_at)} for v in variants],
    }
