"""Telling Shopify about catalog edits and customers made in Branchline: the shop-writes outbox worker.

Rows are written in the transaction of the change (operations/directory/catalog_outbox.py):

- `shopify.catalog_edit` `{productId, productFields, variantIds, variantFields}` → `productVariantsBulkUpdate`
  (price, compare-at price, SKU through the inventory item, barcode, the variant's title as its option
  values) and `productUpdate` (the product's title);
- `shopify.customer_create` `{customerId}` → `customerCreate`, and the Shopify id kept on the customer.

A row names what changed, never the values: they are read from the database when the row is sent, so a
retry after an outage, or two edits queued before one send, never put an older value back on Shopify.

Neither mutation takes `@idempotent`, so every attempt reads Shopify first and sends only what still
differs (an edit Shopify already holds is finished as `already_there`); a customer is looked up by phone
and email before it is created, and one Shopify already has is linked, never made twice. A send whose fate
is unknown (a timeout, a 5xx after the request left) is therefore never repeated blindly: the client does
not resend it (`retry_ambiguous=False`), the row backs off, and the next attempt's read tells whether it
went through. That is what makes each edit land once however often Shopify fails in between.

Claiming, leases, backoff and parking are the queues' own (operations/sync/queue.py), exactly as for the
order actions (operations/sync/order_actions.py, whose reasoning applies here unchanged: a token per
claim, kept in `outbox.batch`, a lease renewed right before each row is carried out, every outcome
recorded only where the claim still holds the row). This queue's scope is its two topics: the inventory
push and the order actions scope theirs by topic too, so no worker ever claims another's rows. Lease,
attempts and backoff are the inventory push's settings (operations/kernel/settings.py PushSettings).

Two rows of the same product claimed by two workers at once could both send the same values (one more
apply of identical values, nothing wrong on Shopify); one claim runs its rows in order, so the second
row of a product in the same round finds nothing left to send.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from models.catalog import Product, Variant
from models.customers import Customer
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC
from operations.kernel import current_settings, fetch, read_time, transaction
from operations.sync import push as shopify_push
from operations.sync import queue
from operations.sync.order_calls import NotYet, Refused
from shopify import documents
from shopify.client import ShopifyClient, payload
from shopify.errors import ShopifyGraphQLError, ShopifyUserErrors

log = logging.getLogger(__name__)

TOPICS = (CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC)
QUEUE = queue.Queue("outbox", ("pending",), "pending", "batch", "topic IN (?, ?)", TOPICS)
Row = queue.Claimed  # a claimed row (operations/sync/queue.py)
_TRANSIENT = (NotYet, *shopify_push.TRANSIENT_ERRORS)
_TAKEN = "has already been taken"  # customerCreate's message for a phone or email another customer has


# -- claiming and running -------------------------------------------------------------------------


async def _claim(limit: int, lease_seconds: float) -> list[Row]:
    return await queue.claim_outbox(QUEUE, limit, lease_seconds)


async def _renew(row: Row, lease_seconds: float) -> bool:
    return await queue.renew_claim(QUEUE, row, lease_seconds)


async def push_shop_writes(limit: int = 100) -> int:
    """One round: claim up to `limit` due rows and carry them out in the order they were written. Returns
    the rows claimed; 0 without a connected shop (the rows wait)."""
    client = await shopify_push.shopify_client()
    if client is None:
        return 0
    lease_seconds = current_settings().push.lease_seconds
    rows = await _claim(limit, lease_seconds)
    for row in rows:
        if await _renew(row, lease_seconds):
            await _run(client, row)
    return len(rows)


async def drain_shop_writes(max_seconds: float = 30.0) -> int:
    """Carry out rows until none is pending (waiting out back-offs) or time runs out; returns rows claimed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    claimed = 0
    while loop.time() < deadline:
        n = await push_shop_writes()
        claimed += n
        if n:
            continue
        wait = await queue.next_due(Tortoise.get_connection("default"), QUEUE)
        if wait is None or await shopify_push.shopify_client() is None:
            break
        await asyncio.sleep(min(max(wait, 0.01), max(deadline - loop.time(), 0)))
    return claimed


async def _run(client: ShopifyClient, row: Row) -> None:
    handler = _catalog_edit if row.topic == CATALOG_EDIT_TOPIC else _customer_create
    try:
        outcome = await handler(client, row.payload)
    except (Refused, ShopifyUserErrors, ShopifyGraphQLError) as error:
        await _finish(row, "parked", str(error), outcome=None)
    except _TRANSIENT as error:
        await _back_off(row, f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug: keep the row, count the attempt, park eventually
        log.exception("shop write %s failed unexpectedly", row.key)
        await _back_off(row, f"{type(error).__name__}: {error}")
    else:
        await _finish(row, "done", None, outcome=outcome)


async def _finish(row: Row, status: str, error: str | None, *, outcome: str | None) -> None:
    if status == "parked":
        log.error("shop write %s parked: %s", row.key, error)
    await queue.settle(
        QUEUE, row.id, row.token, row.attempts, parked_by=error if status == "parked" else None, outcome=outcome
    )


async def _back_off(row: Row, error: str) -> None:
    push = current_settings().push
    parked = await queue.retry_later(
        QUEUE,
        row.id,
        row.token,
        row.attempts,
        error,
        max_attempts=push.max_attempts,
        base=push.backoff_base,
        cap=push.backoff_cap,
    )
    if parked:
        log.error("shop write %s parked after %d attempts: %s", row.key, row.attempts + 1, error)
    else:
        log.warning("shop write %s failed (attempt %d), retrying later: %s", row.key, row.attempts + 1, error)


# -- a catalog edit -------------------------------------------------------------------------------


def _money(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _shopify_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _variant_input(variant: Variant, theirs: dict, fields: set[str], option_names: list[str]) -> dict:
    """What of `fields` Shopify holds differently from Branchline now: the ProductVariantsBulkInput, or {}."""
    entry: dict = {}
    if "price" in fields and _money(theirs.get("price")) != variant.price:
        entry["price"] = str(variant.price)
    if "compare_at_price" in fields and _money(theirs.get("compareAtPrice")) != variant.compare_at_price:
        entry["compareAtPrice"] = str(variant.compare_at_price) if variant.compare_at_price is not None else None
    if "sku" in fields and (theirs.get("sku") or "") != variant.sku:
        entry["inventoryItem"] = {"sku": variant.sku}
    if "barcode" in fields and (theirs.get("barcode") or None) != variant.barcode:
        entry["barcode"] = variant.barcode or ""
    if "title" in fields:
        # Shopify has no variant title of its own: it is the option values joined by " / ". Branchline's
        # title is taken as those values, in the product's option order; a title with another number of
        # parts cannot be said in Shopify's terms and is left alone (logged).
        parts = [p.strip() for p in (variant.title or "").split(" / ")]
        current = [o["value"] for o in theirs.get("selectedOptions") or []]
        if len(parts) == len(option_names) and all(parts) and parts != current:
            entry["optionValues"] = [{"optionName": n, "name": v} for n, v in zip(option_names, parts, strict=True)]
        elif len(parts) != len(option_names):
            log.warning(
                "variant %s: title %r does not fit Shopify's options %s", variant.id, variant.title, option_names
            )
    return entry


async def _catalog_edit(client: ShopifyClient, p: dict) -> str:
    product = await Product.get_or_none(id=p["productId"])
    if product is None:
        raise Refused(f"no product {p['productId']}")
    if not product.shopify_product_id:
        return "not_on_shopify"
    variant_fields = set(p.get("variantFields") or ())
    variants = [
        v for v in await Variant.filter(id__in=p.get("variantIds") or [], product_id=product.id) if v.shopify_variant_id
    ]
    state = await client.query(
        documents.CATALOG_STATE,
        {"product": product.shopify_product_id, "variants": [v.shopify_variant_id for v in variants]},
    )
    theirs_product = (state or {}).get("product")
    if theirs_product is None:
        raise Refused(f"Shopify has no product {product.shopify_product_id}")
    theirs = {n["id"]: n for n in state.get("nodes") or [] if n}
    option_names = [o["name"] for o in sorted(theirs_product.get("options") or [], key=lambda o: o["position"])]
    inputs = []
    for v in variants:
        if v.shopify_variant_id not in theirs:
            raise Refused(f"Shopify has no variant {v.shopify_variant_id} (SKU {v.sku})")
        entry = _variant_input(v, theirs[v.shopify_variant_id], variant_fields, option_names)
        if entry:
            inputs.append({"id": v.shopify_variant_id, **entry})
    sent = False
    if inputs:
        data = await client.mutate(
            documents.UPDATE_VARIANTS,
            {"product": product.shopify_product_id, "variants": inputs},
            retry_ambiguous=False,
        )
        result = payload(data, "productVariantsBulkUpdate")
        for node in result.get("productVariants") or []:
            await _stamp(Variant, {"shopify_variant_id": node["id"]}, node.get("updatedAt"))
        sent = True
    if "title" in (p.get("productFields") or ()) and theirs_product.get("title") != product.title:
        variables = {"product": {"id": product.shopify_product_id, "title": product.title}}
        data = await client.mutate(documents.UPDATE_PRODUCT, variables, retry_ambiguous=False)
        result = payload(data, "productUpdate")
        await _stamp(Product, {"id": product.id}, (result.get("product") or {}).get("updatedAt"))
        sent = True
    return "updated" if sent else "already_there"


async def _stamp(model, where: dict, updated_at) -> None:
    """Keep Shopify's `updatedAt` from its answer to our edit: the products/update webhook our edit causes
    carries the same time, and is then known for the echo it is (operations/sync/webhook_handlers.py)."""
    at = _shopify_time(updated_at)
    if at is None:
        return
    async with transaction():
        found = await model.filter(**where).first()
        if found is not None and (found.shopify_updated_at is None or found.shopify_updated_at < at):
            await model.filter(id=found.id).update(shopify_updated_at=at)


# -- a customer made here -------------------------------------------------------------------------


async def _on_shopify(client: ShopifyClient, customer: Customer) -> str | None:
    """The Shopify customer with this customer's phone (or, without a match, email), if there is one."""
    terms = [f'phone:"{customer.phone}"'] if customer.phone else []
    terms += [f'email:"{customer.email}"'] if customer.email else []
    if not terms:
        return None
    data = await client.query(documents.FIND_CUSTOMERS, {"query": " OR ".join(terms)})
    nodes = ((data or {}).get("customers") or {}).get("nodes") or []
    # Shopify's search is looser than equality: only an exact phone, then an exact email, is the same person.
    for wanted, same in (
        (customer.phone, lambda n: n.get("phone") == customer.phone),
        (customer.email, lambda n: (n.get("email") or "").lower() == (customer.email or "").lower()),
    ):
        if wanted:
            match = next((n for n in nodes if same(n)), None)
            if match is not None:
                return match["id"]
    return None


async def _customer_create(client: ShopifyClient, p: dict) -> str:
    customer = await Customer.get_or_none(id=p["customerId"])
    if customer is None:
        return "gone"
    if customer.shopify_customer_id:
        return "already_linked"  # imported, or linked by an import since (operations/sync/catalog_upsert.py)
    found = await _on_shopify(client, customer)
    if found is not None:
        return await _link(customer, found, "linked")
    variables = {
        "input": {
            "firstName": customer.first_name or None,
            "lastName": customer.last_name or None,
            "email": customer.email,
            "phone": customer.phone,
        }
    }
    data = await client.mutate(documents.CREATE_CUSTOMER, variables, retry_ambiguous=False)
    try:
        result = payload(data, "customerCreate")
    except ShopifyUserErrors as error:
        if any(_TAKEN in e.message for e in error.errors):
            # Someone has the phone or email on Shopify that the search above did not show (made since, or
            # not searchable yet): link it once it is found, never make a second one.
            found = await _on_shopify(client, customer)
            if found is not None:
                return await _link(customer, found, "linked")
            raise NotYet(f"Shopify says {error}, but does not find that customer yet") from None
        raise Refused(f"Shopify refused customer {customer.id}: {error}") from None
    return await _link(customer, result["customer"]["id"], "created")


async def _link(customer: Customer, shopify_id: str, outcome: str) -> str:
    try:
        async with transaction():
            await Customer.filter(id=customer.id, shopify_customer_id__isnull=True).update(
                shopify_customer_id=shopify_id
            )
    except IntegrityError:
        other = await Customer.get_or_none(shopify_customer_id=shopify_id)
        raise Refused(
            f"Shopify customer {shopify_id} is already linked to customer {other.id if other else '?'}"
        ) from None
    return outcome


# -- for syncStatus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopWriteFigures:
    pending: int
    parked: int
    last_done_at: datetime | None


async def shop_write_figures(topic: str) -> ShopWriteFigures:
    conn = Tortoise.get_connection("default")
    counts = await fetch(
        conn,
        "SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'parked') AND topic = ? GROUP BY status",
        [topic],
    )
    by_status = {r["status"]: r["n"] for r in counts}
    last = await fetch(conn, "SELECT MAX(done_at) AS at FROM outbox WHERE status = 'done' AND topic = ?", [topic])
    return ShopWriteFigures(
        by_status.get("pending", 0), by_status.get("parked", 0), read_time(last[0]["at"]) if last else None
    )


async def parked_shop_writes(topic: str, limit: int = 20, after_id: int | None = None) -> list[dict]:
    """The oldest parked rows of `topic` first (after the row `after_id`), at most 101 (a page and one more)."""
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, key, last_error, attempts FROM outbox WHERE status = 'parked' AND topic = ? AND id > ?"
        " ORDER BY id LIMIT ?",
        [topic, after_id or 0, max(0, min(limit, 101))],
    )
    return [dict(r) for r in rows]
