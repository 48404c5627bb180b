"""The Shopify mutations under an idempotency key: a repeat returns the first result and does nothing twice
(no second call to Shopify, no second change, no second audit entry); the same key with a different request
is refused with IDEMPOTENCY_KEY_REUSED and changes nothing."""

import asyncio

import orjson
import pytest

from models.inbox import WebhookInbox
from models.outbox import OutboxRow, OutboxStatus
from models.shopify import ImportJob, ShopifyLocation
from models.staff import AuditEntry
from operations.kernel import decrypt_secret
from operations.kernel.access import SYSTEM
from operations.sync import connection as shopify_connection
from operations.sync import inbox as shopify_inbox
from operations.sync import push as shopify_push
from operations.sync.inbox_store import Delivery
from operations.sync.locations import map_location
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.conftest import settings_changed
from tests.shopify.conftest import sim, sim_shop  # noqa: F401  (fixtures)
from tests.sync.conftest import adjust, connected, mapped_levels  # noqa: F401  (fixtures)

CONNECT = """
mutation($input: ConnectShopifyInput!) {
  connectShopify(input: $input) { connection { shopDomain shopName connected connectedAt } errors { code field } }
}
"""
DISCONNECT = """
mutation($key: String!) {
  disconnectShopify(input: {idempotencyKey: $key}) { connection { shopDomain connected } errors { code } }
}
"""
START = """
mutation($key: String!, $create: Boolean! = true) {
  startShopifyImport(input: {idempotencyKey: $key, createBranches: $create}) { job { id } errors { code field } }
}
"""
MAP = """
mutation($location: ID!, $branch: ID, $ignore: Boolean! = false, $key: String!) {
  mapLocation(input: {shopifyLocationId: $location, branchId: $branch, ignore: $ignore, idempotencyKey: $key}) {
    location { shopifyLocationId ignored branch { code } } errors { code field }
  }
}
"""
RETRY_WEBHOOKS = """
mutation($ids: [ID!], $key: String!) {
  retryWebhooks(input: {ids: $ids, idempotencyKey: $key}) { retried errors { code field } }
}
"""
RETRY_PARKED = """
mutation($key: String!) {
  retryParkedSync(input: {idempotencyKey: $key}) { retried retriedOrderActions errors { code } }
}
"""
REUSED = [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}]


async def _audited(action: str) -> int:
    return await AuditEntry.filter(action=action).count()


@pytest.fixture
def shopify_at_sim(sim):  # noqa: F811
    with settings_changed(shopify={"public_url": "http://127.0.0.1:9", "base_url": sim.url, "timeout": 2.0}):
        yield sim


async def test_connect_shopify_repeated_with_its_key_asks_shopify_nothing(db, shopify_at_sim, api):  # noqa: F811
    shop = shopify_at_sim
    credentials = {"shopDomain": shop.domain, "accessToken": shop.token, "clientSecret": shop.shop.client_secret}
    first = (await api(CONNECT, {"input": {**credentials, "idempotencyKey": "connect-1"}}))["connectShopify"]
    assert first["errors"] == [] and first["connection"]["connected"]
    calls = len(shop.shop.calls)

    again = (await api(CONNECT, {"input": {**credentials, "idempotencyKey": "connect-1"}}))["connectShopify"]

    assert again == first
    assert len(shop.shop.calls) == calls  # neither the token checked nor a webhook subscribed again
    assert await _audited("shopify.connected") == 1

    other = {**credentials, "accessToken": "another-token", "idempotencyKey": "connect-1"}
    refused = (await api(CONNECT, {"input": other}))["connectShopify"]
    assert refused == {"connection": None, "errors": REUSED}
    assert len(shop.shop.calls) == calls
    stored = await shopify_connection.current_connection()
    assert decrypt_secret(stored.access_token_encrypted) == shop.token


async def test_disconnect_shopify_repeated_with_its_key_disconnects_nothing_again(connected, api):  # noqa: F811
    first = (await api(DISCONNECT, {"key": "disconnect-1"}))["disconnectShopify"]
    assert first == {"connection": {"shopDomain": connected.domain, "connected": False}, "errors": []}
    # Connected again since: a second disconnect would cut it.
    await shopify_connection.connect_shopify(SYSTEM, connected.domain, connected.token, connected.shop.client_secret)

    again = (await api(DISCONNECT, {"key": "disconnect-1"}))["disconnectShopify"]

    assert again["errors"] == [] and again["connection"]["shopDomain"] == connected.domain
    assert await shopify_connection.current_connection() is not None
    assert await _audited("shopify.disconnected") == 1


async def test_start_shopify_import_repeated_with_its_key_starts_no_second_import(connected, api):  # noqa: F811
    jobs = await ImportJob.all().count()
    first = (await api(START, {"key": "import-2"}))["startShopifyImport"]
    assert first["errors"] == []
    for _ in range(200):  # it runs in this process's background
        if (await ImportJob.all().order_by("-id").first()).running is None:
            break
        await asyncio.sleep(0.05)

    again = (await api(START, {"key": "import-2"}))["startShopifyImport"]
    assert again == first
    assert await ImportJob.all().count() == jobs + 1

    refused = (await api(START, {"key": "import-2", "create": False}))["startShopifyImport"]
    assert refused == {"job": None, "errors": REUSED}
    assert await ImportJob.all().count() == jobs + 1


async def test_map_location_repeated_with_its_key_maps_nothing_again(connected, api):  # noqa: F811
    branch, _, _ = (await mapped_levels())[0]
    location = branch.shopify_location_id
    first = (await api(MAP, {"location": location, "ignore": True, "key": "map-1"}))["mapLocation"]
    assert first == {"location": {"shopifyLocationId": location, "ignored": True, "branch": None}, "errors": []}
    assert (await ShopifyLocation.get(shopify_location_id=location)).ignored
    await map_location(SYSTEM, location, branch.id)  # mapped back since: a second ignore would undo it

    again = (await api(MAP, {"location": location, "ignore": True, "key": "map-1"}))["mapLocation"]

    # The location as it stands: still mapped to its branch, the first request's ignore not applied again.
    assert again == {
        "location": {"shopifyLocationId": location, "ignored": False, "branch": {"code": branch.code}},
        "errors": [],
    }
    assert not (await ShopifyLocation.get(shopify_location_id=location)).ignored
    assert await _audited("shopify.location_ignored") == 1
    from schema.ids import global_id

    other = {"location": location, "branch": str(global_id("Branch", branch.id)), "key": "map-1"}
    assert (await api(MAP, other))["mapLocation"] == {"location": None, "errors": REUSED}


async def test_retry_webhooks_repeated_with_its_key_retries_nothing_again(connected, api):  # noqa: F811
    body = orjson.dumps({"id": 77, "name": "#77"})  # no line items: an exception each time it is handled
    stuck = await shopify_inbox.store_webhook(Delivery("orders/create", body, webhook_id="w-77"))
    await shopify_inbox.process_inbox()
    assert (await WebhookInbox.get(id=stuck.id)).status.value == "exception"

    first = (await api(RETRY_WEBHOOKS, {"key": "retry-w"}))["retryWebhooks"]
    assert first == {"retried": 1, "errors": []}
    await shopify_inbox.process_inbox()
    failed_again = await WebhookInbox.get(id=stuck.id)
    assert failed_again.status.value == "exception"

    again = (await api(RETRY_WEBHOOKS, {"key": "retry-w"}))["retryWebhooks"]

    assert again == first
    after = await WebhookInbox.get(id=stuck.id)
    assert (after.status.value, after.attempts) == ("exception", failed_again.attempts)  # not put back
    assert await _audited("shopify.webhooks_retried") == 1

    from schema.ids import global_id

    named = {"ids": [str(global_id("WebhookInbox", stuck.id))], "key": "retry-w"}
    assert (await api(RETRY_WEBHOOKS, named))["retryWebhooks"] == {"retried": 0, "errors": REUSED}
    assert (await WebhookInbox.get(id=stuck.id)).status.value == "exception"


async def test_retry_parked_sync_repeated_with_its_key_retries_nothing_again(connected, api, change_settings):  # noqa: F811
    change_settings(push={"max_attempts": 1, "client_attempts": 1})
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +2)
    connected.shop.faults.fail_next(1, status=502)
    assert (await shopify_push.push_due()).parked == 1

    first = (await api(RETRY_PARKED, {"key": "retry-p"}))["retryParkedSync"]
    assert first == {"retried": 1, "retriedOrderActions": 0, "errors": []}
    connected.shop.faults.fail_next(1, status=502)
    assert (await shopify_push.push_due()).parked == 1  # parked again

    again = (await api(RETRY_PARKED, {"key": "retry-p"}))["retryParkedSync"]

    assert again == first
    assert await OutboxRow.filter(status=OutboxStatus.PARKED).count() == 1  # still parked: not retried twice
    assert await _audited("shopify.sync_retried") == 1
