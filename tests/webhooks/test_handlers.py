"""The inbox's own handlers, fed by the SIMULATOR delivering signed webhooks over real HTTP to the
real app on uvicorn: app/uninstalled, locations, products, bulk operations."""

from decimal import Decimal

from models.catalog import Product, Variant
from models.inbox import InboxStatus
from models.shopify import ConnectionStatus, ShopifyConnection, ShopifyLocation
from operations.sync import inbox as shopify_inbox
from operations.sync import push as shopify_push
from shopify.simulator.ids import rest_time
from tests.webhooks.conftest import rows


async def delivered(sim_shop, n: int) -> None:
    """Let the simulator's dispatcher send everything queued, then check it all got a 200."""
    await sim_shop.webhooks.drain(10)
    sent = [d for d in sim_shop.deliveries if not d.dropped]
    assert len(sent) >= n and all(d.status == 200 for d in sent), [(d.topic, d.status) for d in sent]


def location_payload(location, **changes) -> dict:
    return {
        "id": location.id,
        "admin_graphql_api_id": location.gid,
        "name": location.name,
        "address1": "12 Mall Road",
        "city": "Lahore",
        "country_code": "PK",
        "active": True,
        "updated_at": rest_time(location.updated_at),
        **changes,
    }


async def test_simulator_deliveries_are_stored_once_and_a_location_is_renamed(imported, sim_shop):
    location = next(iter(sim_shop.locations.values()))
    sim_shop.faults.duplicate_webhooks(1)  # Shopify sends the same delivery twice
    sim_shop.emit("locations/update", location_payload(location, name="Gulberg Flagship"))
    await delivered(sim_shop, 2)
    [row] = await rows(topic="locations/update")
    assert row.duplicates == 1 and row.shop_domain == sim_shop.domain and row.event_id
    await shopify_inbox.drain_inbox(5)  # with the import's bulk_operations/finish webhooks
    assert (await rows(topic="locations/update"))[0].status == InboxStatus.DONE
    stored = await ShopifyLocation.get(shopify_location_id=location.gid)
    assert stored.name == "Gulberg Flagship" and stored.address["city"] == "Lahore"

    sim_shop.emit("locations/create", {"id": 777001, "name": "Karachi Warehouse", "active": True})
    await delivered(sim_shop, 3)
    await shopify_inbox.drain_inbox(5)
    new = await ShopifyLocation.get(shopify_location_id="gid://shopify/Location/777001")
    assert new.name == "Karachi Warehouse" and not new.ignored


async def test_product_update_changes_known_variants_only(imported, sim_shop):
    product = next(iter(sim_shop.products.values()))
    variants = [sim_shop.variants[v] for v in product.variant_ids]
    other = await Variant.exclude(shopify_variant_id__in=[v.gid for v in variants]).first()
    payload_variants = [
        {
            "id": v.id,
            "admin_graphql_api_id": v.gid,
            "title": f"{v.title} (new)",
            "sku": f"{v.sku}-NEW",
            "barcode": None,
            "price": "1234.50",
            "inventory_item_id": v.inventory_item_id,
        }
        for v in variants
    ]
    payload_variants[0]["sku"] = other.sku  # taken by another variant: not taken over
    payload_variants.append({"id": 99887766, "title": "Not imported", "sku": "NEW-ONE", "price": "1.00"})
    sim_shop.emit(
        "products/update",
        {
            "id": product.id,
            "admin_graphql_api_id": product.gid,
            "title": "Lawn Suit (Eid edition)",
            "updated_at": rest_time(product.updated_at),
            "variants": payload_variants,
        },
    )
    await delivered(sim_shop, 1)
    await shopify_inbox.drain_inbox(5)
    [row] = await rows(topic="products/update")
    assert row.status == InboxStatus.DONE, row.last_error
    assert (await Product.get(shopify_product_id=product.gid)).title == "Lawn Suit (Eid edition)"
    first, *rest = [await Variant.get(shopify_variant_id=v.gid) for v in variants]
    assert first.sku == variants[0].sku and first.price == Decimal("1234.50")  # SKU clash: kept its own
    for stored, v in zip(rest, variants[1:], strict=True):
        assert (stored.sku, stored.title, stored.price) == (f"{v.sku}-NEW", f"{v.title} (new)", Decimal("1234.50"))
    assert not await Variant.filter(sku="NEW-ONE").exists()  # left for the next import


async def test_malformed_product_payload_is_an_exception(imported, sim_shop):
    sim_shop.emit("products/update", {"id": 5, "title": "x", "variants": "not a list"})
    await delivered(sim_shop, 1)
    await shopify_inbox.drain_inbox(5)
    [row] = await rows(topic="products/update")
    assert (row.status, row.error_code) == (InboxStatus.EXCEPTION, "MALFORMED_WEBHOOK")


async def test_app_uninstalled_disconnects_and_stops_pushing(imported, sim_shop):
    sim_shop.emit("app/uninstalled", {"id": 1, "name": "Shop", "myshopify_domain": sim_shop.domain})
    await delivered(sim_shop, 1)
    await shopify_inbox.drain_inbox(5)
    connection = await ShopifyConnection.get(shop_domain=sim_shop.domain)
    assert connection.status == ConnectionStatus.DISCONNECTED and connection.access_token_encrypted == ""
    assert (await shopify_push.push_due()).not_connected
    # Its tokens are gone, so later deliveries are refused rather than stored.
    assert (await imported.deliver("orders/create", {"id": 1})).status_code == 401


async def test_bulk_operation_finish_is_acknowledged(imported, sim_shop):
    sim_shop.emit(
        "bulk_operations/finish",
        {"admin_graphql_api_id": "gid://shopify/BulkOperation/1", "status": "completed", "type": "query"},
    )
    await delivered(sim_shop, 1)
    await shopify_inbox.drain_inbox(5)
    finished = await rows(topic="bulk_operations/finish")  # the import's own, and this one
    assert len(finished) >= 2 and {r.status for r in finished} == {InboxStatus.DONE}


async def test_the_server_workers_process_the_inbox(imported, sim_shop, db):
    """server/workers.py runs the inbox loop beside the push: a delivered webhook takes effect alone."""
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
    location = next(iter(sim_shop.locations.values()))
    async with workers.running(settings):
        sim_shop.emit("locations/update", location_payload(location, name="Worker Renamed"))
        await delivered(sim_shop, 1)
        for _ in range(200):
            if (await ShopifyLocation.get(shopify_location_id=location.gid)).name == "Worker Renamed":
                break
            await asyncio.sleep(0.02)
    assert (await ShopifyLocation.get(shopify_location_id=location.gid)).name == "Worker Renamed"
