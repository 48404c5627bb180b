"""Catalog edits and counter-made customers reaching the simulated Shopify once (operations/sync/shop_writes.py),
through outages and answers lost on the way back; parked rows in syncStatus and retried from there; and
the opening average cost the import takes from Shopify's unit cost."""

import asyncio
from decimal import Decimal

from models.catalog import Product, Variant
from models.customers import Customer
from models.outbox import OutboxRow, OutboxStatus
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC, queue_catalog_edit
from operations.kernel import transaction
from operations.kernel.access import SYSTEM
from operations.purchasing import stock_valuation
from operations.sync import catalog_import as shopify_import
from operations.sync import push as shopify_push
from operations.sync import shop_writes
from operations.sync.push_claim import TOPIC as PUSH_TOPIC
from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import key
from tests.sync.conftest import adjust, connected, mapped_levels  # noqa: F401  (fixtures)

STATUS = """
query {
  syncStatus {
    needsAttention
    catalogEdits { pending parked lastDoneAt parkedRows(first: 5) { edges { node { key lastError attempts } } } }
    customers { pending parked }
  }
}
"""
RETRY_PARKED = """
mutation($key: String!) {
  retryParkedSync(input: {idempotencyKey: $key}) {
    retried retriedCatalogEdits retriedCustomers status { catalogEdits { pending parked } } errors { code }
  }
}
"""
UPDATE_VARIANT = """
mutation($input: UpdateVariantInput!) {
  updateVariant(input: $input) { variant { id } errors { code field message } }
}
"""
CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id phone } errors { code field message } }
}
"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


async def edit_price(variant: Variant, price: str) -> None:
    """What updateVariant does: the new price and the edit's outbox row, in one transaction."""
    async with transaction() as tx:
        await Variant.filter(id=variant.id).update(price=Decimal(price))
        assert await queue_catalog_edit(tx, variant.product_id, variant_ids=[variant.id], variant_fields={"price"})


async def due_now(topic: str) -> None:
    """Skip the backoff: no test waits it out."""
    await OutboxRow.filter(topic=topic, status=OutboxStatus.PENDING).update(next_attempt_at=None)


def applied(shop, mutation: str, gid: str) -> list[dict]:
    return [a for a in shop.applied if a["mutation"] == mutation and a["id"] == gid]


async def until(condition, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def test_a_price_edit_reaches_shopify_exactly_once_through_an_outage_and_a_lost_answer(
    connected,  # noqa: F811
    api,  # noqa: F811
    change_settings,
):
    change_settings(push={"client_attempts": 1})
    shop = connected.shop
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    branch, stocked, _ = (await mapped_levels())[0]
    await adjust(branch.id, stocked.id, +2)  # an inventory delta waits beside the edit

    async def edit(price: str) -> None:  # through the API: updateVariant writes the outbox row
        variables = {"input": {"variantId": gid("Variant", variant.id), "price": price, "idempotencyKey": key()}}
        assert (await api(UPDATE_VARIANT, variables))["updateVariant"]["errors"] == []

    await edit("4321.00")

    # Each worker claims only its own topic.
    assert (await shopify_push.push_due()).pushed == 1
    assert (await OutboxRow.get(topic=CATALOG_EDIT_TOPIC)).status == OutboxStatus.PENDING
    assert await shop_writes.push_shop_writes() == 1
    assert await OutboxRow.filter(topic=PUSH_TOPIC).values_list("status", flat=True) == [OutboxStatus.DONE]
    shop.faults.reset()

    await edit("4500.00")
    shop.faults.fail_next(2, status=503)  # Shopify down for two attempts
    for _ in range(2):
        assert await shop_writes.push_shop_writes() == 1
        await due_now(CATALOG_EDIT_TOPIC)
    shop.faults.delays.extend([0.0, 1.5])  # the read answers; the update is applied, its answer comes too late
    assert await shop_writes.push_shop_writes() == 1
    row = await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).order_by("-id").first()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 3) and "ShopifyUnavailable" in row.last_error
    await due_now(CATALOG_EDIT_TOPIC)
    assert await shop_writes.push_shop_writes() == 1  # reads Shopify first: already there, nothing sent again

    row = await OutboxRow.get(id=row.id)
    assert (row.status, row.outcome) == (OutboxStatus.DONE, "already_there")
    prices = [a["changes"]["price"] for a in applied(shop, "productVariantsBulkUpdate", variant.shopify_variant_id)]
    assert prices == ["4321.00", "4500.00"]  # one apply per edit
    assert shop.variants[int(variant.shopify_variant_id.rsplit("/", 1)[1])].price == "4500.00"
    stamped = await Variant.get(id=variant.id)
    assert stamped.shopify_updated_at is not None  # Shopify's time of our edit: its echo is known as one


async def test_an_edit_of_several_fields_and_the_title_is_one_call_each_and_skips_what_shopify_has(connected):  # noqa: F811
    shop = connected.shop
    product = await Product.filter(shopify_product_id__isnull=False).order_by("id").first()
    first, second = await Variant.filter(product_id=product.id).order_by("id").limit(2)
    async with transaction() as tx:
        await Product.filter(id=product.id).update(title="Eid Lawn Suit")
        await Variant.filter(id=first.id).update(
            compare_at_price=Decimal("9999.00"), sku="EID-001", barcode="8964000000017"
        )
        await queue_catalog_edit(
            tx,
            product.id,
            product_fields={"title"},
            variant_ids=[first.id, second.id],
            variant_fields={"compare_at_price", "sku", "barcode", "price", "tax_rate"},
        )
    assert await shop_writes.push_shop_writes() == 1
    assert (await OutboxRow.get(topic=CATALOG_EDIT_TOPIC)).outcome == "updated"
    theirs = shop.variants[int(first.shopify_variant_id.rsplit("/", 1)[1])]
    assert (theirs.compare_at_price, theirs.sku, theirs.barcode) == ("9999.00", "EID-001", "8964000000017")
    assert shop.items[theirs.inventory_item_id].sku == "EID-001"
    [change] = applied(shop, "productVariantsBulkUpdate", first.shopify_variant_id)
    assert set(change["changes"]) == {"compare_at_price", "sku", "barcode"}  # the price was already Shopify's
    assert not applied(shop, "productVariantsBulkUpdate", second.shopify_variant_id)  # nothing differed
    assert shop.products[int(product.shopify_product_id.rsplit("/", 1)[1])].title == "Eid Lawn Suit"
    assert len([a for a in shop.applied if a["mutation"] == "productUpdate"]) == 1


async def test_a_refused_edit_parks_shows_in_sync_status_and_is_retried_from_there(connected, api, change_settings):  # noqa: F811
    change_settings(push={"max_attempts": 2, "client_attempts": 1})
    shop = connected.shop
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    await edit_price(variant, "777.00")
    shop.faults.fail_next(2, status=503)
    assert await shop_writes.push_shop_writes() == 1
    await due_now(CATALOG_EDIT_TOPIC)
    assert await shop_writes.push_shop_writes() == 1
    assert await shop_writes.push_shop_writes() == 0  # parked: waits for a person

    status = (await api(STATUS))["syncStatus"]
    edits = status["catalogEdits"]
    assert (edits["pending"], edits["parked"], status["needsAttention"]) == (0, 1, 1)
    [node] = [e["node"] for e in edits["parkedRows"]["edges"]]
    assert node["key"].startswith("catalog-edit:") and node["attempts"] == 2 and "503" in node["lastError"]

    retried = (await api(RETRY_PARKED, {"key": key("retry")}))["retryParkedSync"]
    assert (retried["retried"], retried["retriedCatalogEdits"], retried["retriedCustomers"]) == (1, 1, 0)
    assert retried["status"]["catalogEdits"] == {"pending": 1, "parked": 0}
    assert await shop_writes.push_shop_writes() == 1
    assert len(applied(shop, "productVariantsBulkUpdate", variant.shopify_variant_id)) == 1
    assert (await api(STATUS))["syncStatus"]["catalogEdits"]["lastDoneAt"] is not None


async def test_an_edit_shopify_refuses_outright_is_parked_with_its_reason(connected):  # noqa: F811
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    gone = connected.shop.variants.pop(int(variant.shopify_variant_id.rsplit("/", 1)[1]))  # deleted in Shopify
    connected.shop.products[gone.product_id].variant_ids.remove(gone.id)
    await edit_price(variant, "10.00")
    assert await shop_writes.push_shop_writes() == 1
    row = await OutboxRow.get(topic=CATALOG_EDIT_TOPIC)
    assert row.status == OutboxStatus.PARKED and "has no variant" in row.last_error


async def test_unit_cost_is_the_opening_average_cost_and_a_reimport_keeps_branchlines(connected):  # noqa: F811
    shop = connected.shop
    variants = await Variant.filter(shopify_inventory_item_id__isnull=False).order_by("id")
    for v in variants:
        item = shop.items[int(v.shopify_inventory_item_id.rsplit("/", 1)[1])]
        assert v.average_cost == Decimal(item.unit_cost), v.sku
    branch, variant, _ = (await mapped_levels())[0]
    worth = await stock_valuation(SYSTEM, branch.id)
    assert worth.value > 0 and worth.uncosted_count == 0

    await Variant.filter(id=variant.id).update(average_cost=Decimal("123.4567"))  # goods received since
    job, _ = await shopify_import.start_import(SYSTEM)
    assert (await shopify_import.run_job(job.id)).status.value == "completed"
    assert (await Variant.get(id=variant.id)).average_cost == Decimal("123.4567")


async def test_a_counter_customer_reaches_shopify_once_and_gets_its_shopify_id(connected, api, change_settings):  # noqa: F811
    change_settings(push={"client_attempts": 1})
    shop = connected.shop
    imported = await Customer.filter(shopify_customer_id__isnull=False).count()
    assert imported and not await OutboxRow.filter(topic=CUSTOMER_CREATE_TOPIC).exists()  # never re-created

    made = await api(
        CREATE_CUSTOMER, {"input": {"firstName": "Sana", "phone": "0321-7654321", "idempotencyKey": key()}}
    )
    assert made["createCustomer"]["errors"] == []
    shop.faults.fail_next(1, status=502)
    assert await shop_writes.push_shop_writes() == 1
    await due_now(CUSTOMER_CREATE_TOPIC)
    shop.faults.delays.extend([0.0, 1.5])  # looked up, created, the answer lost
    assert await shop_writes.push_shop_writes() == 1
    await due_now(CUSTOMER_CREATE_TOPIC)
    assert await shop_writes.push_shop_writes() == 1  # found by phone this time: linked, not made again

    customer = await Customer.get(phone="+923217654321")
    [created] = [a for a in shop.applied if a["mutation"] == "customerCreate"]
    assert customer.shopify_customer_id == created["id"]
    assert [c.phone for c in shop.customers.values()].count("+923217654321") == 1
    row = await OutboxRow.get(topic=CUSTOMER_CREATE_TOPIC)
    assert (row.status, row.outcome) == (OutboxStatus.DONE, "linked")
    assert (await api(STATUS))["syncStatus"]["customers"] == {"pending": 0, "parked": 0}


async def test_a_phone_shopify_already_has_is_linked_never_duplicated(connected, api):  # noqa: F811
    shop = connected.shop
    theirs = shop.add_customer("Bilal", "Ahmed", email="bilal@example.pk", phone="+923331112222")  # since import
    other = shop.add_customer("Hina", "Raza", email="hina@example.pk", phone="+923339998888")
    for phone, email in (("0333 1112222", None), ("03001230000", "HINA@example.pk")):
        variables = {"input": {"firstName": "X", "phone": phone, "email": email, "idempotencyKey": key()}}
        assert (await api(CREATE_CUSTOMER, variables))["createCustomer"]["errors"] == []
    assert await shop_writes.push_shop_writes() == 2

    assert (await Customer.get(phone="+923331112222")).shopify_customer_id == theirs.gid
    assert (await Customer.get(phone="+923001230000")).shopify_customer_id == other.gid  # by email
    assert not [a for a in shop.applied if a["mutation"] == "customerCreate"]
    assert set(await OutboxRow.filter(topic=CUSTOMER_CREATE_TOPIC).values_list("outcome", flat=True)) == {"linked"}


async def test_without_a_connected_shop_no_customer_is_queued(db, api):  # noqa: F811
    made = await api(CREATE_CUSTOMER, {"input": {"firstName": "Zara", "phone": "03009876543", "idempotencyKey": key()}})
    assert made["createCustomer"]["errors"] == []
    assert not await OutboxRow.filter(topic=CUSTOMER_CREATE_TOPIC).exists()


async def test_two_workers_at_once_send_each_edit_once(connected):  # noqa: F811
    shop = connected.shop
    products = await Product.filter(shopify_product_id__isnull=False).order_by("id").limit(4)
    variants = [await Variant.filter(product_id=p.id).order_by("id").first() for p in products]
    for n, variant in enumerate(variants):
        await edit_price(variant, f"{1000 + n}.00")
    claimed = await asyncio.gather(shop_writes.push_shop_writes(), shop_writes.push_shop_writes())
    assert sum(claimed) == len(variants)
    for variant in variants:
        assert len(applied(shop, "productVariantsBulkUpdate", variant.shopify_variant_id)) == 1
    assert set(await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).values_list("status", flat=True)) == {OutboxStatus.DONE}


async def test_a_local_edit_and_a_shopify_webhook_at_once_leave_the_local_edit_everywhere(connected):  # noqa: F811
    """Whichever commits first, the edit made here wins: the webhook either sees it pending and leaves the
    price alone, or is overwritten by it; then the edit reaches Shopify."""
    from operations.sync.webhook_handlers import on_product_webhook

    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    product = await Product.get(id=variant.product_id)
    for n in range(4):
        ours, theirs = f"{2000 + n}.00", f"{9000 + n}.00"
        body = {
            "admin_graphql_api_id": product.shopify_product_id,
            "title": product.title,
            "updated_at": f"2099-01-01T00:00:0{n}+05:00",  # newer than anything Branchline knows
            "variants": [{"admin_graphql_api_id": variant.shopify_variant_id, "price": theirs, "sku": variant.sku}],
        }
        await asyncio.gather(edit_price(variant, ours), on_product_webhook("products/update", body))
        assert (await Variant.get(id=variant.id)).price == Decimal(ours)
        assert await shop_writes.push_shop_writes() == 1
        assert connected.shop.variants[int(variant.shopify_variant_id.rsplit("/", 1)[1])].price == ours


async def test_a_variant_title_travels_as_its_option_values(connected):  # noqa: F811
    shop = connected.shop
    variant = await Variant.filter(shopify_variant_id__isnull=False, title__contains=" / ").order_by("id").first()
    theirs = shop.variants[int(variant.shopify_variant_id.rsplit("/", 1)[1])]
    _, size = variant.title.split(" / ")
    for title in (f"Teal / {size}", "Teal"):  # the second cannot be said in Shopify's two options: left alone
        async with transaction() as tx:
            await Variant.filter(id=variant.id).update(title=title)
            await queue_catalog_edit(tx, variant.product_id, variant_ids=[variant.id], variant_fields={"title"})
        assert await shop_writes.push_shop_writes() == 1
        assert theirs.title == f"Teal / {size}" and list(theirs.options.values()) == ["Teal", size]
    outcomes = await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).order_by("id").values_list("outcome", flat=True)
    assert outcomes == ["updated", "already_there"]
