"""POST /webhooks/shopify over real HTTP: signature, storage, deduplication, odd bodies."""

import orjson

from models.inbox import InboxStatus, WebhookInbox
from operations.kernel.access import SYSTEM
from operations.sync import connection as shopify_connection
from operations.sync import inbox as shopify_inbox
from server import shopify_webhooks as webhook_endpoint
from tests.webhooks.conftest import Recorder, next_id, order_payload, rows


async def test_forged_signature_is_refused_and_nothing_stored(branchline):
    payload = order_payload(next_id(), "2026-11-26T15:00:00+05:00")
    response = await branchline.deliver("orders/create", payload, secret="not-the-client-secret")
    assert response.status_code == 401
    response = await branchline.deliver("orders/create", payload, signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 401
    response = await branchline.deliver("orders/create", payload, signature="%%%not base64%%%")
    assert response.status_code == 401
    assert await WebhookInbox.all().count() == 0


async def test_tampered_body_is_refused(branchline):
    payload = order_payload(next_id(), "2026-11-26T15:00:00+05:00", total_price="100.00")
    tampered = orjson.dumps({**payload, "total_price": "1.00"})
    response = await branchline.deliver("orders/create", payload, tamper=tampered)
    assert response.status_code == 401
    assert await WebhookInbox.all().count() == 0


async def test_nothing_is_accepted_when_shopify_is_not_connected(branchline):
    await shopify_connection.disconnect_shopify(SYSTEM)
    response = await branchline.deliver("orders/create", order_payload(next_id(), "2026-11-26T15:00:00+05:00"))
    assert response.status_code == 401
    assert await WebhookInbox.all().count() == 0


async def test_replayed_webhook_is_stored_once_and_processed_once(branchline):
    recorder = Recorder()
    payload = order_payload(next_id(), "2026-11-26T15:00:00+05:00")
    first = await branchline.deliver("orders/create", payload, webhook_id="delivery-1")
    again = await branchline.deliver("orders/create", payload, webhook_id="delivery-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    [row] = await rows()
    assert (row.status, row.duplicates, row.webhook_id) == (InboxStatus.PENDING, 1, "delivery-1")
    assert row.payload == payload and row.subject == payload["admin_graphql_api_id"]
    with shopify_inbox.override_handlers({"orders/create": recorder}):
        await shopify_inbox.drain_inbox(5)
        await branchline.deliver("orders/create", payload, webhook_id="delivery-1")  # after processing
        await shopify_inbox.drain_inbox(5)
    assert recorder.calls == [("orders/create", payload, "delivery-1")]
    [row] = await rows()
    assert (row.status, row.duplicates) == (InboxStatus.DONE, 2)


async def test_same_event_under_a_new_webhook_id_is_deduplicated(branchline):
    payload = order_payload(next_id(), "2026-11-26T15:00:00+05:00")
    await branchline.deliver("orders/updated", payload, webhook_id="first-id")
    response = await branchline.deliver("orders/updated", payload, webhook_id="second-id")
    assert response.status_code == 200 and response.json()["duplicate"] is True
    [row] = await rows()
    assert row.webhook_id == "first-id" and row.duplicates == 1
    # The same order in another topic is another event: stored.
    await branchline.deliver("orders/paid", payload)
    assert [r.topic for r in await rows()] == ["orders/updated", "orders/paid"]


async def test_two_changes_in_the_same_second_are_both_kept(branchline):
    """Shopify's updated_at has one-second precision: a different body is a different change."""
    level = {"inventory_item_id": 11, "location_id": 22, "updated_at": "2026-11-26T15:00:00+05:00"}
    await branchline.deliver("inventory_levels/update", {**level, "available": 9})
    await branchline.deliver("inventory_levels/update", {**level, "available": 8})
    stored = await rows()
    assert [r.payload["available"] for r in stored] == [9, 8]
    assert stored[0].resource_key == stored[1].resource_key == "gid://shopify/InventoryLevel/22?inventory_item_id=11"


async def test_unknown_topic_is_acknowledged_logged_and_marked(branchline, caplog):
    caplog.set_level("INFO")
    response = await branchline.deliver("customers/update", {"id": 5, "updated_at": "2026-11-26T15:00:00+05:00"})
    assert response.status_code == 200
    [row] = await rows()
    assert row.status == InboxStatus.IGNORED and "does not act on customers/update" in row.last_error
    assert "customers/update" in caplog.text
    assert await shopify_inbox.process_inbox() == 0  # never handed to anything


async def test_signed_body_that_is_not_json_is_kept_as_an_exception(branchline):
    response = await branchline.deliver("orders/create", b'{"id": 1, "line_items": [')
    assert response.status_code == 200  # a refusal would only make Shopify resend the same bytes
    response = await branchline.deliver("orders/create", b"[1, 2]")
    assert response.status_code == 200
    broken, listed = await rows()
    assert broken.status == InboxStatus.EXCEPTION and broken.error_code == "MALFORMED_WEBHOOK"
    assert broken.body == '{"id": 1, "line_items": [' and broken.payload is None
    assert listed.status == InboxStatus.EXCEPTION and "not an object" in listed.last_error
    assert await shopify_inbox.retry_webhooks() == 0  # nothing readable to retry


async def test_missing_topic_and_oversized_body(branchline, monkeypatch):
    body = orjson.dumps(order_payload(next_id(), "2026-11-26T15:00:00+05:00"))
    from shopify.webhooks import webhook_hmac

    response = await branchline.client.post(
        f"{branchline.url}/webhooks/shopify",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": webhook_hmac(body, branchline.secret)},
    )
    assert response.status_code == 400
    monkeypatch.setattr(webhook_endpoint, "MAX_BODY_BYTES", 64)
    response = await branchline.deliver("orders/create", order_payload(next_id(), "x", note="n" * 100))
    assert response.status_code == 413
    assert await WebhookInbox.all().count() == 0


async def test_webhook_for_another_shop_is_acknowledged_but_ignored(branchline):
    response = await branchline.deliver(
        "orders/create", order_payload(next_id(), "2026-11-26T15:00:00+05:00"), domain="other-shop.myshopify.com"
    )
    assert response.status_code == 200
    [row] = await rows()
    assert row.status == InboxStatus.IGNORED and "other-shop.myshopify.com" in row.last_error
