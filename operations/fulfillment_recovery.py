"""Shopify fulfillments Branchline never heard of, found by reading Shopify (DESIGN §5).

A fulfillments/create webhook can be lost (Shopify gives up after its retries, the subscription was down).
The orders poll lists each order's Shopify fulfillments (`ORDER_FIELDS` reads their ids); any not linked
to a Branchline fulfillment and not remembered as cancelled is read in full and put through
`on_fulfillment_webhook`, exactly as its webhook would have been — matched to pending Smart/Manual
fulfillments or deducted once as Branch Sync (posting key `fulfillment:<gid>`, so a webhook arriving after
all changes nothing). The order-actions worker does the same before a fulfillmentCreate, so units the
merchant fulfilled by hand are not sent again (operations/shopify_order_calls.py).
"""

import logging

from tortoise.expressions import Q

from models.idempotency import IdempotentRequest
from models.orders import Fulfillment
from operations.errors import OperationError
from shopify.client import ShopifyClient

log = logging.getLogger(__name__)

# ≈ 10 × (40 line items × 2 + 5) points at most: well inside Shopify's 1000-point limit for one query.
FULFILLMENTS_QUERY = """
query OrderFulfillments($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 10) {
      id
      status
      location { id }
      trackingInfo(first: 1) { company number }
      fulfillmentLineItems(first: 40) { nodes { quantity lineItem { id } } }
    }
  }
}
"""
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
    from operations.fulfillment_webhooks import on_fulfillment_webhook  # the webhooks build on intake

    ids = [f["id"] for f in order_node.get("fulfillments") or [] if isinstance(f, dict) and f.get("id")]
    if not await unknown_ids(ids):
        return 0
    data = await client.query(FULFILLMENTS_QUERY, {"id": order_node["id"]})
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
