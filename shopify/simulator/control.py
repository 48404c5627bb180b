"""/_sim/ test-control endpoints: thin JSON wrappers over the SimShop Python API (no auth, test use only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .ids import gid

if TYPE_CHECKING:
    from .models import Order
    from .store import SimShop


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body, default=str), status_code=status, media_type="application/json")


def order_summary(shop: SimShop, order: Order) -> dict:
    return {
        "id": order.gid,
        "legacyResourceId": str(order.id),
        "name": order.name,
        "locationId": gid("Location", order.location_id) if order.location_id else None,
        "financialStatus": order.financial_status,
        "fulfillmentStatus": order.fulfillment_status,
        "cancelledAt": order.cancelled_at,
        "lineItems": [
            {
                "id": li.gid,
                "variantId": gid("ProductVariant", li.variant_id),
                "quantity": li.quantity,
                "currentQuantity": li.current_quantity,
                "sku": li.sku,
            }
            for li in order.line_items
        ],
        "fulfillmentOrders": [
            {
                "id": shop.fulfillment_orders[f].gid,
                "status": shop.fulfillment_orders[f].status,
                "locationId": gid("Location", shop.fulfillment_orders[f].location_id),
            }
            for f in order.fulfillment_order_ids
        ],
    }


def _order_ref(request: Request) -> str | int:
    raw = request.path_params["order_id"]
    return int(raw) if raw.isdigit() else raw


def control_routes(shop: SimShop) -> list[Route]:
    def guarded(fn):
        async def endpoint(request: Request) -> Response:
            try:
                body = await request.json() if request.method == "POST" and await request.body() else {}
                return _json(fn(request, body or {}))
            except (ValueError, KeyError, TypeError) as exc:
                return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)

        return endpoint

    def state(_request: Request, _body: dict) -> dict:
        return shop.summary()

    def place(_request: Request, body: dict) -> dict:
        lines = [(x["variant_id"], x["quantity"]) if isinstance(x, dict) else tuple(x) for x in body["lines"]]
        order = shop.place_order(
            lines,
            gateway=body.get("gateway"),
            customer=body.get("customer_id"),
            location=body.get("location_id"),
            source_name=body.get("source_name", "web"),
        )
        return order_summary(shop, order)

    def fulfill(request: Request, body: dict) -> dict:
        lines = [tuple(x) for x in body["lines"]] if body.get("lines") else None
        made = shop.fulfill(
            _order_ref(request), lines=lines, location=body.get("location_id"), tracking=body.get("tracking")
        )
        return {
            "fulfillments": [f.gid for f in made],
            "order": order_summary(shop, made[0] and shop.orders[made[0].order_id]),
        }

    def cancel(request: Request, body: dict) -> dict:
        order = shop.cancel_order(
            _order_ref(request), restock=body.get("restock", True), reason=body.get("reason", "CUSTOMER")
        )
        return order_summary(shop, order)

    def refund(request: Request, body: dict) -> dict:
        made = shop.refund(_order_ref(request), [tuple(x) for x in body["lines"]], note=body.get("note"))
        return {"refund": made.gid, "order": order_summary(shop, shop.orders[made.order_id])}

    def inventory(request: Request, body: dict) -> dict:
        item = body.get("inventory_item_id") or body.get("variant_id") or request.query_params.get("inventory_item_id")
        location = body.get("location_id") or request.query_params.get("location_id")
        if request.method == "POST":
            shop.set_quantity(item, location, int(body["quantity"]), name=body.get("name", "available"))
        return shop.quantities(item, location)

    def faults(_request: Request, body: dict) -> dict:
        shop.faults.apply(body)
        return {"ok": True}

    def reset(_request: Request, _body: dict) -> dict:
        shop.reset_faults()
        return {"ok": True}

    def deliveries(_request: Request, _body: dict) -> list:
        return [
            {
                "topic": d.topic,
                "uri": d.uri,
                "status": d.status,
                "failed": d.failed,
                "dropped": d.dropped,
                "duplicate": d.duplicate,
                "attempt": d.attempt,
                "webhook_id": d.webhook_id,
                "event_id": d.event_id,
                "headers": d.headers,
                "body": d.body.decode(),
            }
            for d in shop.deliveries
        ]

    def subscribe(_request: Request, body: dict) -> dict:
        sub = shop.subscribe(body["topic"], body["uri"], name=body.get("name"))
        return {"id": sub.gid, "topic": sub.topic, "uri": sub.uri}

    return [
        Route("/_sim/state", guarded(state), methods=["GET"]),
        Route("/_sim/orders", guarded(place), methods=["POST"]),
        Route("/_sim/orders/{order_id:path}/fulfill", guarded(fulfill), methods=["POST"]),
        Route("/_sim/orders/{order_id:path}/cancel", guarded(cancel), methods=["POST"]),
        Route("/_sim/orders/{order_id:path}/refund", guarded(refund), methods=["POST"]),
        Route("/_sim/inventory", guarded(inventory), methods=["GET", "POST"]),
        Route("/_sim/faults", guarded(faults), methods=["POST"]),
        Route("/_sim/reset_faults", guarded(reset), methods=["POST"]),
        Route("/_sim/deliveries", guarded(deliveries), methods=["GET"]),
        Route("/_sim/webhooks", guarded(subscribe), methods=["POST"]),
    ]
