"""What Shopify must learn of a catalog edit or a customer made here, written in the change's own transaction.

One outbox row per edit of a Shopify-linked product (topic `shopify.catalog_edit`). It names what
changed, not the new values: the sync reads the product's current values when it sends, so a retry
after an outage, or two edits queued before one send, never put an older value back on Shopify.
Only the fields Shopify also holds travel (titles, price, compare-at price, SKU, barcode); tax rate,
PCT code and cost are Branchline's own (docs/architecture.md, Shopify sync).
"""

from datetime import UTC, datetime
from uuid import uuid4

import orjson

from operations.kernel import Transaction, db_time, fetch

TOPIC = "shopify.catalog_edit"
CUSTOMER_TOPIC = "shopify.customer_create"
PRODUCT_FIELDS = frozenset({"title"})
VARIANT_FIELDS = frozenset({"title", "price", "compare_at_price", "sku", "barcode"})


async def queue_catalog_edit(
    tx: Transaction,
    product_id: int,
    *,
    product_fields: set[str] = frozenset(),
    variant_ids: list[int] = (),
    variant_fields: set[str] = frozenset(),
) -> bool:
    """Queue one edit for Shopify. Fields Shopify does not hold are dropped; nothing left, nothing
    queued (False). The caller knows the product is linked to Shopify."""
    product_fields = set(product_fields) & PRODUCT_FIELDS
    variant_fields = set(variant_fields) & VARIANT_FIELDS if variant_ids else set()
    if not product_fields and not variant_fields:
        return False
    payload = {
        "productId": product_id,
        "productFields": sorted(product_fields),
        "variantIds": sorted(set(variant_ids)) if variant_fields else [],
        "variantFields": sorted(variant_fields),
    }
    await fetch(
        tx.conn,
        "INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)",
        [TOPIC, f"catalog-edit:{uuid4().hex}", orjson.dumps(payload).decode(), db_time(tx.conn, datetime.now(UTC))],
    )
    return True


async def queue_customer_create(tx: Transaction, customer_id: int) -> bool:
    """A customer made at the counter, for Shopify (`customerCreate`, operations/sync/shop_writes.py), when a
    shop is connected; otherwise nothing is queued (False) and a later import links the customer by phone.
    The worker looks the customer up on Shopify first and links one that has the phone or email already,
    so a customer is never made twice there; an imported customer already has its Shopify id and is
    never queued."""
    connected = await fetch(tx.conn, "SELECT 1 AS one FROM shopify_connection WHERE status = 'connected' LIMIT 1")
    if not connected:
        return False
    await fetch(
        tx.conn,
        "INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)",
        [
            CUSTOMER_TOPIC,
            f"customer-create:{customer_id}",
            orjson.dumps({"customerId": customer_id}).decode(),
            db_time(tx.conn, datetime.now(UTC)),
        ],
    )
    return True
