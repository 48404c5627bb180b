"""The inbox's own handlers: the shop uninstalled us, a location changed, a product changed, a bulk
operation finished. Orders, fulfillments, refunds and inventory levels have their own modules.

Every handler has the inbox's signature, `async def handler(topic, payload, *, webhook_id=None)`,
runs as SYSTEM, is idempotent (it writes the state the payload describes, so a replay changes
nothing), and raises `OperationError` for a payload it cannot act on (the row becomes an exception).
"""

import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from models.branches import Branch
from models.catalog import Product, Variant
from models.shopify import ConnectionStatus, ImportJob, ImportStatus, ShopifyConnection, ShopifyLocation
from operations.directory import CATALOG_EDIT_TOPIC
from operations.kernel import SYSTEM, ErrorCode, OperationError, fetch, json_value, record_audit, transaction

log = logging.getLogger(__name__)

_ADDRESS_FIELDS = {
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "province": "province",
    "country": "country",
    "country_code": "countryCode",
    "zip": "zip",
    "phone": "phone",
}


def _gid(kind: str, payload: dict, field: str = "id") -> str | None:
    own = payload.get("admin_graphql_api_id") if field == "id" else None
    if isinstance(own, str) and own.startswith(f"gid://shopify/{kind}/"):
        return own
    value = payload.get(field)
    if value is None or value == "":
        return None
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _malformed(message: str, field: str | None = None) -> OperationError:
    return OperationError.single(ErrorCode.MALFORMED_WEBHOOK, message, field)


async def on_app_uninstalled(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """Shopify revoked our tokens: mark the connection disconnected so nothing more is pushed (the
    push worker only talks to a CONNECTED shop) and forget the dead tokens. Pending outbox rows
    stay pending and go out if the shop installs the app again."""
    domain = payload.get("myshopify_domain") or payload.get("domain")
    async with transaction():
        connection = await ShopifyConnection.filter(status=ConnectionStatus.CONNECTED).first()
        if connection is None:
            return  # already disconnected: a replay, or the owner disconnected first
        if domain and domain != connection.shop_domain:
            raise _malformed(f"app/uninstalled for {domain}, but Branchline is connected to {connection.shop_domain}")
        connection.status = ConnectionStatus.DISCONNECTED
        connection.disconnected_at = datetime.now(UTC)
        connection.access_token_encrypted = ""
        connection.client_secret_encrypted = ""
        connection.webhook_subscriptions = {}  # Shopify deletes an uninstalled app's subscriptions itself
        await connection.save()
        await record_audit(
            SYSTEM, "shopify.uninstalled", target=("shop", connection.shop_domain), webhook_id=webhook_id
        )
    log.warning("Shopify app uninstalled from %s: connection marked disconnected", connection.shop_domain)


async def on_location_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """A location created or renamed (or deactivated) in Shopify: keep ShopifyLocation as Shopify
    has it. Which branch it is stays the owner's choice (mapLocation); a new location is not mapped."""
    gid = _gid("Location", payload)
    name = (payload.get("name") or "").strip()
    if not gid or not name:
        raise _malformed(f"{topic} without a location id or name", "id" if not gid else "name")
    address = {out: payload.get(key) for key, out in _ADDRESS_FIELDS.items() if payload.get(key) is not None}
    active = bool(payload.get("active", True))
    async with transaction():
        location = await ShopifyLocation.get_or_none(shopify_location_id=gid)
        if location is None:
            await ShopifyLocation.create(shopify_location_id=gid, name=name[:255], active=active, address=address)
            log.info("Shopify location %s (%s) added; map it to a branch to bring its stock in", gid, name)
            return
        if (location.name, location.active, location.address) == (name[:255], active, address):
            return
        location.name, location.active, location.address = name[:255], active, address
        await location.save(update_fields=["name", "active", "address", "updated_at"])
    branch = await Branch.get_or_none(shopify_location_id=gid)
    if branch is not None and not active:
        log.warning("Shopify location %s of branch %s was deactivated in Shopify", gid, branch.code)


def _price(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise _malformed(f"price {value!r} is not a number", "variants.price") from None


def _time(value) -> datetime | None:
    """A webhook's `updated_at` (2026-11-26T15:00:00+05:00) in UTC; None when missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _newer(sent_at: datetime | None, known: datetime | None) -> bool:
    """Whether Shopify's state at `sent_at` is newer than the one Branchline last knew (`known`).

    `known` is Shopify's own `updatedAt` from the answer to our last edit of the object, or from the last
    webhook taken in (operations/sync/shop_writes.py stamps it). The echo of our own edit carries exactly
    that time, and a delivery held back (Shopify does not deliver in order) an earlier one: neither is
    newer, so neither is applied — an echo would change nothing at best, and a late one would put an older
    value back over a newer edit. Equal times count as not newer: Shopify's times have whole seconds, and
    an edit in Shopify in the very second of ours is far rarer than the echo. A payload without a time
    is applied (Branchline cannot tell; the next webhook or edit sets it right)."""
    return sent_at is None or known is None or sent_at > known.astimezone(UTC)


async def _pending_edits(conn, product_id: int) -> tuple[set[str], dict[int, set[str]]]:
    """The fields of this product and its variants edited here and not yet on Shopify (pending catalog
    edits): Branchline's value there is the newer one and is on its way, so a webhook does not take
    them back (the edit's worker then sends the local value, which wins)."""
    rows = await fetch(conn, "SELECT payload FROM outbox WHERE topic = ? AND status = 'pending'", [CATALOG_EDIT_TOPIC])
    product_fields: set[str] = set()
    variant_fields: dict[int, set[str]] = {}
    for r in rows:
        p = json_value(r["payload"])
        if p.get("productId") != product_id:
            continue
        product_fields |= set(p.get("productFields") or ())
        for variant_id in p.get("variantIds") or ():
            variant_fields.setdefault(variant_id, set()).update(p.get("variantFields") or ())
    return product_fields, variant_fields


async def on_product_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """Keep the product's title and its variants' names, prices, compare-at prices, SKUs and barcodes as
    Shopify has them, when Shopify's change is newer than what Branchline knows (`_newer`) and not edited
    here meanwhile (`_pending_edits`). Tax rate, PCT code and cost are Branchline's own: a webhook never
    touches them (Shopify's payload does not even carry them).

    Variants Branchline does not hold yet are left for the next import, which brings them in with their
    stock at every location (a webhook has no levels). A SKU or barcode another variant holds is not taken
    (the unique catalog keys must hold): that field keeps its Branchline value and the clash is logged,
    as the import does."""
    variants = payload.get("variants")
    if not isinstance(variants, list):
        raise _malformed(f"{topic} without a variants list", "variants")
    product_gid = _gid("Product", payload)
    title = (payload.get("title") or "").strip()[:255]
    async with transaction() as tx:
        product = await Product.get_or_none(shopify_product_id=product_gid) if product_gid else None
        if product is not None:
            # Lock the product's rows before looking for pending edits: an edit here updates them in the
            # transaction that queues its outbox row, so it either committed before this (its row is seen
            # below) or waits for this to commit and then writes its own value over Shopify's (and sends it).
            # On SQLite this first write takes the database's write lock, to the same effect.
            await fetch(tx.conn, "UPDATE product SET id = id WHERE id = ?", [product.id])
            await fetch(tx.conn, "UPDATE variant SET id = id WHERE product_id = ?", [product.id])
        product_pending, variant_pending = await _pending_edits(tx.conn, product.id) if product else (set(), {})
        if product is not None:
            at = _time(payload.get("updated_at"))
            if _newer(at, product.shopify_updated_at):
                changed: dict = {"shopify_updated_at": at} if at else {}
                if title and title != product.title and "title" not in product_pending:
                    changed["title"] = title
                if changed:
                    await Product.filter(id=product.id).update(**changed)
        for entry in variants:
            if not isinstance(entry, dict):
                raise _malformed(f"{topic}: a variant is not an object", "variants")
            gid = _gid("ProductVariant", entry)
            if gid is None:
                continue
            variant = await Variant.get_or_none(shopify_variant_id=gid)
            if variant is None:
                continue  # not imported yet: the next import brings it in, with its stock
            at = _time(entry.get("updated_at"))
            if _newer(at, variant.shopify_updated_at):
                await _update_variant(variant, entry, at, variant_pending.get(variant.id, set()))


async def _update_variant(variant: Variant, entry: dict, at: datetime | None, pending: set[str]) -> None:
    number = variant.shopify_variant_id.rsplit("/", 1)[-1]
    wanted: dict = {}
    title = (entry.get("title") or "").strip()
    wanted["title"] = "" if title == "Default Title" else title[:255]
    sku = ((entry.get("sku") or "").strip() or f"SHOPIFY-{number}")[:64]
    barcode = (entry.get("barcode") or "").strip()[:64] or None
    price = _price(entry.get("price"))
    if price is not None:
        wanted["price"] = price
    if "compare_at_price" in entry:
        wanted["compare_at_price"] = _price(entry.get("compare_at_price"))
    if sku != variant.sku:
        if await Variant.filter(sku=sku).exclude(id=variant.id).exists():
            log.warning("variant %s: SKU %r is already used by another variant; kept %r", number, sku, variant.sku)
        else:
            wanted["sku"] = sku
    if barcode != variant.barcode:
        if barcode and await Variant.filter(barcode=barcode).exclude(id=variant.id).exists():
            log.warning("variant %s: barcode %r is already used by another variant; kept", number, barcode)
        else:
            wanted["barcode"] = barcode
    changed = {k: v for k, v in wanted.items() if k not in pending and getattr(variant, k) != v}
    if at is not None:
        changed["shopify_updated_at"] = at
    if changed:
        await Variant.filter(id=variant.id).update(**changed)


async def on_bulk_operation_finish(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """Acknowledged: the running import (and the drift check) poll their bulk operation, so the
    webhook only shortens nothing. It is logged against the import that started it, if any."""
    gid = payload.get("admin_graphql_api_id")
    if not isinstance(gid, str):
        raise _malformed("bulk_operations/finish without admin_graphql_api_id", "admin_graphql_api_id")
    running = await ImportJob.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).all()
    job = next((j for j in running if gid in (j.bulk_operations or {}).values()), None)
    log.info(
        "Shopify bulk operation %s finished (%s)%s",
        gid,
        payload.get("status"),
        f" for import {job.id}" if job else "",
    )
