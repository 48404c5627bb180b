"""Webhook delivery: headers, HMAC over the raw body, REST payload shape, retries, removal and faults."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

import pytest

CREATE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message } } }"""


def verify(secret: str, body: bytes, header: str) -> bool:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(digest, header.encode())


@pytest.fixture
def variant(sim_shop):
    v = next(v for v in sim_shop.variants.values() if sim_shop.items[v.inventory_item_id].tracked)
    sim_shop.stock(v, next(iter(sim_shop.locations.values())), available=10)
    return v


async def test_subscription_via_graphql_and_signed_delivery(sim, webhook_receiver, variant):
    data = await sim.data(CREATE, {"topic": "ORDERS_CREATE", "uri": webhook_receiver.url})
    sub = data["webhookSubscriptionCreate"]["webhookSubscription"]
    assert sub["topic"] == "ORDERS_CREATE"
    assert sub["endpoint"] == {"__typename": "WebhookHttpEndpoint", "callbackUrl": webhook_receiver.url}
    dup = await sim.data(CREATE, {"topic": "ORDERS_CREATE", "uri": webhook_receiver.url})
    assert dup["webhookSubscriptionCreate"]["userErrors"]

    customer = next(iter(sim.shop.customers.values()))
    order = sim.shop.place_order([(variant.gid, 1)], customer=customer)
    [hook] = await webhook_receiver.wait_for(1, topic="orders/create")
    h = hook.headers
    assert h["x-shopify-topic"] == "orders/create"
    assert h["x-shopify-shop-domain"] == sim.domain
    assert h["x-shopify-api-version"] == "2026-10"
    assert h["content-type"] == "application/json"
    assert h["x-shopify-webhook-id"] and h["x-shopify-event-id"] and h["x-shopify-triggered-at"].endswith("Z")
    assert verify(sim.shop.client_secret, hook.body, h["x-shopify-hmac-sha256"])
    assert not verify("wrong-secret", hook.body, h["x-shopify-hmac-sha256"])
    # Re-serialising the JSON changes the bytes; the check must use the raw body.
    assert not verify(sim.shop.client_secret, json.dumps(json.loads(hook.body)).encode(), h["x-shopify-hmac-sha256"])

    payload = json.loads(hook.body)
    assert payload["id"] == order.id > 2**53  # exact only if parsed as an integer
    assert f'"id":{order.id}'.encode() in hook.body
    assert payload["admin_graphql_api_id"] == order.gid
    assert payload["payment_gateway_names"] == ["Cash on Delivery (COD)"]
    assert payload["financial_status"] == "pending"
    assert payload["customer"]["id"] == customer.id
    assert payload["line_items"][0]["variant_id"] == variant.id
    assert payload["line_items"][0]["quantity"] == 1


async def test_inventory_level_update_payload(sim, webhook_receiver, variant):
    sim.shop.subscribe("inventory_levels/update", webhook_receiver.url)
    loc = next(iter(sim.shop.locations.values()))
    sim.shop.set_quantity(variant.gid, loc, 4)
    [hook] = await webhook_receiver.wait_for(1)
    body = json.loads(hook.body)
    item_id = variant.inventory_item_id
    assert body == {
        "inventory_item_id": item_id,
        "location_id": loc.id,
        "available": 4,
        "updated_at": body["updated_at"],
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{loc.id}?inventory_item_id={item_id}",
    }
    assert body["updated_at"].endswith("+05:00")


async def test_one_action_shares_event_id_across_topics(sim, webhook_receiver, variant):
    for topic in ("fulfillments/create", "orders/updated"):
        sim.shop.subscribe(topic, webhook_receiver.url)
    order = sim.shop.place_order([(variant.gid, 2)])
    sim.shop.fulfill(order.gid, tracking={"company": "TCS", "number": "T-9"})
    got = await webhook_receiver.wait_for(2)
    assert {g.headers["x-shopify-topic"] for g in got} == {"fulfillments/create", "orders/updated"}
    assert len({g.headers["x-shopify-webhook-id"] for g in got}) == 2
    fulfillment = json.loads(webhook_receiver.topic("fulfillments/create")[0].body)
    assert fulfillment["order_id"] == order.id and fulfillment["tracking_number"] == "T-9"


async def test_failures_are_retried_then_subscription_removed(sim, webhook_receiver, variant):
    webhook_receiver.status = 500
    sim.shop.subscribe("orders/create", webhook_receiver.url)
    sim.shop.place_order([(variant.gid, 1)])
    await webhook_receiver.wait_for(4)  # 1 try + retries until remove_after=4 consecutive failures
    await sim.shop.webhooks.drain()
    attempts = [d for d in sim.shop.deliveries if d.topic == "orders/create"]
    assert [d.attempt for d in attempts] == [1, 2, 3, 4]
    assert all(d.failed and d.status == 500 for d in attempts)
    assert len({d.webhook_id for d in attempts}) == 1  # a retry is the same delivery
    assert len({d.body for d in attempts}) == 1  # with the original payload
    assert sim.shop.subscriptions == {}


async def test_retry_succeeds_after_a_transient_failure(sim, webhook_receiver, variant):
    webhook_receiver.status = 503
    sim.shop.subscribe("orders/create", webhook_receiver.url)
    sim.shop.place_order([(variant.gid, 1)])
    await webhook_receiver.wait_for(1)
    webhook_receiver.status = 200
    await webhook_receiver.wait_for(2)
    await sim.shop.webhooks.drain()
    assert [d.status for d in sim.shop.deliveries] == [503, 200]
    assert len(sim.shop.subscriptions) == 1


async def test_duplicate_and_drop_faults(sim, webhook_receiver, variant):
    sim.shop.subscribe("orders/create", webhook_receiver.url)
    sim.shop.faults.duplicate_webhooks(1)
    sim.shop.faults.drop_webhooks(1)
    o1 = sim.shop.place_order([(variant.gid, 1)])  # dropped
    o2 = sim.shop.place_order([(variant.gid, 1)])  # delivered twice
    await sim.shop.webhooks.drain()
    ids = [json.loads(r.body)["id"] for r in webhook_receiver.received]
    assert ids == [o2.id, o2.id]
    assert o1.id not in ids
    first, second = webhook_receiver.received
    assert first.headers["x-shopify-webhook-id"] == second.headers["x-shopify-webhook-id"]
    assert first.headers["x-shopify-event-id"] == second.headers["x-shopify-event-id"]
    assert [d.dropped for d in sim.shop.deliveries] == [True, False, False]


async def test_reorder_fault_shuffles_a_burst(sim, webhook_receiver, variant):
    sim.shop.subscribe("orders/create", webhook_receiver.url)
    sim.shop.faults.reorder_webhooks(True)
    orders = [sim.shop.place_order([(variant.gid, 1)]) for _ in range(5)]
    await webhook_receiver.wait_for(5)
    got = [json.loads(r.body)["id"] for r in webhook_receiver.received]
    assert sorted(got) == sorted(o.id for o in orders)
    assert got != [o.id for o in orders]


async def test_delay_fault_and_triggered_at(sim, webhook_receiver, variant):
    sim.shop.subscribe("orders/create", webhook_receiver.url)
    sim.shop.faults.delay_webhooks(0.2)
    before = datetime.now(UTC)
    order = sim.shop.place_order([(variant.gid, 1)])
    after = datetime.now(UTC)
    dispatcher = sim.shop.webhooks
    while not dispatcher._busy:  # noqa: ASYNC110 -- the dispatcher has taken the delivery...
        await asyncio.sleep(0)
    for _ in range(100):  # ...and holds it back while this loop turns (an undelayed one lands in ~20 turns)
        await asyncio.sleep(0)
        assert (webhook_receiver.received, dispatcher.log, dispatcher.pending()) == ([], [], 1)
    [hook] = await webhook_receiver.wait_for(1)
    # Triggered-at is when the event happened, not when it was (late) delivered: Shopify's format,
    # between the moments before and after the order was placed.
    triggered = hook.headers["x-shopify-triggered-at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", triggered)
    assert before <= datetime.fromisoformat(triggered) <= after
    assert before <= order.created_at <= after
    assert json.loads(hook.body)["admin_graphql_api_id"] == order.gid


async def test_delete_subscription(sim, webhook_receiver):
    data = await sim.data(CREATE, {"topic": "REFUNDS_CREATE", "uri": webhook_receiver.url})
    sub_id = data["webhookSubscriptionCreate"]["webhookSubscription"]["id"]
    listing = await sim.data("{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }")
    assert listing["webhookSubscriptions"]["nodes"] == [
        {"id": sub_id, "topic": "REFUNDS_CREATE", "uri": webhook_receiver.url}
    ]
    m = """mutation($id: ID!) { webhookSubscriptionDelete(id: $id) {
      deletedWebhookSubscriptionId userErrors { message } } }"""
    data = await sim.data(m, {"id": sub_id})
    assert data["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"] == sub_id
    assert sim.shop.subscriptions == {}
