"""products/update both ways, over real HTTP: an edit made in Shopify lands in Branchline (but never its tax
rate, PCT code or cost), and the echo of Branchline's own edit neither loops nor puts an older value back
over a newer local edit (operations/sync/webhook_handlers.py `_newer`, `_pending_edits`)."""

from decimal import Decimal

from models.catalog import Product, Variant
from models.inbox import InboxStatus
from operations.directory import queue_catalog_edit
from operations.kernel import transaction
from operations.sync import inbox as shopify_inbox
from operations.sync import shop_writes
from tests.webhooks.conftest import rows


async def delivered(sim_shop) -> None:
    await sim_shop.webhooks.drain(10)
    assert all(d.status == 200 for d in sim_shop.deliveries if not d.dropped)


async def edit_price(variant: Variant, price: str) -> None:
    async with transaction() as tx:
        await Variant.filter(id=variant.id).update(price=Decimal(price))
        await queue_catalog_edit(tx, variant.product_id, variant_ids=[variant.id], variant_fields={"price"})


def sim_variant(sim_shop, variant: Variant):
    return sim_shop.variants[int(variant.shopify_variant_id.rsplit("/", 1)[1])]


async def test_an_edit_made_in_shopify_lands_and_leaves_tax_pct_and_cost_alone(imported, sim_shop):
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    await Variant.filter(id=variant.id).update(
        tax_rate=Decimal("18.00"), pct_code="6204.4200", average_cost=Decimal("512.3400")
    )
    sim_shop.edit_variant(
        sim_variant(sim_shop, variant),
        title="Eid Lawn Suit",
        price="2590.00",
        compare_at_price="2990.00",
        sku="EID-7",
        barcode="8960000000007",
    )
    await delivered(sim_shop)
    await shopify_inbox.drain_inbox(5)
    [row] = await rows(topic="products/update")
    assert row.status == InboxStatus.DONE, row.last_error

    after = await Variant.get(id=variant.id)
    assert (after.price, after.compare_at_price, after.sku, after.barcode) == (
        Decimal("2590.00"),
        Decimal("2990.00"),
        "EID-7",
        "8960000000007",
    )
    assert (after.tax_rate, after.pct_code, after.average_cost) == (Decimal("18.00"), "6204.4200", Decimal("512.34"))
    assert after.shopify_updated_at is not None
    assert (await Product.get(id=variant.product_id)).title == "Eid Lawn Suit"


async def test_the_echo_of_our_edit_never_clobbers_a_newer_local_one_nor_loops(imported, sim_shop):
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    await edit_price(variant, "1000.00")
    assert await shop_writes.push_shop_writes() == 1  # Shopify takes it and fires products/update: our echo
    await edit_price(variant, "1200.00")  # a newer edit here, not sent yet
    await delivered(sim_shop)
    await shopify_inbox.drain_inbox(5)
    assert (await Variant.get(id=variant.id)).price == Decimal("1200.00")  # the echo did not put 1000 back

    sim_shop.edit_variant(sim_variant(sim_shop, variant), price="1500.00")  # the merchant, meanwhile
    await delivered(sim_shop)
    await shopify_inbox.drain_inbox(5)
    assert (await Variant.get(id=variant.id)).price == Decimal("1200.00")  # ours is pending: ours wins

    assert await shop_writes.push_shop_writes() == 1
    assert sim_variant(sim_shop, variant).price == "1200.00"
    await delivered(sim_shop)
    await shopify_inbox.drain_inbox(5)  # the echo of 1200: nothing to change, nothing queued again
    assert (await Variant.get(id=variant.id)).price == Decimal("1200.00")
    assert await shop_writes.push_shop_writes() == 0  # no loop: a webhook never writes an outbox row

    # The first echo once more, late (Shopify retries with the original body): older than what we know.
    first_echo = next(d for d in sim_shop.deliveries if d.topic == "products/update")
    response = await imported.deliver("products/update", first_echo.body)
    assert response.status_code == 200
    await shopify_inbox.drain_inbox(5)
    assert (await Variant.get(id=variant.id)).price == Decimal("1200.00")
    sent = [a["changes"]["price"] for a in sim_shop.applied if a["id"] == variant.shopify_variant_id]
    assert sent == ["1000.00", "1200.00"]


async def test_the_server_workers_send_an_edit_and_take_its_echo_in(imported, sim_shop, db):
    """server/workers.py runs the shop writes beside the push and the inbox: an edit reaches Shopify alone,
    and its echo is taken in without changing anything or queueing anything again."""
    import asyncio

    from server import workers
    from server.settings import Settings

    settings = Settings(
        database_url=db,
        sync_push_interval=0.05,
        webhook_inbox_interval=0.05,
        drift_check_interval=0,
        order_poll_interval=0,
    )
    variant = await Variant.filter(shopify_variant_id__isnull=False).order_by("id").first()
    async with workers.running(settings):
        await edit_price(variant, "3333.00")
        for _ in range(250):
            echoes = await rows(topic="products/update", status=InboxStatus.DONE)
            if sim_variant(sim_shop, variant).price == "3333.00" and echoes:
                break
            await asyncio.sleep(0.02)
    assert sim_variant(sim_shop, variant).price == "3333.00"
    assert await rows(topic="products/update", status=InboxStatus.DONE)
    assert (await Variant.get(id=variant.id)).price == Decimal("3333.00")
    assert len([a for a in sim_shop.applied if a["id"] == variant.shopify_variant_id]) == 1
