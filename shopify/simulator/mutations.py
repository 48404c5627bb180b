"""Mutation resolvers, and the `@idempotent(key:)` semantics wrapped around the ones that take it (3.5).

Same key + same arguments → the stored first result, nothing applied again. Same key + different arguments →
IDEMPOTENCY_KEY_PARAMETER_MISMATCH. Missing directive on a listed mutation from 2026-04 → a GraphQL error.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLString, value_from_ast

from . import inventory
from .bulk import cancel_bulk, start_bulk
from .ids import expect_gid, maybe_gid
from .orders import (
    OrderError,
    add_fulfillment_event,
    cancel_order,
    create_fulfillment,
    create_refund,
    move_fulfillment_order,
)
from .resolve_catalog import shop_of
from .webhooks import topic_rest

MISMATCH = "The idempotency key was already used with different parameters."


def idempotency_key(info: Any) -> str | None:
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value == "idempotent":
            for arg in directive.arguments:
                if arg.name.value == "key":
                    variables = getattr(info.variable_values, "coerced", info.variable_values)
                    return value_from_ast(arg.value, GraphQLString, variables)
    return None


def idempotent(empty: dict, error_list: str = "userErrors"):
    """Decorate a resolver. `empty` is the payload shape with nulls used for a mismatch answer."""

    def decorate(resolver):
        @wraps(resolver)
        def wrapper(root: Any, info: Any, **args: Any) -> Any:
            ctx, shop = info.context, shop_of(info)
            field = info.field_name
            key = idempotency_key(info)
            if key is None:
                if field in shop.config.idempotent_mutations and ctx.version >= shop.config.idempotent_required_from:
                    raise GraphQLError(
                        f"The @idempotent directive is required for {field} from API version 2026-04. "
                        'Add @idempotent(key: "<unique key>") to the mutation field.',
                        extensions={"code": "IDEMPOTENCY_KEY_REQUIRED"},
                    )
                return resolver(root, info, **args)
            fingerprint = orjson.dumps([field, args], option=orjson.OPT_SORT_KEYS, default=str)
            seen = shop.idempotency.get(key)
            if seen is not None:
                if seen["fingerprint"] != fingerprint:
                    err = {"field": None, "message": MISMATCH, "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}
                    return {**empty, error_list: [err]}
                seen["replays"] += 1
                return seen["result"]
            result = resolver(root, info, **args)
            shop.idempotency[key] = {"fingerprint": fingerprint, "result": result, "replays": 0, "field": field}
            return result

        return wrapper

    return decorate


# ------------------------------------------------------------------------------------------ inventory
@idempotent({"inventoryAdjustmentGroup": None})
def m_adjust(_root: Any, info: Any, input: dict) -> dict:
    return inventory.adjust(shop_of(info), input, info.context.version)


@idempotent({"inventoryAdjustmentGroup": None})
def m_set(_root: Any, info: Any, input: dict) -> dict:
    return inventory.set_quantities(shop_of(info), input, info.context.version)


@idempotent({"inventoryAdjustmentGroup": None})
def m_move(_root: Any, info: Any, input: dict) -> dict:
    return inventory.move(shop_of(info), input, info.context.version)


@idempotent({"inventoryLevel": None})
def m_activate(_root: Any, info: Any, inventoryItemId: str, locationId: str, **args: Any) -> dict:
    return inventory.activate(shop_of(info), inventoryItemId, locationId, args.get("available"), args.get("onHand"))


def _group_changes(group: dict, info: Any, **args: Any) -> list:
    changes = group["changes"]
    if args.get("quantityNames"):
        changes = [c for c in changes if c["name"] in args["quantityNames"]]
    if args.get("inventoryItemIds"):
        changes = [c for c in changes if c["item"].gid in args["inventoryItemIds"]]
    if args.get("locationIds"):
        changes = [c for c in changes if c["location"].gid in args["locationIds"]]
    return changes


# ------------------------------------------------------------------------------------------ bulk + webhooks
def m_bulk_run(_root: Any, info: Any, query: str, groupObjects: bool) -> dict:
    from .schema import schema_for

    ctx = info.context
    return start_bulk(shop_of(info), schema_for(ctx.version), ctx, query, groupObjects)


def m_bulk_cancel(_root: Any, info: Any, id: str) -> dict:
    shop = shop_of(info)
    return cancel_bulk(shop, shop.bulk_operations.get(expect_gid(id, "BulkOperation")))


def m_webhook_create(_root: Any, info: Any, topic: str, webhookSubscription: dict) -> dict:
    shop = shop_of(info)
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address can't be blank"}],
        }
    if not uri.startswith(("https://", "http://", "pubsub://", "arn:aws:events:")):
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}],
        }
    rest = topic_rest(topic)
    if any(s.topic == rest and s.uri == uri for s in shop.subscriptions.values()):
        err = {
            "field": ["webhookSubscription", "callbackUrl"],
            "message": "Address for this topic has already been taken",
        }
        return {"webhookSubscription": None, "userErrors": [err]}
    sub = shop.subscribe(rest, uri, name=webhookSubscription.get("name"))
    sub.format = webhookSubscription.get("format") or "JSON"
    sub.include_fields = list(webhookSubscription.get("includeFields") or [])
    return {"webhookSubscription": sub, "userErrors": []}


def m_webhook_delete(_root: Any, info: Any, id: str) -> dict:
    shop = shop_of(info)
    sub_id = expect_gid(id, "WebhookSubscription")
    if shop.subscriptions.pop(sub_id, None) is None:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
        }
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


# ------------------------------------------------------------------------------------------ orders
def _user_error(exc: OrderError, with_code: bool = False) -> dict:
    err = {"field": exc.field, "message": exc.message}
    if with_code:
        err["code"] = exc.code or "INVALID"
    return err


def m_fulfillment_create(_root: Any, info: Any, fulfillment: dict, message: str | None = None) -> dict:
    shop = shop_of(info)
    picks, orders = [], set()
    try:
        for n, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
            fo = shop.fulfillment_orders.get(maybe_gid(group["fulfillmentOrderId"], "FulfillmentOrder") or -1)
            if fo is None:
                raise OrderError(
                    "Fulfillment order does not exist.", ["fulfillment", "lineItemsByFulfillmentOrder", str(n)]
                )
            orders.add(fo.order_id)
            wanted = group.get("fulfillmentOrderLineItems")
            if not wanted:
                picks += [(fo, fli, fli.remaining_quantity) for fli in fo.line_items if fli.remaining_quantity]
                continue
            for entry in wanted:
                fli_id = maybe_gid(entry["id"], "FulfillmentOrderLineItem")
                fli = next((x for x in fo.line_items if x.id == fli_id), None)
                if fli is None:
                    raise OrderError("Fulfillment order line item does not exist.", ["fulfillment"])
                picks.append((fo, fli, entry["quantity"]))
        if len(orders) > 1:
            raise OrderError("All fulfillment orders must belong to the same order.", ["fulfillment"])
        if not orders:
            raise OrderError("No fulfillment orders given.", ["fulfillment"])
        order = shop.orders[orders.pop()]
        result = create_fulfillment(shop, order, picks, fulfillment.get("trackingInfo") or {})
    except OrderError as exc:
        return {"fulfillment": None, "userErrors": [_user_error(exc)]}
    return {"fulfillment": result, "userErrors": []}


def m_fo_move(
    _root: Any, info: Any, id: str, newLocationId: str, fulfillmentOrderLineItems: list | None = None
) -> dict:
    shop = shop_of(info)
    empty = {"movedFulfillmentOrder": None, "originalFulfillmentOrder": None, "remainingFulfillmentOrder": None}
    fo = shop.fulfillment_orders.get(expect_gid(id, "FulfillmentOrder"))
    if fo is None:
        return {**empty, "userErrors": [{"field": ["id"], "message": "Fulfillment order does not exist."}]}
    loc_id = maybe_gid(newLocationId, "Location") or -1
    lines = [
        (maybe_gid(x["id"], "FulfillmentOrderLineItem") or -1, x["quantity"]) for x in fulfillmentOrderLineItems or []
    ]
    try:
        moved, original, remaining = move_fulfillment_order(shop, fo, loc_id, lines or None)
    except OrderError as exc:
        return {**empty, "userErrors": [_user_error(exc)]}
    return {
        "movedFulfillmentOrder": moved,
        "originalFulfillmentOrder": original,
        "remainingFulfillmentOrder": remaining,
        "userErrors": [],
    }


def m_order_cancel(_root: Any, info: Any, orderId: str, reason: str, restock: bool, **args: Any) -> dict:
    shop = shop_of(info)
    job = {"id": f"gid://shopify/Job/{shop.next_small_id()}", "done": False}
    order_id = maybe_gid(orderId, "Order")
    if order_id is None or order_id not in shop.orders:
        err = {"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}
        return {"job": None, "orderCancelUserErrors": [err], "userErrors": [err]}
    try:
        cancel_order(shop, order_id, restock=restock, reason=reason, staff_note=args.get("staffNote"))
    except OrderError as exc:
        err = _user_error(exc, with_code=True)
        return {"job": None, "orderCancelUserErrors": [err], "userErrors": [err]}
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


@idempotent({"refund": None, "order": None})
def m_refund_create(_root: Any, info: Any, input: dict) -> dict:
    shop = shop_of(info)
    order = shop.orders.get(maybe_gid(input["orderId"], "Order") or -1)
    if order is None:
        err = {"field": ["input", "orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}
        return {"refund": None, "order": None, "userErrors": [err]}
    lines = []
    for n, entry in enumerate(input.get("refundLineItems") or []):
        kind = entry.get("restockType") or "RETURN"
        loc = entry.get("locationId")
        if kind == "LEGACY_RESTOCK":
            err = {
                "field": ["input", "refundLineItems", str(n), "restockType"],
                "message": "LEGACY_RESTOCK can't be used to create refunds",
                "code": "INVALID",
            }
            return {"refund": None, "order": order, "userErrors": [err]}
        lines.append(
            {
                "line_item_id": maybe_gid(entry["lineItemId"], "LineItem") or -1,
                "quantity": entry["quantity"],
                "restock_type": kind,
                "location_id": maybe_gid(loc, "Location") if loc else None,
            }
        )
    try:
        refund = create_refund(shop, order, lines, note=input.get("note"))
    except OrderError as exc:
        return {"refund": None, "order": order, "userErrors": [_user_error(exc, with_code=True)]}
    return {"refund": refund, "order": order, "userErrors": []}


def m_fulfillment_event(_root: Any, info: Any, fulfillmentEvent: dict) -> dict:
    shop = shop_of(info)
    f = shop.fulfillments.get(maybe_gid(fulfillmentEvent["fulfillmentId"], "Fulfillment") or -1)
    if f is None:
        return {
            "fulfillmentEvent": None,
            "userErrors": [{"field": ["fulfillmentEvent", "fulfillmentId"], "message": "Fulfillment does not exist."}],
        }
    event = add_fulfillment_event(shop, f, fulfillmentEvent["status"], fulfillmentEvent.get("message"))
    from types import SimpleNamespace

    row = SimpleNamespace(
        gid=f"gid://shopify/FulfillmentEvent/{event['id']}",
        status=event["status"],
        message=event["message"],
        happened_at=event["happened_at"],
        created_at=event["happened_at"],
    )
    return {"fulfillmentEvent": row, "userErrors": []}


TYPE_RESOLVERS: dict[str, dict[str, Any]] = {
    "Mutation": {
        "inventoryAdjustQuantities": m_adjust,
        "inventorySetQuantities": m_set,
        "inventoryMoveQuantities": m_move,
        "inventoryActivate": m_activate,
        "inventoryDeactivate": lambda _r, i, inventoryLevelId: inventory.deactivate(shop_of(i), inventoryLevelId),
        "bulkOperationRunQuery": m_bulk_run,
        "bulkOperationCancel": m_bulk_cancel,
        "webhookSubscriptionCreate": m_webhook_create,
        "webhookSubscriptionDelete": m_webhook_delete,
        "fulfillmentCreate": m_fulfillment_create,
        "fulfillmentOrderMove": m_fo_move,
        "orderCancel": m_order_cancel,
        "refundCreate": m_refund_create,
        "fulfillmentEventCreate": m_fulfillment_event,
    },
    "InventoryAdjustmentGroup": {"changes": _group_changes},
}
