"""Shopify fulfillments and refunds Branchline never heard of, found by reading Shopify.

docs/architecture.md, Shopify sync, has the contract this keeps.

A fulfillments/create webhook can be lost (Shopify gives up after its retries, the subscription was down).
The orders poll lists each order's Shopify fulfillments (`ORDER_FIELDS` in shopify/documents.py reads
their ids); any not linked to a Branchline fulfillment and not remembered as cancelled is read in full and put through
`on_fulfillment_webhook`, exactly as its webhook would have been — matched to pending Smart/Manual
fulfillments or deducted once as Branch Sync (posting key `fulfillment:<gid>`, so a webhook arriving after
all changes nothing). The order-actions worker does the same before a fulfillmentCreate, so units the
merchant fulfilled by hand are not sent again (operations/sync/order_calls.py).

Refunds the same way: a refunds/create that never came would leave units Shopify restocked (a refund with
RETURN or CANCEL) counted in Shopify and not here. The poll lists each order's refund ids; one not yet
applied is read and put through `on_refund_webhook` (claimed once per refund id, so the late webhook then
changes nothing).
"""

import logging

from tortoise.expressions import Q

from models.idempotency import IdempotentRequest
from models.orders import Fulfillment
from operations.kernel import OperationError
from shopify import documents
from shopify.client import ShopifyClient

log = logging.getLogger(__name__)

_TAKEN_IN = {"SUCCESS": "fulfillments/create", "CANCELLED": "fulfillments/update"}


def webhook_body(order_gid: str, fulfillment: dict) -> dict:
    """A fulfillments/* webhook body from a GraphQL Fulfillment (id, status, location, trackingInfo,
    fulfillmentLineItems), so one found by reading Shopify goes through the webhook's path."""
    tracking = (fulfillment.get("trackingInfo") or [{}])[0] or {}
    return {
        "admin_graphql_api_id": fulfillment["id"],
        "order_id": order_gid,
        "location_id": (fulfillment.get("location") or {}).get("id"),
        "status": str(fulfillment.get("status") or "SUCCESS").lower(),
        "tracking_company": tracking.get("company"),
        "tracking_number": tracking.get("number"),
        "line_items": [
            {"admin_graphql_api_id": item["lineItem"]["id"], "quantity": item["quantity"]}
            for item in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []
        ],
    }


async def unknown_ids(ids: list[str]) -> list[str]:
    """Of these Shopify fulfillment ids, those Branchline has neither linked nor seen cancelled."""
    if not ids:
        return []
    linked = await Fulfillment.filter(
        Q(shopify_fulfillment_id__in=ids) | Q(matched_shopify_fulfillment_id__in=ids)
    ).values_list("shopify_fulfillment_id", "matched_shopify_fulfillment_id")
    known = {gid for pair in linked for gid in pair if gid}
    known |= set(
        await IdempotentRequest.filter(operation="shopify.fulfillment_cancelled", key__in=ids).values_list(
            "key", flat=True
        )
    )
    return [gid for gid in ids if gid not in known]


async def recover_fulfillments(client: ShopifyClient, order_node: dict) -> int:
    """Take in the Shopify fulfillments of one polled order (`ORDER_FIELDS`) that Branchline does not know.
    Returns how many were put through the webhook path. A fulfillment Branchline cannot take in (its
    location is not a branch) is logged and left: the poll goes on with the other orders."""
    from operations.sync.fulfillment_webhooks import on_fulfillment_webhook  # the webhooks build on intake

    ids = [f["id"] for f in order_node.get("fulfillments") or [] if isinstance(f, dict) and f.get("id")]
    if not await unknown_ids(ids):
        return 0
    data = await client.query(documents.ORDER_FULFILLMENTS, {"id": order_node["id"]})
    fulfillments = ((data or {}).get("order") or {}).get("fulfillments") or []
    missing = set(await unknown_ids([f["id"] for f in fulfillments]))
    recovered = 0
    for theirs in fulfillments:
        topic = _TAKEN_IN.get(str(theirs.get("status") or "").upper())
        if theirs["id"] not in missing or topic is None:
            continue
        try:
            await on_fulfillment_webhook(topic, webhook_body(order_node["id"], theirs))
        except OperationError as error:
            log.warning("Shopify fulfillment %s could not be taken in by the poll: %s", theirs["id"], error)
            continue
        log.info("Shopify fulfillment %s taken in by the poll (its webhook never came)", theirs["id"])
        recovered += 1
    return recovered


def refund_body(order_gid: str, refund: dict) -> dict:
    """A refunds/create webhook body from a GraphQL Refund, so a refund found by reading Shopify goes
    through the webhook's path."""
    return {
        "admin_graphql_api_id": refund["id"],
        "order_id": order_gid,
        "refund_line_items": [
            {
                "id": item["id"],
                "line_item_id": item["lineItem"]["id"],
                "quantity": item["quantity"],
                "restock_type": str(item.get("restockType") or "NO_RESTOCK").lower(),
                "location_id": (item.get("location") or {}).get("id"),
            }
            for item in (refund.get("refundLineItems") or {}).get("nodes") or []
        ],
    }


async def recover_refunds(client: ShopifyClient, order_node: dict) -> int:
    """Take in the refunds of one polled order (`ORDER_FIELDS` lists their ids) not applied yet. A refund
    that restocked nothing is never recorded, so it is read again while its order is in the poll's window:
    one small query, and only for orders updated lately."""
    from operations.sync.fulfillment_webhooks import on_refund_webhook  # the webhooks build on intake

    ids = [r["id"] for r in order_node.get("refunds") or [] if isinstance(r, dict) and r.get("id")]
    if not ids:
        return 0
    applied = set(await IdempotentRequest.filter(operation="shopify.refund", key__in=ids).values_list("key", flat=True))
    if all(gid in applied for gid in ids):
        return 0
    data = await client.query(documents.ORDER_REFUNDS, {"id": order_node["id"]})
    recovered = 0
    for refund in ((data or {}).get("order") or {}).get("refunds") or []:
        if refund["id"] in applied:
            continue
        try:
            await on_refund_webhook("refunds/create", refund_body(order_node["id"], refund))
        except OperationError as error:
            log.warning("Shopify refund %s could not be taken in by the poll: %s", refund["id"], error)
            continue
        recovered += 1
    return recovered
