"""fulfillOrder, recordManualFulfillment and receiveReturnedOrder over GraphQL: payloads, typed errors, access."""

from models.orders import OrderLine
from models.staff import Role
from schema.ids import global_id
from tests.api.conftest import anonymous  # noqa: F401  (fixture)
from tests.fulfillment.conftest import assert_agree, confirm_cod, key, settle, stocked, take_order, use_workflow

FULFILL = """
mutation($input: FulfillOrderInput!) {
  fulfillOrder(input: $input) {
    order { id name status codStatus courier trackingNumber }
    fulfillment {
      id workflow status trackingCompany trackingNumber shopifyFulfillmentId lines { orderLine { id } quantity }
      order { id } branch { code } actor { name }
    }
    errors { field message code }
  }
}
"""
MANUAL = FULFILL.replace("FulfillOrderInput!", "RecordManualFulfillmentInput!").replace(
    "fulfillOrder(", "recordManualFulfillment("
)
RECEIVE = """
mutation($input: ReceiveReturnedOrderInput!) {
  receiveReturnedOrder(input: $input) { codStatus order { id codStatus } errors { field message code } }
}
"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


async def test_fulfil_and_receive_back_over_graphql(shop, anonymous):  # noqa: F811
    branch, variant, _before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2, cod=True)
    await confirm_cod(order)
    line = await OrderLine.get(order_id=order.id)
    clerk = await anonymous.as_staff(Role.CASHIER, [branch.id])
    variables = {
        "input": {
            "orderId": gid("Order", order.id),
            "lines": [{"orderLineId": gid("OrderLine", line.id), "quantity": 2}],
            "courier": "TCS",
            "trackingNumber": "TCS-1",
            "idempotencyKey": key(),
        }
    }
    data = (await clerk(FULFILL, variables))["fulfillOrder"]
    assert data["errors"] == [] and data["order"]["id"] == gid("Order", order.id)
    assert data["order"] == {
        "id": gid("Order", order.id),
        "name": order.name,
        "status": "FULFILLED",
        "codStatus": "DISPATCHED",
        "courier": "TCS",
        "trackingNumber": "TCS-1",
    }
    shipped = data["fulfillment"]
    assert (shipped["workflow"], shipped["status"], shipped["trackingCompany"]) == ("SMART", "PENDING", "TCS")
    assert shipped["lines"] == [{"orderLine": {"id": gid("OrderLine", line.id)}, "quantity": 2}]
    assert (shipped["order"], shipped["branch"], shipped["actor"]) == (
        {"id": gid("Order", order.id)},
        {"code": branch.code},
        {"name": f"{Role.CASHIER.value} user"},  # who recorded it: the clerk (who may see themself)
    )

    again = (await clerk(FULFILL, {"input": {**variables["input"], "idempotencyKey": key()}}))["fulfillOrder"]
    assert again["fulfillment"] is None
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("ALREADY_FULFILLED", "lines.0.quantity")]
    wrong = (await clerk(MANUAL, {"input": {**variables["input"], "idempotencyKey": key()}}))["recordManualFulfillment"]
    assert wrong["errors"][0]["code"] == "WRONG_STATE"

    await settle(shop)
    receipt = {
        "orderId": gid("Order", order.id),
        "lines": [{"shopifyLineItemId": line.shopify_line_item_id, "restock": 1, "damaged": 1}],
        "idempotencyKey": key(),
    }
    back = (await clerk(RECEIVE, {"input": receipt}))["receiveReturnedOrder"]
    assert back == {
        "codStatus": "RETURNED",
        "order": {"id": gid("Order", order.id), "codStatus": "RETURNED"},
        "errors": [],
    }
    await settle(shop)
    await assert_agree(shop)


async def test_staff_of_another_branch_are_refused(shop, anonymous):  # noqa: F811
    branch, variant, _ = await stocked(3)
    other, _, _ = await stocked(3, skip_branches=(branch.id,))
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 1)
    outsider = await anonymous.as_staff(Role.CASHIER, [other.id])
    body = await outsider.raw(FULFILL, {"input": {"orderId": gid("Order", order.id), "idempotencyKey": key()}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await anonymous.raw(FULFILL, {"input": {"orderId": gid("Order", order.id), "idempotencyKey": key()}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    bad = await outsider(FULFILL, {"input": {"orderId": "nonsense", "idempotencyKey": key()}})
    assert bad["fulfillOrder"]["errors"][0]["code"] == "INVALID"
