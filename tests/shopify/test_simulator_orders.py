"""Order placement, fulfilment, cancellation, refunds, FO moves: their stock effects and GraphQL views."""

from __future__ import annotations

import pytest

ORDER_Q = """query($id: ID!) { order(id: $id) {
  id legacyResourceId name displayFinancialStatus displayFulfillmentStatus paymentGatewayNames cancelledAt cancelReason
  customer { id displayName }
  lineItems(first: 10) { nodes { id sku quantity currentQuantity unfulfilledQuantity variant { id } } }
  fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } }
    lineItems(first: 10) { nodes { id totalQuantity remainingQuantity lineItem { id } } } } }
  fulfillments { id name status trackingInfo { company number url } }
  refunds { id refundLineItems(first: 5) { nodes { quantity restockType location { id } } } }
} }"""


@pytest.fixture
def setup(sim_shop):
    """Two tracked variants with 10 available at the first location, 5 at the second."""
    tracked = [v for v in sim_shop.variants.values() if sim_shop.items[v.inventory_item_id].tracked][:2]
    locs = list(sim_shop.locations.values())
    for v in tracked:
        sim_shop.stock(v, locs[0], available=10)
        sim_shop.stock(v, locs[1], available=5)
    return tracked, locs


def q(shop, variant, loc):
    return shop.quantities(variant.gid, loc)


def test_placing_commits_stock_at_assigned_location(sim_shop, setup):
    (a, b), locs = setup
    customer = next(iter(sim_shop.customers.values()))
    order = sim_shop.place_order([(a.gid, 2), (b.gid, 1)], customer=customer)
    assert order.id > 2**53 and order.line_items[0].id > 2**53
    assert order.location_id == locs[0].id
    assert order.payment_gateway_names == ["Cash on Delivery (COD)"]
    assert order.financial_status == "PENDING"
    qa = q(sim_shop, a, locs[0])
    assert (qa["available"], qa["committed"], qa["on_hand"]) == (8, 2, 10)
    fo = sim_shop.fulfillment_orders[order.fulfillment_order_ids[0]]
    assert [li.remaining_quantity for li in fo.line_items] == [2, 1]


def test_location_falls_to_one_that_has_enough(sim_shop, setup):
    (a, _), locs = setup
    sim_shop.stock(a, locs[0], available=1)
    order = sim_shop.place_order([(a.gid, 3)], gateway="Bank Deposit")
    assert order.location_id == locs[1].id
    assert order.financial_status == "PAID"


def test_fulfil_removes_committed_and_on_hand(sim_shop, setup):
    (a, b), locs = setup
    order = sim_shop.place_order([(a.gid, 2), (b.gid, 1)])
    sim_shop.fulfill(order.gid, lines=[(order.line_items[0].gid, 1)], tracking={"company": "TCS", "number": "TCS123"})
    qa = q(sim_shop, a, locs[0])
    assert (qa["available"], qa["committed"], qa["on_hand"]) == (8, 1, 9)
    assert order.fulfillment_status == "PARTIALLY_FULFILLED"
    sim_shop.fulfill(order.gid)
    assert order.fulfillment_status == "FULFILLED"
    qa, qb = q(sim_shop, a, locs[0]), q(sim_shop, b, locs[0])
    assert (qa["committed"], qa["on_hand"], qb["committed"], qb["on_hand"]) == (0, 8, 0, 9)
    assert sim_shop.fulfillment_orders[order.fulfillment_order_ids[0]].status == "CLOSED"


def test_cancel_with_and_without_restock(sim_shop, setup):
    (a, _), locs = setup
    o1 = sim_shop.place_order([(a.gid, 3)])
    sim_shop.cancel_order(o1.gid, restock=True)
    qa = q(sim_shop, a, locs[0])
    assert (qa["available"], qa["committed"]) == (10, 0)
    assert o1.cancelled_at is not None and o1.financial_status == "VOIDED"
    o2 = sim_shop.place_order([(a.gid, 3)])
    sim_shop.cancel_order(o2.gid, restock=False)
    qa = q(sim_shop, a, locs[0])
    assert (qa["available"], qa["committed"], qa["on_hand"]) == (7, 0, 7)
    with pytest.raises(ValueError, match="already been cancelled"):
        sim_shop.cancel_order(o2.gid)


def test_refund_cancel_and_return_restock(sim_shop, setup):
    (a, b), locs = setup
    order = sim_shop.place_order([(a.gid, 2), (b.gid, 2)])
    la, lb = order.line_items
    # One unit of `a` cancelled before shipping goes back to available.
    sim_shop.refund(order.gid, [(la.gid, 1, "CANCEL", locs[0].gid)])
    qa = q(sim_shop, a, locs[0])
    assert (qa["available"], qa["committed"]) == (9, 1)
    sim_shop.fulfill(order.gid)
    # A shipped unit of `b` returned to the second branch.
    sim_shop.refund(order.gid, [(lb.gid, 1, "RETURN", locs[1].gid)])
    assert q(sim_shop, b, locs[1])["available"] == 6
    assert q(sim_shop, b, locs[0])["on_hand"] == 8
    assert order.financial_status == "PARTIALLY_REFUNDED"
    with pytest.raises(ValueError, match="more items"):
        sim_shop.refund(order.gid, [(la.gid, 2, "RETURN", locs[0].gid)])


async def test_order_graphql_view_and_search(sim, setup):
    (a, b), locs = setup
    shop = sim.shop
    customer = next(iter(shop.customers.values()))
    order = shop.place_order([(a.gid, 2), (b.gid, 1)], customer=customer)
    data = await sim.data(ORDER_Q, {"id": order.gid})
    o = data["order"]
    assert o["legacyResourceId"] == str(order.id)
    assert o["displayFinancialStatus"] == "PENDING" and o["displayFulfillmentStatus"] == "UNFULFILLED"
    assert o["customer"]["id"] == customer.gid
    assert [li["unfulfilledQuantity"] for li in o["lineItems"]["nodes"]] == [2, 1]
    fo = o["fulfillmentOrders"]["nodes"][0]
    assert fo["status"] == "OPEN" and fo["assignedLocation"]["location"]["id"] == locs[0].gid
    stamp = order.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    search = "query($q: String) { orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id } } }"
    newer = await sim.data(search, {"q": f"updated_at:>='{stamp}'"})
    assert [n["id"] for n in newer["orders"]["nodes"]] == [order.gid]
    older = await sim.data(search, {"q": "updated_at:<'2020-01-01T00:00:00Z'"})
    assert older["orders"]["nodes"] == []


async def test_fulfillment_create_mutation_and_event(sim, setup):
    (a, b), locs = setup
    order = sim.shop.place_order([(a.gid, 2), (b.gid, 1)])
    fo = sim.shop.fulfillment_orders[order.fulfillment_order_ids[0]]
    m = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
      fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }"""
    f = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo.gid, "fulfillmentOrderLineItems": [{"id": fo.line_items[0].gid, "quantity": 2}]}
        ],
        "trackingInfo": {"company": "Leopards", "number": "LP-1", "url": "https://track.example/LP-1"},
    }
    data = await sim.data(m, {"f": f})
    created = data["fulfillmentCreate"]
    assert created["userErrors"] == []
    assert created["fulfillment"]["trackingInfo"] == [
        {"company": "Leopards", "number": "LP-1", "url": "https://track.example/LP-1"}
    ]
    assert q(sim.shop, a, locs[0])["committed"] == 0
    too_many = await sim.data(m, {"f": f})
    assert too_many["fulfillmentCreate"]["fulfillment"] is None
    assert too_many["fulfillmentCreate"]["userErrors"]
    ev = """mutation($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) {
      fulfillmentEvent { id status } userErrors { message } } }"""
    data = await sim.data(ev, {"e": {"fulfillmentId": created["fulfillment"]["id"], "status": "DELIVERED"}})
    assert data["fulfillmentEventCreate"]["fulfillmentEvent"]["status"] == "DELIVERED"


async def test_fulfillment_order_move_splits_and_moves_commitment(sim, setup):
    (a, b), locs = setup
    order = sim.shop.place_order([(a.gid, 2), (b.gid, 1)], location=locs[0])
    fo = sim.shop.fulfillment_orders[order.fulfillment_order_ids[0]]
    m = """mutation($id: ID!, $to: ID!, $lines: [FulfillmentOrderLineItemInput!]) {
      fulfillmentOrderMove(id: $id, newLocationId: $to, fulfillmentOrderLineItems: $lines) {
        movedFulfillmentOrder { id assignedLocation { location { id } }
          lineItems(first: 5) { nodes { remainingQuantity } } }
        originalFulfillmentOrder { id lineItems(first: 5) { nodes { remainingQuantity } } }
        userErrors { field message } } }"""
    data = await sim.data(m, {"id": fo.gid, "to": locs[1].gid, "lines": [{"id": fo.line_items[0].gid, "quantity": 1}]})
    moved = data["fulfillmentOrderMove"]
    assert moved["userErrors"] == []
    assert moved["movedFulfillmentOrder"]["id"] != fo.gid
    assert moved["movedFulfillmentOrder"]["assignedLocation"]["location"]["id"] == locs[1].gid
    assert [n["remainingQuantity"] for n in moved["originalFulfillmentOrder"]["lineItems"]["nodes"]] == [1, 1]
    assert (q(sim.shop, a, locs[0])["committed"], q(sim.shop, a, locs[1])["committed"]) == (1, 1)
    assert q(sim.shop, a, locs[1])["available"] == 4


async def test_order_cancel_mutation_returns_job(sim, setup):
    (a, _), locs = setup
    order = sim.shop.place_order([(a.gid, 4)])
    m = """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true,
      refundMethod: {originalPaymentMethodsRefund: true}, notifyCustomer: false, staffNote: "dup") {
      job { id done } orderCancelUserErrors { field message code } } }"""
    data = await sim.data(m, {"id": order.gid})
    assert data["orderCancel"]["orderCancelUserErrors"] == []
    assert data["orderCancel"]["job"]["id"].startswith("gid://shopify/Job/")
    assert q(sim.shop, a, locs[0])["available"] == 10
    again = await sim.data(m, {"id": order.gid})
    assert again["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"


async def test_refund_create_is_idempotent(sim, setup):
    (a, _), locs = setup
    order = sim.shop.place_order([(a.gid, 3)])
    sim.shop.fulfill(order.gid)
    m = """mutation($input: RefundInput!, $key: String!) { refundCreate(input: $input) @idempotent(key: $key) {
      refund { id } order { id displayFinancialStatus } userErrors { field message code } } }"""
    inp = {
        "orderId": order.gid,
        "refundLineItems": [
            {"lineItemId": order.line_items[0].gid, "quantity": 1, "restockType": "RETURN", "locationId": locs[0].gid}
        ],
    }
    first = await sim.data(m, {"input": inp, "key": "r-1"})
    second = await sim.data(m, {"input": inp, "key": "r-1"})
    assert first == second and first["refundCreate"]["userErrors"] == []
    assert first["refundCreate"]["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert len(sim.shop.refunds) == 1
    assert q(sim.shop, a, locs[0])["available"] == 8
    keyless = await sim.gql(m.replace("@idempotent(key: $key)", "").replace(", $key: String!", ""), {"input": inp})
    assert "@idempotent" in keyless["errors"][0]["message"]


async def test_control_endpoints_drive_the_order_lifecycle(sim, setup):
    (a, _), locs = setup
    base = f"{sim.url}/_sim"
    resp = await sim.client.post(f"{base}/orders", json={"lines": [[a.gid, 3]], "gateway": "Cash on Delivery (COD)"})
    order = resp.json()
    assert resp.status_code == 200 and order["locationId"] == locs[0].gid
    numeric = order["legacyResourceId"]
    line = order["lineItems"][0]["id"]
    got = await sim.client.post(f"{base}/orders/{numeric}/fulfill", json={"lines": [[line, 1]]})
    assert got.json()["order"]["fulfillmentStatus"] == "PARTIALLY_FULFILLED"
    lines = [[line, 2, "CANCEL", locs[0].gid]]
    refund = await sim.client.post(f"{base}/orders/{numeric}/refund", json={"lines": lines})
    assert refund.status_code == 200, refund.text
    levels = await sim.client.get(f"{base}/inventory", params={"inventory_item_id": a.gid, "location_id": locs[0].gid})
    assert (levels.json()["available"], levels.json()["committed"], levels.json()["on_hand"]) == (9, 0, 9)
    bad = await sim.client.post(f"{base}/orders/{numeric}/cancel", json={"restock": True})
    assert bad.status_code == 400 and "fulfillments" in bad.json()["error"]
    body = {"variant_id": a.gid, "location_id": locs[0].gid, "quantity": 4}
    setq = await sim.client.post(f"{base}/inventory", json=body)
    assert setq.json()["available"] == 4
