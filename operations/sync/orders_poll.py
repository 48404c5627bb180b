"""Recovering missed order webhooks: ask Shopify for orders updated since the watermark.

Webhooks can be dropped (Shopify gives up after its retries, our endpoint was down); fulfillments and
refunds whose webhooks never came are taken in after their order (operations/sync/recovery.py). The poll
reads every order updated since `ShopifyConnection.orders_synced_until` minus an overlap (Shopify
timestamps have one-second precision and an update may commit a little after its timestamp),
takes each one in through the same intake as a webhook — so one already known changes nothing —
and moves the watermark only after every order up to it was taken in. A failure leaves the
watermark where it was: the next poll reads the same orders again.
"""

import logging
from datetime import UTC, datetime, timedelta

from models.shopify import ShopifyConnection
from operations.orders import order_from_graphql
from operations.sync import orders_in
from operations.sync.connection import client_for, current_connection
from operations.sync.recovery import recover_fulfillments, recover_refunds
from shopify import documents

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=2)
FIRST_LOOK_BACK = timedelta(days=3)  # a freshly connected shop: recent orders only
MAX_PAGES = 200


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def poll_orders() -> int:
    """Orders taken in (known ones are re-checked and change nothing). 0 when Shopify is not
    connected. Raises on a Shopify failure, leaving the watermark for the next poll."""
    connection = await current_connection()
    if connection is None:
        return 0
    # Everything updated before this moment will have been read; clock skew is inside the overlap.
    started = datetime.now(UTC)
    since = connection.orders_synced_until
    from_moment = (since - OVERLAP) if since else started - FIRST_LOOK_BACK
    search = f"updated_at:>='{_iso(from_moment)}'"
    if since is None:
        # The first poll after connecting also takes every order still open, however old: Shopify
        # has its units committed, and until Branchline reserves them too a counter could sell them.
        search = f"status:open OR {search}"
    taken = 0
    async with await client_for(connection) as client:
        after = None
        for _ in range(MAX_PAGES):
            data = await client.query(documents.ORDERS_UPDATED, {"query": search, "after": after})
            page = data["orders"]
            for node in page["nodes"]:
                # One order per call: a whole page of orders with their lines and fulfillment
                # orders would cost more than Shopify allows in one query.
                full = (await client.query(documents.ORDER, {"id": node["id"]})).get("order")
                if full is None:  # deleted meanwhile
                    continue
                incoming, placement = order_from_graphql(full)
                await orders_in.take_in(incoming, placement, source="poll")
                # A fulfillment whose webhook never came is taken in the same way, after the order.
                await recover_fulfillments(client, full)
                await recover_refunds(client, full)  # and a refund's, after the fulfillments it returns
                taken += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    await ShopifyConnection.filter(id=connection.id).update(orders_synced_until=started)
    return taken
