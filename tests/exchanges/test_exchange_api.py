"""exchangeOrderItems and exchangeDeliveredItems over GraphQL: payloads, typed errors, access, Order.exchanges."""

from models.branches import Branch
from models.orders import OrderLine
from models.staff import Role
from schema.ids import global_id
from tests.api.conftest import anonymous  # noqa: F401  (fixture)
from tests.exchanges.conftest import (
    another_variant,
    assert_agree,
    deliver,
    key,
    settle,
    stocked,
    take_order,
    use_workflow,
)

BEFORE = """
mutation($input: ExchangeOrderItemsInput!) {
  exchangeOrderItems(input: $input) {
    exchange {
      id kind status priceDifference { amount currency }
      lines { orderLine { id } newOrderLine { id sku } quantity fromVariant { id } toVariant { id } }
      order { id } branch { code } actor { name }
    }
    order { status exchanges { status } lines { sku quantity reserved } }
    errors { field message code }
  }
}
"""
AFTER = """
mutation($input: ExchangeDeliveredItemsInput!) {
  exchangeDeliveredItems(input: $input) {
    exchange { kind status courier trackingNumber lines { condition quantity } }
    errors { field message code }
  }
}
"""
FULFILL = """
mutation($input: FulfillOrderInput!) { fulfillOrder(input: $input) { errors { code } } }
"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


async def test_exchange_before_and_after_delivery_over_graphql(shop, anonymous):  # noqa: F811
    branch, a, _ = await stocked(3)
    await use_workflow(branch, "smart")
    b, _ = await another_variant(branch, a, 2)
    order = await take_order(shop, branch, a, 2)
    line = await OrderLine.get(order_id=order.id)
    clerk = await anonymous.as_staff(Role.CASHIER, [branch.id])
    swap = {
        "orderId": gid("Order", order.id),
        "lines": [
            {"shopifyLineItemId": line.shopify_line_item_id, "quantity": 1, "newVariantId": gid("Variant", b.id)}
        ],
        "idempotencyKey": key(),
    }
    data = (await clerk(BEFORE, {"input": swap}))["exchangeOrderItems"]
    assert data["errors"] == []
    exchange = data["exchange"]
    assert (exchange["kind"], exchange["status"]) == ("BEFORE_DISPATCH", "PENDING")
    assert exchange["lines"][0]["orderLine"] == {"id": gid("OrderLine", line.id)}
    assert exchange["lines"][0]["toVariant"] == {"id": gid("Variant", b.id)}
    assert exchange["lines"][0]["fromVariant"] == {"id": gid("Variant", a.id)}
    assert exchange["lines"][0]["newOrderLine"]["sku"] == b.sku
    assert exchange["priceDifference"] == {"amount": str(b.price - line.unit_price), "currency": order.currency}
    assert (exchange["order"], exchange["branch"], exchange["actor"]) == (
        {"id": gid("Order", order.id)},
        {"code": branch.code},
        {"name": f"{Role.CASHIER.value} user"},
    )
    assert sorted((x["sku"], x["quantity"], x["reserved"]) for x in data["order"]["lines"]) == sorted(
        [(a.sku, 1, 1), (b.sku, 1, 1)]
    )
    again = (await clerk(BEFORE, {"input": swap}))["exchangeOrderItems"]  # a retry returns the first result
    assert again["exchange"]["id"] == exchange["id"] and again["order"]["exchanges"] == [{"status": "PENDING"}]

    await settle(shop)
    fulfil = {"orderId": gid("Order", order.id), "idempotencyKey": key()}
    assert (await clerk(FULFILL, {"input": fulfil}))["fulfillOrder"]["errors"] == []
    await settle(shop)
    await deliver(shop, "fulfillments/")
    await assert_agree(shop)

    back = {
        "orderId": gid("Order", order.id),
        "lines": [
            {
                "orderLineId": gid("OrderLine", line.id),
                "quantity": 1,
                "newVariantId": gid("Variant", b.id),
                "damaged": True,
            }
        ],
        "courier": "TCS",
        "trackingNumber": "TCS-77",
        "idempotencyKey": key(),
    }
    data = (await clerk(AFTER, {"input": back}))["exchangeDeliveredItems"]
    assert data["errors"] == []
    assert data["exchange"] == {
        "kind": "AFTER_DELIVERY",
        "status": "DONE",
        "courier": "TCS",
        "trackingNumber": "TCS-77",
        "lines": [{"condition": "DAMAGED", "quantity": 1}],
    }
    await settle(shop)
    await assert_agree(shop)


async def test_bad_input_and_other_branches_get_typed_errors(shop, anonymous):  # noqa: F811
    branch, a, _ = await stocked(3)
    b, _ = await another_variant(branch, a, 1)
    order = await take_order(shop, branch, a, 1)
    line = await OrderLine.get(order_id=order.id)
    other = next(x for x in await Branch.all() if x.id != branch.id)
    outsider = await anonymous.as_staff(Role.CASHIER, [other.id])
    swap = {
        "orderId": gid("Order", order.id),
        "lines": [{"orderLineId": gid("OrderLine", line.id), "quantity": 1, "newVariantId": gid("Variant", b.id)}],
        "idempotencyKey": key(),
    }
    for document in (BEFORE, AFTER):
        body = await outsider.raw(document, {"input": swap})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    clerk = await anonymous.as_staff(Role.CASHIER, [branch.id])
    bad = {**swap, "lines": [{**swap["lines"][0], "quantity": 0, "newVariantId": "not-an-id"}]}
    data = (await clerk(BEFORE, {"input": bad}))["exchangeOrderItems"]
    assert data["exchange"] is None and {e["field"] for e in data["errors"]} >= {"lines.0.newVariantId"}
    data = (await clerk(AFTER, {"input": swap}))["exchangeDeliveredItems"]  # nothing delivered yet
    assert data["exchange"] is None and data["errors"][0]["code"] == "ALREADY_RETURNED"
    assert await OrderLine.filter(order_id=order.id).count() == 1
