"""Shopify's orders into the domain: the orders/* webhooks, and an order fetched when a fulfillment or
refund names one Branchline has not seen yet.

Shopify is read here, outside any transaction, and operations/orders/intake.py takes the order in as
plain data. When a version of an order must be placed (new, still without a branch, or with new lines)
intake says so (`PlacementNeeded`) and its fulfillment orders are read before it is taken in again.
"""

from models.orders import Order
from operations.kernel import ErrorCode, OperationError
from operations.orders import (
    IncomingOrder,
    Placement,
    PlacementNeeded,
    order_from_graphql,
    order_from_webhook,
    placement_of,
)
from operations.orders import take_in as ops_take_in
from operations.sync.connection import client_for, current_connection
from shopify import documents

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/paid",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        # not orders/edited: its body is the edit, not the order; the orders/updated that follows carries it
    }
)


async def on_order_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """An orders/* webhook (REST body). Idempotent; a stale version is ignored."""
    if topic not in ORDER_TOPICS:
        raise OperationError.single(ErrorCode.MALFORMED_WEBHOOK, f"{topic!r} is not an order topic", "topic")
    await take_in(order_from_webhook(payload), source=topic)


async def take_in(incoming: IncomingOrder, placement: Placement | None = None, *, source: str = "shopify") -> Order:
    """`intake.take_in`, reading where Shopify placed the order first when intake needs it."""
    try:
        return await ops_take_in(incoming, placement, source=source)
    except PlacementNeeded:
        placement = await fetch_placement(incoming.shopify_order_id)
        return await ops_take_in(incoming, placement, source=source)


async def ensure_order(shopify_order_id: str) -> Order:
    """The order as Branchline holds it, taken in from Shopify first if it is not here yet (a
    fulfillment or refund that arrived before its order)."""
    order = await Order.get_or_none(shopify_order_id=shopify_order_id)
    if order is not None:
        return order
    node = (await _shopify_query(documents.ORDER, {"id": shopify_order_id})).get("order")
    if node is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, f"Shopify has no order {shopify_order_id}", "orderId")
    incoming, placement = order_from_graphql(node)
    return await ops_take_in(incoming, placement, source="shopify")


async def fetch_placement(shopify_order_id: str) -> Placement:
    data = await _shopify_query(documents.ORDER_PLACEMENT, {"id": shopify_order_id})
    return placement_of(data["order"]) if data.get("order") else Placement(None)


async def _shopify_query(document: str, variables: dict) -> dict:
    connection = await current_connection()
    if connection is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "Shopify is not connected")
    async with await client_for(connection) as client:
        return await client.query(document, variables)
