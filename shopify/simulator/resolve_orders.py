"""Resolvers for orders, fulfillment orders, fulfillments, refunds, bulk operations, webhooks and jobs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .bulk import current_status, partial_url, result_url
from .connections import paginate, search
from .ids import expect_gid, gid
from .models import FulfillmentOrder, LineItem, Order
from .resolve_catalog import _address, money, shop_of
from .webhooks import topic_enum, topic_rest

_FULFILLMENT_SEARCH = {"unfulfilled": "UNFULFILLED", "fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}


def _order_status(o: Order) -> str:
    if o.cancelled_at:
        return "cancelled"
    return "closed" if o.closed_at else "open"


_ORDER_FIELDS = {
    "updated_at": lambda o: o.updated_at,
    "created_at": lambda o: o.created_at,
    "processed_at": lambda o: o.created_at,
    "id": lambda o: o.id,
    "name": lambda o: o.name,
    "status": _order_status,
    "financial_status": lambda o: o.financial_status.lower(),
    "fulfillment_status": lambda o: {"FULFILLED": "shipped", "PARTIALLY_FULFILLED": "partial"}.get(
        o.fulfillment_status, "unshipped"
    ),
    "customer_id": lambda o: o.customer_id,
    "location_id": lambda o: o.location_id,
    "source_name": lambda o: o.source_name,
    "test": lambda o: o.test,
    "gateway": lambda o: ",".join(o.payment_gateway_names),
}
_ORDER_SORT = {
    "CREATED_AT": lambda o: o.created_at,
    "PROCESSED_AT": lambda o: o.created_at,
    "UPDATED_AT": lambda o: o.updated_at,
    "ORDER_NUMBER": lambda o: o.number,
    "TOTAL_PRICE": lambda o: float(o.total_price()),
}


def q_order(_root: Any, info: Any, id: str) -> Any:
    return shop_of(info).orders.get(expect_gid(id, "Order"))


def q_orders(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    query = args.get("query") or ""
    items = search(list(shop.orders.values()), query, _ORDER_FIELDS, lambda o: o.name)
    return paginate(items, args, info, _ORDER_SORT.get(args.get("sortKey")))


def q_current_bulk(_root: Any, info: Any, type: str = "QUERY") -> Any:
    ops = [op for op in shop_of(info).bulk_operations.values() if op.type == type]
    return ops[-1] if ops else None


def q_bulk_operations(_root: Any, info: Any, **args: Any) -> dict:
    fields = {
        "status": lambda op: current_status(shop_of(info), op).lower(),
        "operation_type": lambda op: op.type.lower(),
        "created_at": lambda op: op.created_at,
        "id": lambda op: op.id,
    }
    items = search(list(shop_of(info).bulk_operations.values()), args.get("query"), fields)
    return paginate(items, args, info, lambda op: op.created_at)


def q_webhook_subscriptions(_root: Any, info: Any, **args: Any) -> dict:
    subs = list(shop_of(info).subscriptions.values())
    if args.get("topics"):
        wanted = {topic_rest(t) for t in args["topics"]}
        subs = [s for s in subs if s.topic in wanted]
    return paginate(subs, args, info)


def _unfulfilled(li: LineItem, info: Any) -> int:
    shop = shop_of(info)
    return sum(
        fli.remaining_quantity
        for fo in shop.fulfillment_orders.values()
        for fli in fo.line_items
        if fli.line_item_id == li.id
    )


def _current_total(o: Order, info: Any) -> dict:
    total = sum(float(li.price) * li.current_quantity for li in o.line_items)
    return money(f"{total:.2f}", o.currency)


def _supported_actions(fo: FulfillmentOrder, _info: Any) -> list[dict]:
    actions = {"OPEN": ["CREATE_FULFILLMENT", "MOVE", "HOLD"], "IN_PROGRESS": ["CREATE_FULFILLMENT"]}
    return [{"action": a} for a in actions.get(fo.status, [])]


def _assigned_location(fo: FulfillmentOrder, info: Any) -> dict:
    loc = shop_of(info).locations.get(fo.location_id)
    addr = _address(loc, info) if loc else {}
    return {
        "name": loc.name if loc else "",
        "address1": addr.get("address1"),
        "city": addr.get("city"),
        "countryCode": addr.get("countryCode") or "PK",
        "location": loc,
    }


def _fulfillment_lines(f: Any, info: Any, **args: Any) -> dict:
    order = shop_of(info).orders[f.order_id]
    rows = [
        SimpleNamespace(
            id=e["line_item_id"],
            gid=gid("FulfillmentLineItem", e["line_item_id"] + 1),
            quantity=e["quantity"],
            line=order.line(e["line_item_id"]),
        )
        for e in f.lines
    ]
    return paginate(rows, args, info)


def _refund_lines(r: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    order = shop.orders[r.order_id]
    rows = []
    for e in r.lines:
        li = order.line(e["line_item_id"])
        rows.append(
            SimpleNamespace(
                id=e["id"],
                gid=gid("RefundLineItem", e["id"]),
                quantity=e["quantity"],
                restock_type=e["restock_type"],
                restocked=e["restock_type"] != "NO_RESTOCK",
                location=shop.locations.get(e["location_id"]) if e["location_id"] else None,
                line_item=li,
                subtotal_set=money(f"{float(li.price) * e['quantity']:.2f}", order.currency),
            )
        )
    return paginate(rows, args, info)


def _refund_total(r: Any, info: Any) -> dict:
    order = shop_of(info).orders[r.order_id]
    total = sum(float(order.line(e["line_item_id"]).price) * e["quantity"] for e in r.lines)
    return money(f"{total:.2f}", order.currency)


def _events(f: Any, info: Any, **args: Any) -> dict:
    rows = [
        SimpleNamespace(
            id=e["id"],
            gid=gid("FulfillmentEvent", e["id"]),
            status=e["status"],
            message=e["message"],
            happened_at=e["happened_at"],
            created_at=e["happened_at"],
        )
        for e in f.events
    ]
    return paginate(rows, args, info)


TYPE_RESOLVERS: dict[str, dict[str, Any]] = {
    "Query": {
        "order": q_order,
        "orders": q_orders,
        "fulfillmentOrder": lambda _r, i, id: shop_of(i).fulfillment_orders.get(expect_gid(id, "FulfillmentOrder")),
        "fulfillment": lambda _r, i, id: shop_of(i).fulfillments.get(expect_gid(id, "Fulfillment")),
        "currentBulkOperation": q_current_bulk,
        "bulkOperation": lambda _r, i, id: shop_of(i).bulk_operations.get(expect_gid(id, "BulkOperation")),
        "bulkOperations": q_bulk_operations,
        "webhookSubscription": lambda _r, i, id: shop_of(i).subscriptions.get(expect_gid(id, "WebhookSubscription")),
        "webhookSubscriptions": q_webhook_subscriptions,
        "job": lambda _r, i, id: {"id": id, "done": True},
    },
    "Order": {
        "processedAt": lambda o, i: o.created_at,
        "closed": lambda o, i: o.closed_at is not None,
        "displayFinancialStatus": lambda o, i: o.financial_status,
        "displayFulfillmentStatus": lambda o, i: o.fulfillment_status,
        "currencyCode": lambda o, i: o.currency,
        "customer": lambda o, i: shop_of(i).customers.get(o.customer_id) if o.customer_id else None,
        "retailLocation": lambda o, i: shop_of(i).locations.get(o.location_id) if o.source_name == "pos" else None,
        "totalPriceSet": lambda o, i: money(o.total_price(), o.currency),
        "currentTotalPriceSet": _current_total,
        "lineItems": lambda o, i, **a: paginate(o.line_items, a, i),
        "fulfillmentOrders": lambda o, i, **a: paginate(
            [shop_of(i).fulfillment_orders[f] for f in o.fulfillment_order_ids], a, i
        ),
        "fulfillments": lambda o, i, first=None: [shop_of(i).fulfillments[f] for f in o.fulfillment_ids][:first],
        "refunds": lambda o, i, first=None: [shop_of(i).refunds[r] for r in o.refund_ids][:first],
    },
    "LineItem": {
        "name": lambda li, i: li.title,
        "unfulfilledQuantity": _unfulfilled,
        "refundableQuantity": lambda li, i: li.current_quantity,
        "variant": lambda li, i: shop_of(i).variants.get(li.variant_id),
        "product": lambda li, i: shop_of(i).products.get(li.product_id),
        "originalUnitPriceSet": lambda li, i: money(li.price, shop_of(i).currency),
    },
    "FulfillmentOrder": {
        "assignedLocation": _assigned_location,
        "order": lambda fo, i: shop_of(i).orders[fo.order_id],
        "orderId": lambda fo, i: gid("Order", fo.order_id),
        "fulfillAt": lambda fo, i: fo.created_at,
        "supportedActions": _supported_actions,
        "lineItems": lambda fo, i, **a: paginate(fo.line_items, a, i),
    },
    "FulfillmentOrderLineItem": {
        "lineItem": lambda fli, i: shop_of(i).line_item(fli.line_item_id)[1],
        "variant": lambda fli, i: shop_of(i).variants.get(fli.variant_id),
        "inventoryItemId": lambda fli, i: (
            gid("InventoryItem", fli.inventory_item_id) if fli.inventory_item_id else None
        ),
    },
    "Fulfillment": {
        "location": lambda f, i: shop_of(i).locations.get(f.location_id),
        "order": lambda f, i: shop_of(i).orders[f.order_id],
        "trackingInfo": lambda f, i, first=None: [
            {
                "company": f.tracking_company,
                "number": n,
                "url": f.tracking_urls[k] if k < len(f.tracking_urls) else None,
            }
            for k, n in enumerate(f.tracking_numbers)
        ][:first],
        "fulfillmentLineItems": _fulfillment_lines,
        "events": _events,
    },
    "FulfillmentLineItem": {"id": lambda r, i: r.gid, "lineItem": lambda r, i: r.line},
    "FulfillmentEvent": {"id": lambda r, i: r.gid},
    "RefundLineItem": {"id": lambda r, i: r.gid},
    "Refund": {
        "order": lambda r, i: shop_of(i).orders[r.order_id],
        "totalRefundedSet": _refund_total,
        "refundLineItems": _refund_lines,
    },
    "BulkOperation": {
        "status": lambda op, i: current_status(shop_of(i), op),
        "url": lambda op, i: result_url(shop_of(i), op),
        "partialDataUrl": lambda op, i: partial_url(shop_of(i), op),
    },
    "WebhookSubscription": {
        "topic": lambda s, i: topic_enum(s.topic),
        "callbackUrl": lambda s, i: s.uri,
        "endpoint": lambda s, i: {"__typename": "WebhookHttpEndpoint", "callbackUrl": s.uri},
        "filter": lambda s, i: None,
        "apiVersion": lambda s, i: {
            "handle": shop_of(i).config.webhook_api_version,
            "displayName": shop_of(i).config.webhook_api_version,
            "supported": True,
        },
    },
}
