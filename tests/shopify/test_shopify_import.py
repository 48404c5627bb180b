"""Connecting to Shopify and importing the catalog from it: against the simulator, over real HTTP."""

import asyncio
import logging
import random
from pathlib import Path

import pytest

from models.branches import Branch
from models.catalog import Product, Variant
from models.customers import Customer
from models.shopify import ImportStatus, ShopifyConnection
from models.stock import StockLevel, StockMovement
from operations.kernel.access import SYSTEM
from operations.kernel.errors import OperationError
from operations.stock.adjustments import check_ledger
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from shopify.webhooks import verify_webhook
from tests.conftest import settings_changed


@pytest.fixture
async def connected(db, sim):
    # A short timeout, so a test can make Shopify answer too late without waiting long.
    with settings_changed(shopify={"public_url": "http://127.0.0.1:9", "base_url": sim.url, "timeout": 1.0}):
        await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
        yield sim


async def import_now(**options):
    job, _ = await shopify_import.start_import(SYSTEM, **options)
    return await shopify_import.run_job(job.id)


def shop_levels(shop) -> dict[tuple[str, str], int]:
    """(location GID, variant GID) -> on_hand, as the simulated Shopify holds it."""
    variant_of_item = {v.inventory_item_id: v for v in shop.variants.values()}
    return {
        (shop.locations[location_id].gid, variant_of_item[item_id].gid): level.snapshot()["on_hand"]
        for (item_id, location_id), level in shop.levels.items()
    }


async def branchline_levels() -> dict[tuple[str, str], int]:
    branches = {b.id: b.shopify_location_id for b in await Branch.all()}
    variants = {v.id: v.shopify_variant_id for v in await Variant.all()}
    return {(branches[lv.branch_id], variants[lv.variant_id]): lv.on_hand for lv in await StockLevel.all()}


async def test_import_from_shopify_brings_everything_once(connected):
    shop = connected.shop
    job = await import_now()

    assert job.status == ImportStatus.COMPLETED, job.error
    assert await Branch.filter(shopify_location_id__isnull=False).count() == len(shop.locations)
    assert await Product.all().count() == len(shop.products)
    assert await Variant.all().count() == len(shop.variants)
    assert await Customer.all().count() == len(shop.customers)
    wanted = {k: v for k, v in shop_levels(shop).items() if v != 0}
    got = {k: v for k, v in (await branchline_levels()).items() if v != 0}
    assert got == wanted
    assert await check_ledger() == ([], [])

    levels_before = await branchline_levels()
    again = await import_now()
    assert again.status == ImportStatus.COMPLETED
    assert again.counts["variants"] == {"unchanged": len(shop.variants)}
    assert await branchline_levels() == levels_before
    assert await StockMovement.all().count() == len(wanted)  # opening stock is taken once


async def test_throttling_and_server_faults_are_ridden_out(connected, change_settings):
    change_settings(shopify={"attempts": 8})  # the production count: five failures in a row are ridden out
    faults = connected.shop.faults
    faults.throttle_next(2)
    faults.fail_next(2, status=503)
    faults.fail_next(1, status=429, retry_after=0.1)
    faults.delay_next(1, seconds=1.5)  # longer than the client waits: a timeout, retried

    job = await import_now()

    assert job.status == ImportStatus.COMPLETED, job.error
    assert await Variant.all().count() == len(connected.shop.variants)
    assert connected.shop.throttled_calls == 2  # only the injected ones: the client paced itself


async def test_a_failed_bulk_operation_is_reported_as_failed(connected):
    connected.shop.faults.bulk_fail_next(error_code="INTERNAL_SERVER_ERROR", partial=True)

    job = await import_now()

    assert job.status == ImportStatus.FAILED
    assert job.error_code == "IMPORT_FAILED"
    assert "INTERNAL_SERVER_ERROR" in job.error
    assert await Variant.all().count() == 0  # a partial export is never imported as if complete


async def test_an_expired_result_is_reported_as_failed(connected):
    connected.shop.config.bulk_url_ttl = 0.0  # the download URL is dead by the time it is fetched

    job = await import_now()

    assert job.status == ImportStatus.FAILED
    assert job.error_code == "IMPORT_FAILED"


async def test_bad_connection_details_are_refused_with_a_clear_error(db, sim, change_settings):
    change_settings(shopify={"public_url": "http://127.0.0.1:9", "base_url": sim.url})
    cases = [
        ("not a shop", sim.token, "INVALID", "shopDomain"),
        ("someone-else.myshopify.com", sim.token, "NOT_FOUND", "shopDomain"),
        (sim.domain, "shpat_wrong", "INVALID_CREDENTIALS", "accessToken"),
    ]
    for domain, token, code, field in cases:
        with pytest.raises(OperationError) as refused:
            await shopify_connection.connect_shopify(SYSTEM, domain, token, "secret")
        assert (refused.value.problems[0].code.value, refused.value.problems[0].field) == (code, field)
    assert await ShopifyConnection.all().count() == 0
    with pytest.raises(OperationError) as not_connected:
        await shopify_import.start_import(SYSTEM)
    assert not_connected.value.problems[0].code.value == "NOT_CONNECTED"


async def test_secrets_are_not_readable_in_the_database_or_the_logs(connected, database_url, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    await import_now()
    stored = await ShopifyConnection.get()
    assert connected.token not in stored.access_token_encrypted
    assert connected.shop.client_secret not in stored.client_secret_encrypted
    if database_url.startswith("sqlite"):
        raw = await asyncio.to_thread(Path(database_url.split("://", 1)[1].split("?")[0]).read_bytes)
        assert connected.token.encode() not in raw
        assert connected.shop.client_secret.encode() not in raw
    assert connected.token not in caplog.text
    assert connected.shop.client_secret not in caplog.text


async def test_connecting_registers_webhooks_whose_hmac_verifies_with_the_stored_secret(
    db, sim, webhook_receiver, change_settings
):
    change_settings(shopify={"public_url": webhook_receiver.url, "base_url": sim.url})
    connection = await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
    assert set(connection.webhook_subscriptions) == set(shopify_connection.WEBHOOK_TOPICS)

    (item_id, location_id), _ = next(iter(sim.shop.levels.items()))
    sim.shop.set_quantity(item_id, location_id, 3)
    (delivery,) = await webhook_receiver.wait_for(1, topic="inventory_levels/update")
    secrets = await shopify_connection.webhook_secrets()
    assert verify_webhook(delivery.body, delivery.headers.get("x-shopify-hmac-sha256"), secrets)
    tampered = delivery.body.replace(b'"available":3', b'"available":4')
    assert tampered != delivery.body
    assert not verify_webhook(tampered, delivery.headers.get("x-shopify-hmac-sha256"), secrets)

    # Connecting again (a retry, or a rotated secret) does not subscribe twice.
    again = await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
    assert again.webhook_subscriptions == connection.webhook_subscriptions


async def test_shuffled_bulk_output_gives_the_same_result(connected):
    connected.shop.config.bulk_shuffle_seed = random.Random(5).randint(1, 1000)
    first = await import_now()
    assert first.status == ImportStatus.COMPLETED
    assert {k: v for k, v in (await branchline_levels()).items() if v} == {
        k: v for k, v in shop_levels(connected.shop).items() if v
    }


async def test_disconnecting_removes_webhooks_and_forgets_the_tokens(connected):
    assert len(connected.shop.subscriptions) == len(shopify_connection.WEBHOOK_TOPICS)

    await shopify_connection.disconnect_shopify(SYSTEM)

    assert connected.shop.subscriptions == {}
    stored = await ShopifyConnection.get()
    assert (stored.access_token_encrypted, stored.client_secret_encrypted) == ("", "")
    assert await shopify_connection.current_connection() is None
    with pytest.raises(OperationError) as again:
        await shopify_connection.disconnect_shopify(SYSTEM)
    assert again.value.problems[0].code.value == "NOT_CONNECTED"
