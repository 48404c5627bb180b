"""syncStatus with orders: webhooks waiting or stuck, order actions parked, retryWebhooks, retryParkedSync for
order actions, syncStatusChanged hearing of them; and the order lines and fulfillments ids the mutations take."""

import asyncio
from types import SimpleNamespace

import orjson
import pytest

from models.inbox import WebhookInbox
from models.orders import Fulfillment, FulfillmentStatus, Order, OrderLine
from models.outbox import OutboxRow, OutboxStatus
from models.staff import Role
from operations.kernel.access import SYSTEM
from operations.orders.fulfillment import ORDER_ACTION_TOPIC
from operations.sync import inbox as shopify_inbox
from operations.sync import order_actions as shopify_order_actions
from operations.sync.inbox_store import Delivery
from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.conftest import settings_changed
from tests.fulfillment.conftest import key, stocked, take_order, use_workflow, webhooks
from tests.orders.conftest import shop  # noqa: F401  (fixture)
from tests.shopify.conftest import sim, sim_shop, webhook_receiver  # noqa: F401  (fixtures)
from tests.sync.conftest import connected  # noqa: F401  (fixture)

STATUS = """
query {
  syncStatus {
    pending parked needsAttention
    orderActions { pending parked lastDoneAt parkedRows(first: 5) { edges { node { key lastError attempts } } } }
    webhooks { pending exceptions parked oldestPendingAt lagSeconds }
  }
}
"""
EXCEPTIONS = """
query($first: Int!, $after: String) {
  webhookExceptions(first: $first, after: $after) {
    edges { node { id topic webhookId status errorCode message attempts retryable receivedAt processedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
RETRY_WEBHOOKS = """
mutation($ids: [ID!], $key: String!) {
  retryWebhooks(input: {ids: $ids, idempotencyKey: $key}) {
    retried status { needsAttention webhooks { pending exceptions parked } } errors { code field message }
  }
}
"""
RETRY_PARKED = """
mutation {
  retryParkedSync(input: {idempotencyKey: "retry-parked"}) {
    retried retriedOrderActions status { orderActions { pending parked } } errors { code }
  }
}
"""
ORDER = """
query($id: ID!) {
  node(id: $id) {
    ... on Order {
      status
      lines { id shopifyLineItemId quantity fulfilled }
      fulfillments { id workflow status units trackingNumber lines { orderLine { id } quantity } }
    }
  }
}
"""
FULFILL = """
mutation($input: FulfillOrderInput!) {
  fulfillOrder(input: $input) { fulfillment { id units lines { orderLine { id } quantity } } errors { code field } }
}
"""
LINE = "query($id: ID!) { node(id: $id) { ... on OrderLine { id sku quantity reserved } } }"


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


@pytest.fixture
def inbox_parks_at_once():
    """The inbox parks a webhook after one transient failure, so a test need not wait out retries."""
    with settings_changed(inbox={"max_attempts": 1, "backoff_base": 0.01, "backoff_cap": 0.05}):
        yield


async def _store(topic: str, body: bytes, webhook_id: str) -> int:
    return (await shopify_inbox.store_webhook(Delivery(topic, body, webhook_id=webhook_id))).id


async def _shopify_fulfilled_order_unknown_here(shop) -> tuple[str, dict]:  # noqa: F811
    """A shopper orders and the merchant ships it in Shopify; Branchline has not taken the order in yet
    (its orders/create webhook is not handed over), so the fulfillments/create webhook must fetch it."""
    branch, variant, _ = await stocked(2)
    placed = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    shop.shop.fulfill(placed.gid)
    (topic, body), *_ = await webhooks(shop, "fulfillments/")
    return placed.gid, {"topic": topic, "body": body}


async def test_webhooks_waiting_and_stuck_show_in_sync_status_and_retry_webhooks_takes_them_back(
    shop,  # noqa: F811
    api,  # noqa: F811
    inbox_parks_at_once,
):
    order_gid, fulfilled = await _shopify_fulfilled_order_unknown_here(shop)
    fulfilled_id = await _store(fulfilled["topic"], orjson.dumps(fulfilled["body"]), "w-fulfilled")
    malformed_id = await _store("orders/create", orjson.dumps({"id": 77, "name": "#77"}), "w-malformed")
    unreadable_id = await _store("orders/create", b"{not json", "w-unreadable")

    waiting = (await api(STATUS))["syncStatus"]
    assert waiting["webhooks"]["pending"] == 2 and waiting["webhooks"]["exceptions"] == 1
    assert waiting["webhooks"]["oldestPendingAt"] is not None and waiting["webhooks"]["lagSeconds"] >= 0
    assert waiting["needsAttention"] == 1

    # Shopify fails every try of the order fetch: a passing failure, parked at once by this inbox's settings.
    shop.shop.faults.fail_next(8, status=503, retry_after=0.01)
    assert await shopify_inbox.process_inbox() == 2
    shop.shop.reset_faults()
    assert await Order.filter(shopify_order_id=order_gid).count() == 0

    status = (await api(STATUS))["syncStatus"]
    assert status["webhooks"] == {**status["webhooks"], "pending": 0, "exceptions": 2, "parked": 1, "lagSeconds": 0}
    assert status["needsAttention"] == 3

    rows = [e["node"] for e in (await api(EXCEPTIONS, {"first": 10}))["webhookExceptions"]["edges"]]
    by_id = {r["id"]: r for r in rows}
    assert list(by_id) == [gid("WebhookInbox", pk) for pk in (fulfilled_id, malformed_id, unreadable_id)]
    parked = by_id[gid("WebhookInbox", fulfilled_id)]
    assert (parked["topic"], parked["webhookId"], parked["status"], parked["retryable"]) == (
        "fulfillments/create",
        "w-fulfilled",
        "PARKED",
        True,
    )
    assert parked["message"] and parked["attempts"] == 1  # what Shopify answered (or that it did not)
    bad = by_id[gid("WebhookInbox", malformed_id)]
    assert (bad["status"], bad["errorCode"], bad["retryable"]) == ("EXCEPTION", "MALFORMED_WEBHOOK", True)
    unreadable = by_id[gid("WebhookInbox", unreadable_id)]
    assert (unreadable["errorCode"], unreadable["retryable"]) == ("MALFORMED_WEBHOOK", False)
    page = (await api(EXCEPTIONS, {"first": 1}))["webhookExceptions"]
    assert [e["node"]["id"] for e in page["edges"]] == [parked["id"]] and page["pageInfo"]["hasNextPage"]
    rest = (await api(EXCEPTIONS, {"first": 5, "after": page["pageInfo"]["endCursor"]}))["webhookExceptions"]
    assert [e["node"]["id"] for e in rest["edges"]] == [bad["id"], unreadable["id"]]
    assert not rest["pageInfo"]["hasNextPage"]

    # Bad requests are typed errors and retry nothing.
    for ids, code, field in (
        ([], "INVALID", "ids"),
        (["nonsense"], "INVALID", "ids.0"),
        ([gid("Order", fulfilled_id)], "INVALID", "ids.0"),
        ([parked["id"], gid("WebhookInbox", 999_999)], "NOT_FOUND", "ids.1"),
        ([parked["id"], unreadable["id"]], "WRONG_STATE", "ids.1"),
        ([parked["id"]] * 101, "TOO_MANY", "ids"),
    ):
        refused = (await api(RETRY_WEBHOOKS, {"ids": ids, "key": key()}))["retryWebhooks"]
        assert (refused["retried"], refused["status"]) == (0, None), ids
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [(code, field)], ids
    assert await WebhookInbox.filter(status="parked").count() == 1
    assert await WebhookInbox.filter(status="exception").count() == 2

    retried = (await api(RETRY_WEBHOOKS, {"ids": [parked["id"]], "key": key()}))["retryWebhooks"]
    assert retried == {
        "retried": 1,
        "status": {"needsAttention": 2, "webhooks": {"pending": 1, "exceptions": 2, "parked": 0}},
        "errors": [],
    }
    await shopify_inbox.drain_inbox(10)
    assert (await WebhookInbox.get(id=fulfilled_id)).status.value == "done"
    order = await Order.get(shopify_order_id=order_gid)  # fetched from Shopify and taken in
    assert await Fulfillment.filter(order_id=order.id).count() == 1

    # Leaving ids out retries every retryable one: the malformed order fails again, as it must.
    again = (await api(RETRY_WEBHOOKS, {"key": key()}))["retryWebhooks"]
    assert (again["retried"], again["errors"]) == (1, [])
    await shopify_inbox.drain_inbox(10)
    assert (await WebhookInbox.get(id=malformed_id)).status.value == "exception"
    assert (await api(STATUS))["syncStatus"]["needsAttention"] == 2


async def test_only_owners_and_admins_see_or_retry_stuck_webhooks(shop, api, inbox_parks_at_once):  # noqa: F811
    malformed_id = await _store("orders/create", orjson.dumps({"id": 78}), "w-bad")
    await shopify_inbox.process_inbox()
    branch, _, _ = await stocked(1)
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    for query, variables in (
        (EXCEPTIONS, {"first": 5}),
        (RETRY_WEBHOOKS, {"ids": [gid("WebhookInbox", malformed_id)], "key": key()}),
    ):
        body = await manager.raw(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await WebhookInbox.get(id=malformed_id)).status.value == "exception"
    admin = await api.as_staff(Role.ADMIN)
    assert len((await admin(EXCEPTIONS, {"first": 5}))["webhookExceptions"]["edges"]) == 1
    assert (await admin.raw("query { webhookExceptions(first: 101) { edges { cursor } } }"))["errors"]


async def test_parked_order_actions_show_in_sync_status_and_retry_parked_sync_sends_them(shop, api, change_settings):  # noqa: F811
    branch, variant, _ = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    seen = (await api(ORDER, {"id": gid("Order", order.id)}))["node"]
    line = await OrderLine.get(order_id=order.id)
    assert [(li["id"], li["shopifyLineItemId"]) for li in seen["lines"]] == [
        (gid("OrderLine", line.id), line.shopify_line_item_id)
    ]

    # The line's id from the order is what fulfillOrder takes, and what the fulfillment shows back.
    line_id = seen["lines"][0]["id"]
    shipped = (
        await api(
            FULFILL,
            {
                "input": {
                    "orderId": gid("Order", order.id),
                    "lines": [{"orderLineId": line_id, "quantity": 2}],
                    "trackingNumber": "T-9",
                    "idempotencyKey": key(),
                }
            },
        )
    )["fulfillOrder"]
    assert shipped["errors"] == []
    assert shipped["fulfillment"]["units"] == 2 and shipped["fulfillment"]["lines"] == [
        {"orderLine": {"id": line_id}, "quantity": 2}
    ]

    # Shopify refuses the fulfillmentCreate: with one try allowed, the order action parks.
    change_settings(push={"max_attempts": 1, "client_attempts": 1})
    shop.shop.faults.fail_next(1, status=502)
    assert await shopify_order_actions.push_order_actions() == 1
    status = (await api(STATUS))["syncStatus"]
    actions = status["orderActions"]
    assert (actions["pending"], actions["parked"], actions["lastDoneAt"]) == (0, 1, None)
    parked_rows = [e["node"] for e in actions["parkedRows"]["edges"]]
    assert [r["key"] for r in parked_rows] == [f"order_action:fulfill:{shipped_pk(shipped)}"]
    assert "502" in parked_rows[0]["lastError"]
    assert status["needsAttention"] == 1 and status["parked"] == 0

    change_settings(push={"max_attempts": 10, "client_attempts": 3})
    retried = (await api(RETRY_PARKED))["retryParkedSync"]
    assert retried == {
        "retried": 1,
        "retriedOrderActions": 1,
        "status": {"orderActions": {"pending": 1, "parked": 0}},
        "errors": [],
    }
    await shopify_order_actions.drain_order_actions(10)
    assert await OutboxRow.filter(topic=ORDER_ACTION_TOPIC, status=OutboxStatus.DONE).count() == 1
    fulfillment = await Fulfillment.get(order_id=order.id)
    assert fulfillment.status is FulfillmentStatus.SYNCED
    done = (await api(STATUS))["syncStatus"]
    assert done["orderActions"]["lastDoneAt"] is not None and done["needsAttention"] == 0

    # Order.fulfillments and the payload are one type: same id, enums, units and line ids.
    seen = (await api(ORDER, {"id": gid("Order", order.id)}))["node"]
    assert seen["fulfillments"] == [
        {
            "id": shipped["fulfillment"]["id"],
            "workflow": "SMART",
            "status": "SYNCED",
            "units": 2,
            "trackingNumber": "T-9",
            "lines": [{"orderLine": {"id": line_id}, "quantity": 2}],
        }
    ]


def shipped_pk(shipped: dict) -> int:
    from strawberry import relay

    return int(relay.GlobalID.from_id(shipped["fulfillment"]["id"]).node_id)


async def test_an_order_line_is_a_node_seen_by_whoever_sees_its_order(shop, api):  # noqa: F811
    branch, variant, _ = await stocked(3)
    order = await take_order(shop, branch, variant, 1)
    line = await OrderLine.get(order_id=order.id)
    line_id = gid("OrderLine", line.id)
    assert (await api(LINE, {"id": line_id}))["node"] == {
        "id": line_id,
        "sku": variant.sku,
        "quantity": 1,
        "reserved": 1,
    }
    clerk = await api.as_staff(Role.CASHIER, [branch.id])
    assert (await clerk(LINE, {"id": line_id}))["node"]["id"] == line_id
    other, _, _ = await stocked(1, skip_branches=(branch.id,))
    stranger = await api.as_staff(Role.CASHIER, [other.id])
    assert (await stranger(LINE, {"id": line_id}))["node"] is None


async def test_sync_status_changed_hears_of_webhooks_without_a_push(shop, monkeypatch):  # noqa: F811
    from resolvers import sync  # after the schema: resolvers and schema import each other

    monkeypatch.setattr(sync, "REFRESH_SECONDS", 0.05)
    statuses = sync.sync_status_changed(SimpleNamespace(context=SimpleNamespace(actor=SYSTEM)))
    first = await anext(statuses)
    assert (first.webhooks.pending, first.needs_attention) == (0, 0)

    await _store("orders/create", orjson.dumps({"id": 79}), "w-sub")
    second = await asyncio.wait_for(anext(statuses), 5)
    assert (second.webhooks.pending, second.webhooks.exceptions) == (1, 0)
    await shopify_inbox.process_inbox()
    third = await asyncio.wait_for(anext(statuses), 5)
    assert (third.webhooks.pending, third.webhooks.exceptions, third.needs_attention) == (0, 1, 1)

    # Nothing changes: no status is sent, however often the subscriber re-reads.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(statuses), 0.3)
    await statuses.aclose()
