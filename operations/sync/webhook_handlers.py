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
from operations.kernel import SYSTEM, ErrorCode, OperationError, record_audit, transaction

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


async def on_product_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """Keep the names, SKUs, barcodes and prices of variants Branchline already holds in step with
    Shopify. Variants Branchline does not hold yet are left for the next import, which brings them
    in with their stock. A SKU or barcode another variant holds is not taken (the unique catalog
    keys must hold): that field keeps its Branchline value and the clash is logged, as the import does."""
    variants = payload.get("variants")
    if not isinstance(variants, list):
        raise _malformed(f"{topic} without a variants list", "variants")
    product_gid = _gid("Product", payload)
    title = (payload.get("title") or "").strip()[:255]
    async with transaction():
        if product_gid and title:
            await Product.filter(shopify_product_id=product_gid).exclude(title=title).update(title=title)
        for entry in variants:
            if not isinstance(entry, dict):
                raise _malformed(f"{topic}: a variant is not an object", "variants")
            gid = _gid("ProductVariant", entry)
            if gid is None:
                continue
            variant = await Variant.get_or_none(shopify_variant_id=gid)
            if variant is None:
                continue  # not imported yet: the next import brings it in, with its stock
            await _update_variant(variant, entry)


async def _update_variant(variant: Variant, entry: dict) -> None:
    number = variant.shopify_variant_id.rsplit("/", 1)[-1]
    wanted: dict = {}
    title = (entry.get("title") or "").strip()
    wanted["title"] = "" if title == "Default Title" else title[:255]
    sku = ((entry.get("sku") or "").strip() or f"SHOPIFY-{number}")[:64]
    barcode = (entry.get("barcode") or "").strip()[:64] or None
    price = _price(entry.get("price"))
    if price is not None:
        wanted["price"] = price
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
    changed = {k: v for k, v in wanted.items() if getattr(variant, k) != v}
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
