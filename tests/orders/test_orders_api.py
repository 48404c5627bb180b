"""The online-orders screen over GraphQL: the orders list, COD buttons, routing, and orderEvents."""

import asyncio
from types import SimpleNamespace

import pytest

from models.branches import Branch
from models.orders import CodStatus, Order, OrderHistory
from models.staff import Role
from models.stock import StockMovement
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from subscriptions import live
from subscriptions.channels import orders_channel
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import key, stock
from tests.orders.conftest import stocked
from tests.security.live_sockets import until_subscribed

ORDERS = """
query($branches: [ID!], $cod: CodStatus) {
  orders(first: 10, branchIds: $branches, codStatus: $cod) {
    edges { node { id name status codStatus isCod exceptionCode branch { code }
      lines { sku quantity reserved variant { sku } } history { kind } fulfillments { units } } }
  }
}
"""
CONFIRM = """mutation($id: ID!, $k: String!) {
  confirmOrder(input: {orderId: $id, idempotencyKey: $k}) { order { codStatus } errors { code message } } }"""
DELIVERED = """mutation($id: ID!, $k: String!) {
  markOrderDelivered(input: {orderId: $id, idempotencyKey: $k}) { order { codStatus } errors { code } } }"""
REFUSED = """mutation($id: ID!, $k: String!) {
  markOrderRefused(input: {orderId: $id, idempotencyKey: $k}) { order { codStatus } errors { code } } }"""
CANCEL = """mutation($id: ID!, $k: String!, $reason: OrderCancelReason! = CUSTOMER) {
  cancelOrder(input: {orderId: $id, idempotencyKey: $k, reason: $reason}) {
    order { status codStatus } errors { code field } } }"""
ASSIGN = """mutation($id: ID!, $b: ID!, $k: String!) {
  assignOrderBranch(input: {orderId: $id, branchId: $b, idempotencyKey: $k}) {
    order { branch { code } } errors { code field } }
}"""


async def test_the_orders_screen_lists_confirms_and_refuses_wrong_steps(shop, api):  # noqa: F811
    branch, variant, _ = await stocked(2)
    shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    branch_gid = str(global_id("Branch", branch.id))
    data = await api(ORDERS, {"branches": [branch_gid], "cod": "PENDING_CONFIRMATION"})
    [edge] = data["orders"]["edges"]
    node = edge["node"]
    assert node["isCod"] and node["branch"]["code"] == branch.code and node["status"] == "OPEN"
    assert node["lines"] == [{"sku": variant.sku, "quantity": 1, "reserved": 1, "variant": {"sku": variant.sku}}]
    assert node["history"] == [{"kind": "CREATED"}]
    wrong = await api(DELIVERED, {"id": node["id"], "k": key()})
    assert wrong["markOrderDelivered"]["errors"][0]["code"] == "WRONG_STATE"
    done = await api(CONFIRM, {"id": node["id"], "k": key()})
    assert done["confirmOrder"] == {"order": {"codStatus": "CONFIRMED"}, "errors": []}


async def test_a_cashier_sees_only_their_branch_and_cannot_route(shop, api):  # noqa: F811
    branch, variant, _ = await stocked(2)
    shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    order = await Order.first()
    other = await Branch.exclude(id=branch.id).first()
    elsewhere = await api.as_staff(Role.CASHIER, [other.id])
    assert (await elsewhere(ORDERS, {}))["orders"]["edges"] == []
    here = await api.as_staff(Role.CASHIER, [branch.id])
    assert len((await here(ORDERS, {}))["orders"]["edges"]) == 1
    body = await here.raw(
        ASSIGN, {"id": str(global_id("Order", order.id)), "b": str(global_id("Branch", branch.id)), "k": "r1"}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_order_events_announce_new_orders_and_steps_at_the_branch(shop):
    from resolvers.orders import order_events  # after the schema: resolvers import it

    branch, variant, _ = await stocked(2)
    info = SimpleNamespace(context=SimpleNamespace(response=None, actor=SYSTEM))
    stream = order_events(info, [str(global_id("Branch", branch.id))])
    first = asyncio.create_task(anext(stream))
    await until_subscribed(live.current(), orders_channel(branch.id))  # subscribed before the order arrives
    shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    created = await asyncio.wait_for(first, 5)
    assert created.kind.name == "CREATED" and created.branch_pk == branch.id
    assert created.cod_status.value == "pending_confirmation"
    from operations.orders import steps as order_steps

    await order_steps.confirm_order(SYSTEM, (await Order.first()).id, key("confirm"))
    confirmed = await asyncio.wait_for(anext(stream), 5)
    assert confirmed.kind.name == "CONFIRMED" and confirmed.cod_status.value == "confirmed"
    await stream.aclose()


# --- each step's idempotency key: a repeat returns the first result and changes nothing --------------

HISTORY = "query($id: ID!) { node(id: $id) { ... on Order { codStatus history { kind } } } }"
# (mutation, its document, the COD status it needs, the one it leaves, the history entry it writes)
COD_STEPS = [
    ("confirmOrder", CONFIRM, CodStatus.PENDING_CONFIRMATION, "CONFIRMED", "CONFIRMED"),
    ("markOrderDelivered", DELIVERED, CodStatus.DISPATCHED, "DELIVERED", "DELIVERED"),
    ("markOrderRefused", REFUSED, CodStatus.DISPATCHED, "RETURNING", "REFUSED"),
]


async def _cod_orders(shop, n: int) -> list[Order]:
    branch, variant, _ = await stocked(n)
    for _ in range(n):
        shop.shop.place_order(
            [(variant.shopify_variant_id, 1)], gateway="Cash on Delivery (COD)", location=branch.shopify_location_id
        )
    await shop.hooks.deliver()
    return await Order.all().order_by("id")


@pytest.mark.parametrize(("mutation", "document", "needs", "leaves", "entry"), COD_STEPS)
async def test_a_cod_step_repeated_with_its_key_returns_the_first_result_and_applies_once(
    shop,
    api,  # noqa: F811
    mutation,
    document,
    needs,
    leaves,
    entry,
):
    order, other = await _cod_orders(shop, 2)
    await Order.filter(id__in=[order.id, other.id]).update(cod_status=needs)
    gid = str(global_id("Order", order.id))
    step_key = key("step")
    first = (await api(document, {"id": gid, "k": step_key}))[mutation]
    assert first == {"order": {"codStatus": leaves}, "errors": []}
    written = await OrderHistory.filter(order_id=order.id).count()
    # The order is where the step can be taken again: the same key must not take it a second time.
    await Order.filter(id=order.id).update(cod_status=needs)
    again = (await api(document, {"id": gid, "k": step_key}))[mutation]
    assert again == {"order": {"codStatus": needs.name}, "errors": []}  # the first result: the order, no error
    assert await OrderHistory.filter(order_id=order.id).count() == written
    shown = (await api(HISTORY, {"id": gid}))["node"]
    assert [h["kind"] for h in shown["history"]].count(entry) == 1
    # Another key is another request: it applies.
    assert (await api(document, {"id": gid, "k": key("step")}))[mutation]["order"] == {"codStatus": leaves}
    # The key for another order is a client's mistake, refused; that order is untouched.
    reused = (await api(document, {"id": str(global_id("Order", other.id)), "k": step_key}))[mutation]
    assert reused["order"] is None and [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await Order.get(id=other.id)).cod_status is needs


async def test_a_confirmation_repeated_after_the_order_shipped_is_its_first_answer_not_wrong_state(
    shop,
    api,  # noqa: F811
):
    [order] = await _cod_orders(shop, 1)
    gid = str(global_id("Order", order.id))
    step_key = key("confirm")
    assert (await api(CONFIRM, {"id": gid, "k": step_key}))["confirmOrder"]["errors"] == []
    await Order.filter(id=order.id).update(cod_status=CodStatus.DISPATCHED)  # shipped meanwhile
    again = (await api(CONFIRM, {"id": gid, "k": step_key}))["confirmOrder"]
    assert again == {"order": {"codStatus": "DISPATCHED"}, "errors": []}
    fresh = (await api(CONFIRM, {"id": gid, "k": key("confirm")}))["confirmOrder"]
    assert [e["code"] for e in fresh["errors"]] == ["WRONG_STATE"]


async def test_a_cancellation_repeated_with_its_key_releases_once(shop, api):  # noqa: F811
    order, other = await _cod_orders(shop, 2)
    gid = str(global_id("Order", order.id))
    cancel_key = key("cancel")
    first = (await api(CANCEL, {"id": gid, "k": cancel_key}))["cancelOrder"]
    assert first == {"order": {"status": "CANCELLED", "codStatus": "CANCELLED"}, "errors": []}
    released = await StockMovement.filter(reason="order_released").count()
    written = await OrderHistory.filter(order_id=order.id).count()
    assert released == 1
    again = (await api(CANCEL, {"id": gid, "k": cancel_key}))["cancelOrder"]
    assert again == first
    assert await StockMovement.filter(reason="order_released").count() == released
    assert await OrderHistory.filter(order_id=order.id).count() == written
    for variables in ({"id": gid, "k": cancel_key, "reason": "FRAUD"}, {"id": str(global_id("Order", other.id))}):
        reused = (await api(CANCEL, {"k": cancel_key, **variables}))["cancelOrder"]
        assert reused["order"] is None and reused["errors"] == [
            {"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}
        ]
    assert (await Order.get(id=other.id)).cod_status is CodStatus.PENDING_CONFIRMATION


async def test_a_routing_repeated_with_its_key_moves_the_order_once(shop, api):  # noqa: F811
    branch, variant, _ = await stocked(2)
    other = await Branch.filter(shopify_location_id__isnull=False).exclude(id=branch.id).order_by("id").first()
    await stock(other.id, variant.id, 5)
    shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    order = await Order.first()
    gid, there, back = (
        str(global_id("Order", order.id)),
        str(global_id("Branch", other.id)),
        str(global_id("Branch", branch.id)),
    )
    route_key = key("route")
    first = (await api(ASSIGN, {"id": gid, "b": there, "k": route_key}))["assignOrderBranch"]
    assert first == {"order": {"branch": {"code": other.code}}, "errors": []}
    assert (await api(ASSIGN, {"id": gid, "b": back, "k": key("route")}))["assignOrderBranch"]["errors"] == []
    routed = await OrderHistory.filter(order_id=order.id, kind="routed").count()
    again = (await api(ASSIGN, {"id": gid, "b": there, "k": route_key}))["assignOrderBranch"]
    assert again == {"order": {"branch": {"code": branch.code}}, "errors": []}  # not moved a second time
    assert await OrderHistory.filter(order_id=order.id, kind="routed").count() == routed
    reused = (await api(ASSIGN, {"id": gid, "b": back, "k": route_key}))["assignOrderBranch"]
    assert reused == {"order": None, "errors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}]}
