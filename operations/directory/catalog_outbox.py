"""What Shopify must learn of a catalog edit made here, written in the edit's own transaction.

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
