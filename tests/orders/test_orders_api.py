"""The online-orders screen over GraphQL: the orders list, COD buttons, routing, and orderEvents."""

import asyncio
from types import SimpleNamespace

from models.branches import Branch
from models.orders import Order
from models.staff import Role
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.orders.conftest import stocked

ORDERS = """
query($branches: [ID!], $cod: CodStatus) {
  orders(first: 10, branchIds: $branches, codStatus: $cod) {
    edges { node { id name status codStatus isCod exceptionCode branch { code }
      lines { sku quantity reserved variant { sku } } history { kind } fulfillments { units } } }
  }
}
"""
CONFIRM = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { order { codStatus } errors { code message } } }"
DELIVERED = "mutation($id: ID!) { markOrderDelivered(input: {orderId: $id}) { order { codStatus } errors { code } } }"
ASSIGN = """mutation($id: ID!, $b: ID!, $k: String!) {
  assignOrderBranch(input: {orderId: $id, branchId: $b, idempotencyKey: $k}) {
    order { branch { code } } errors { code } }
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
    assert node["history"] == [{"kind": "created"}]
    wrong = await api(DELIVERED, {"id": node["id"]})
    assert wrong["markOrderDelivered"]["errors"][0]["code"] == "WRONG_STATE"
    done = await api(CONFIRM, {"id": node["id"]})
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
    await asyncio.sleep(0.2)  # subscribed before the order arrives
    shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    created = await asyncio.wait_for(first, 5)
    assert created.kind == "created" and created.branch_id == global_id("Branch", branch.id)
    assert created.cod_status.value == "pending_confirmation"
    from operations.orders import steps as order_steps

    await order_steps.confirm_order(SYSTEM, (await Order.first()).id)
    confirmed = await asyncio.wait_for(anext(stream), 5)
    assert confirmed.kind == "confirmed" and confirmed.cod_status.value == "confirmed"
    await stream.aclose()
