"""The purchasing GraphQL contract: suppliers, orders, goods received, valuation; typed errors,
refusals, idempotent replays and racing receipts, through the in-process API."""

import asyncio

from models.purchasing import GoodsReceipt, Supplier
from models.staff import AuditEntry, Role
from models.stock import StockLevel, StockMovement
from tests.factories import make_branch, stock

ERRORS = "errors { field message code }"
ORDER_FIELDS = """
  id number status outstanding total { amount currency }
  supplier { name ntn } branch { code } createdBy { name role }
  lines { id lineNo quantityOrdered quantityReceived quantityCancelled outstanding
          unitCost { amount } variant { sku } }
"""
CREATE_SUPPLIER = f"""
mutation($input: CreateSupplierInput!) {{
  createSupplier(input: $input) {{ supplier {{ id name ntn active }} {ERRORS} }}
}}"""
CREATE_ORDER = f"""
mutation($input: CreatePurchaseOrderInput!) {{
  createPurchaseOrder(input: $input) {{ purchaseOrder {{ {ORDER_FIELDS} }} {ERRORS} }}
}}"""
PLACE = f"""
mutation($input: PlacePurchaseOrderInput!) {{
  placePurchaseOrder(input: $input) {{ purchaseOrder {{ number status }} {ERRORS} }}
}}"""
CLOSE = f"""
mutation($input: ClosePurchaseOrderInput!) {{
  closePurchaseOrder(input: $input) {{ purchaseOrder {{ status outstanding lines {{ quantityCancelled }} }} {ERRORS} }}
}}"""
CANCEL = f"""
mutation($input: CancelPurchaseOrderInput!) {{
  cancelPurchaseOrder(input: $input) {{ purchaseOrder {{ status }} {ERRORS} }}
}}"""
RECEIVE = f"""
mutation($input: ReceiveGoodsInput!) {{
  receiveGoods(input: $input) {{
    goodsReceipt {{
      id number receivedBy {{ name }} total {{ amount }}
      lines {{ quantity unitCost {{ amount }} averageCostBefore {{ amount }} averageCostAfter {{ amount }}
              onHandBefore variant {{ sku }} purchaseOrderLine {{ lineNo quantityReceived unitCost {{ amount }} }} }}
    }}
    purchaseOrder {{ status outstanding }}
    {ERRORS}
  }}
}}"""
ORDERS = f"""
query($branch: ID, $status: PurchaseOrderStatus, $first: Int!, $after: String) {{
  purchaseOrders(branchId: $branch, status: $status, first: $first, after: $after) {{
    edges {{ node {{ {ORDER_FIELDS} receipts {{ number }} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
VALUATION = """
query($branch: ID!) {
  stockValuation(branchId: $branch) {
    value { amount currency } unitsValued variantsValued uncostedUnits uncostedCount
    uncosted { onHand variant { sku } } branch { code }
  }
}"""
NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on PurchaseOrder { number status }
    ... on GoodsReceipt { number purchaseOrder { number } lines { quantity } }
    ... on Supplier { name }
  }
}"""
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { variants { id sku } } errors { code } }
}"""


async def _shop(api):
    """Lahore with 10 lawn suits (no cost yet), Karachi, a product with a barcoded variant, a supplier."""
    lahore, karachi = await make_branch("LHR"), await make_branch("KHI")
    data = await api(
        CREATE_PRODUCT,
        {
            "input": {
                "title": "Lawn suit",
                "variants": [
                    {"sku": "LAWN-S", "price": "4500.00", "barcode": "8960000000011"},
                    {"sku": "LAWN-M", "price": "4500.00"},
                ],
                "idempotencyKey": "lawn",
            }
        },
    )
    variants = data["createProduct"]["product"]["variants"]
    from schema.ids import decode

    await stock(lahore.id, decode(variants[0]["id"], "Variant", "id"), 10)
    supplier = (
        await api(
            CREATE_SUPPLIER,
            {"input": {"name": "Gul Ahmed Wholesale", "ntn": "7654321-0", "idempotencyKey": "sup-1"}},
        )
    )["createSupplier"]["supplier"]
    return lahore, karachi, variants, supplier


def _gid(type_name: str, pk: int) -> str:
    from schema.ids import global_id

    return str(global_id(type_name, pk))


async def test_order_receive_in_two_grns_and_value_the_branch(api):
    lahore, _, variants, supplier = await _shop(api)
    repeat = {"name": "Gul Ahmed Wholesale", "ntn": "7654321-0", "idempotencyKey": "sup-1"}
    again = await api(CREATE_SUPPLIER, {"input": repeat})
    assert again["createSupplier"]["supplier"]["id"] == supplier["id"]  # a repeated key: the first supplier

    created = await api(
        CREATE_ORDER,
        {
            "input": {
                "supplierId": supplier["id"],
                "branchId": _gid("Branch", lahore.id),
                "lines": [
                    {"variant": {"barcode": "8960000000011"}, "quantity": 20, "unitCost": "2000.00"},
                    {"variant": {"sku": "LAWN-M"}, "quantity": 6, "unitCost": "2100.5"},
                ],
                "expectedOn": "2026-08-01",
                "idempotencyKey": "po-1",
            }
        },
    )
    po = created["createPurchaseOrder"]["purchaseOrder"]
    assert created["createPurchaseOrder"]["errors"] == []
    assert (po["number"], po["status"], po["outstanding"]) == ("PO-000001", "DRAFT", 26)
    assert po["createdBy"] == {"name": "owner user", "role": "OWNER"}  # the signed-in owner, as a Staff
    assert po["total"] == {"amount": "52603.00", "currency": "PKR"}  # 20 × 2000 + 6 × 2100.5
    assert [line["unitCost"]["amount"] for line in po["lines"]] == ["2000.0000", "2100.5000"]
    placed = await api(PLACE, {"input": {"purchaseOrderId": po["id"], "idempotencyKey": "place-1"}})
    assert placed["placePurchaseOrder"]["purchaseOrder"]["status"] == "ORDERED"

    # GRN 1: 8 small suits by order line. No cost before: the average is the order's 2000.
    small, _ = po["lines"]
    first = (
        await api(
            RECEIVE,
            {
                "input": {
                    "purchaseOrderId": po["id"],
                    "lines": [{"lineId": small["id"], "quantity": 8}],
                    "idempotencyKey": "grn-1",
                }
            },
        )
    )["receiveGoods"]
    assert first["errors"] == []
    assert first["goodsReceipt"]["number"] == "GRN-000001"
    assert first["goodsReceipt"]["receivedBy"] == {"name": "owner user"}
    assert first["goodsReceipt"]["lines"][0]["averageCostAfter"] == {"amount": "2000.0000"}
    assert first["goodsReceipt"]["lines"][0]["purchaseOrderLine"] == {
        "lineNo": 1,
        "quantityReceived": 8,
        "unitCost": {"amount": "2000.0000"},
    }
    assert first["purchaseOrder"] == {"status": "PARTIALLY_RECEIVED", "outstanding": 18}

    # GRN 2: the other 12 small ones at 2150 (the invoice went up) and 6 medium by SKU.
    # Small held before: 10 + 8 = 18 at 2000 → (2000 × 18 + 2150 × 12) / 30 = 61800 / 30 = 2060.
    second = (
        await api(
            RECEIVE,
            {
                "input": {
                    "purchaseOrderId": po["id"],
                    "lines": [
                        {"variant": {"id": variants[0]["id"]}, "quantity": 12, "unitCost": "2150"},
                        {"variant": {"sku": "LAWN-M"}, "quantity": 6},
                    ],
                    "idempotencyKey": "grn-2",
                    "note": "second truck",
                }
            },
        )
    )["receiveGoods"]
    grn = second["goodsReceipt"]
    assert second["purchaseOrder"] == {"status": "RECEIVED", "outstanding": 0}
    assert [
        (x["variant"]["sku"], x["quantity"], x["onHandBefore"], x["averageCostBefore"], x["averageCostAfter"]["amount"])
        for x in grn["lines"]
    ] == [("LAWN-S", 12, 18, {"amount": "2000.0000"}, "2060.0000"), ("LAWN-M", 6, 0, None, "2100.5000")]
    assert grn["total"] == {"amount": "38403.00"}  # 12 × 2150 + 6 × 2100.5

    orders = (await api(ORDERS, {"branch": _gid("Branch", lahore.id), "status": "RECEIVED", "first": 10}))[
        "purchaseOrders"
    ]
    [node] = [e["node"] for e in orders["edges"]]
    assert [(x["quantityReceived"], x["outstanding"]) for x in node["lines"]] == [(20, 0), (6, 0)]
    assert [r["number"] for r in node["receipts"]] == ["GRN-000001", "GRN-000002"]
    assert (await api(ORDERS, {"status": "ORDERED", "first": 10}))["purchaseOrders"]["edges"] == []

    assert (await api(NODE, {"id": po["id"]}))["node"] == {"number": "PO-000001", "status": "RECEIVED"}
    assert (await api(NODE, {"id": grn["id"]}))["node"] == {
        "number": "GRN-000002",
        "purchaseOrder": {"number": "PO-000001"},
        "lines": [{"quantity": 12}, {"quantity": 6}],
    }
    assert (await api(NODE, {"id": supplier["id"]}))["node"] == {"name": "Gul Ahmed Wholesale"}

    # 30 small × 2060 + 6 medium × 2100.5 = 61800 + 12603 = 74403.00
    value = (await api(VALUATION, {"branch": _gid("Branch", lahore.id)}))["stockValuation"]
    assert value == {
        "value": {"amount": "74403.00", "currency": "PKR"},
        "unitsValued": 36,
        "variantsValued": 2,
        "uncostedUnits": 0,
        "uncostedCount": 0,
        "uncosted": [],
        "branch": {"code": "LHR"},
    }
    level = await StockLevel.get(branch_id=lahore.id, variant__sku="LAWN-S")
    assert level.on_hand == 30


async def test_bad_input_is_typed_errors_outsiders_are_refused_and_nothing_is_written(api):
    lahore, karachi, _, supplier = await _shop(api)
    made = await api(
        CREATE_ORDER,
        {
            "input": {
                "supplierId": supplier["id"],
                "branchId": _gid("Branch", lahore.id),
                "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": 5, "unitCost": "100"}],
                "idempotencyKey": "po-1",
                "place": True,
            }
        },
    )
    po = made["createPurchaseOrder"]["purchaseOrder"]

    async def receive(lines, key="grn-x", client=api):
        body = {"purchaseOrderId": po["id"], "lines": lines, "idempotencyKey": key}
        return (await client(RECEIVE, {"input": body}))["receiveGoods"]

    assert (await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 6}]))["errors"][0][
        "code"
    ] == "INVALID"  # > outstanding
    assert (await receive([{"variant": {"sku": "LAWN-S"}, "quantity": -1}]))["errors"][0]["field"] == "lines.0.quantity"
    bad_cost = await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 1, "unitCost": "-5"}])
    assert bad_cost["errors"][0]["field"] == "lines.0.unitCost"
    assert (await receive([{"variant": {"sku": "NOPE"}, "quantity": 1}]))["errors"][0] == {
        "field": "lines.0.variant.sku",
        "message": "no variant with SKU 'NOPE'",
        "code": "NOT_FOUND",
    }
    assert (await receive([{"lineId": "bm9wZQ==", "quantity": 1}]))["errors"][0]["code"] == "INVALID"
    bad_order = (
        await api(
            CREATE_ORDER,
            {
                "input": {
                    "supplierId": supplier["id"],
                    "branchId": _gid("Branch", lahore.id),
                    "lines": [{"variant": {"sku": "NOPE"}, "quantity": 0, "unitCost": "1"}],
                    "idempotencyKey": "po-2",
                }
            },
        )
    )["createPurchaseOrder"]
    assert bad_order["purchaseOrder"] is None
    assert {(e["field"], e["code"]) for e in bad_order["errors"]} == {("lines.0.quantity", "INVALID")}

    # An inventory clerk at Karachi may neither receive at Lahore nor see its orders or costs.
    outsider = await api.as_staff(Role.INVENTORY, [karachi.id])
    attempt = {
        "purchaseOrderId": po["id"],
        "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": 1}],
        "idempotencyKey": "o-1",
    }
    refused = await outsider.raw(RECEIVE, {"input": attempt})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listing = await outsider.raw(ORDERS, {"branch": _gid("Branch", lahore.id), "first": 5})
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await outsider(NODE, {"id": po["id"]}))["node"] is None
    cashier = await api.as_staff(Role.CASHIER, [lahore.id])
    costs = await cashier.raw(VALUATION, {"branch": _gid("Branch", lahore.id)})
    assert costs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await outsider(ORDERS, {"first": 5}))["purchaseOrders"]["edges"] == []  # only Karachi's

    assert await GoodsReceipt.all().count() == 0
    assert await StockMovement.filter(reason="received").count() == 0

    # A GRN key reused for different lines is refused; the first receipt stands.
    assert (await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 2}], key="grn-1"))["errors"] == []
    reused = await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 3}], key="grn-1")
    assert reused["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    replay = await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 2}], key="grn-1")
    assert replay["goodsReceipt"]["number"] == "GRN-000001"

    # Cancel only before anything arrived; close short settles the rest.
    cancelled = (await api(CANCEL, {"input": {"purchaseOrderId": po["id"], "idempotencyKey": "cancel-1"}}))[
        "cancelPurchaseOrder"
    ]
    assert cancelled["errors"][0]["code"] == "WRONG_STATE"
    close = {"purchaseOrderId": po["id"], "reason": "short shipped", "idempotencyKey": "close-1"}
    closed = (await api(CLOSE, {"input": close}))["closePurchaseOrder"]
    assert closed["purchaseOrder"] == {"status": "CLOSED", "outstanding": 0, "lines": [{"quantityCancelled": 3}]}
    late = await receive([{"variant": {"sku": "LAWN-S"}, "quantity": 1}], key="grn-late")
    assert late["errors"][0]["code"] == "WRONG_STATE"
    assert (await StockLevel.get(branch_id=lahore.id, variant__sku="LAWN-S")).on_hand == 12


async def test_racing_receive_goods_mutations_never_over_receive(api):
    lahore, _, _, supplier = await _shop(api)
    made = await api(
        CREATE_ORDER,
        {
            "input": {
                "supplierId": supplier["id"],
                "branchId": _gid("Branch", lahore.id),
                "lines": [{"variant": {"sku": "LAWN-M"}, "quantity": 10, "unitCost": "100"}],
                "idempotencyKey": "po-1",
                "place": True,
            }
        },
    )
    po = made["createPurchaseOrder"]["purchaseOrder"]
    receiver = await api.as_staff(Role.INVENTORY, [lahore.id])

    results = await asyncio.gather(
        *(
            receiver(
                RECEIVE,
                {
                    "input": {
                        "purchaseOrderId": po["id"],
                        "lines": [{"variant": {"sku": "LAWN-M"}, "quantity": 4}],
                        "idempotencyKey": f"g{i}",
                    }
                },
            )
            for i in range(5)
        )
    )

    ok = [r["receiveGoods"] for r in results if not r["receiveGoods"]["errors"]]
    assert len(ok) == 2
    assert all(r["receiveGoods"]["errors"][0]["code"] == "INVALID" for r in results if r["receiveGoods"]["errors"])
    assert (await StockLevel.get(branch_id=lahore.id, variant__sku="LAWN-M")).on_hand == 8
    orders = (await api(ORDERS, {"branch": _gid("Branch", lahore.id), "first": 1}))["purchaseOrders"]["edges"]
    assert orders[0]["node"]["lines"][0]["outstanding"] == 2


async def test_order_steps_replay_their_first_result_and_refuse_a_reused_key(api):
    """place, close and cancel: a repeat returns the first result (even once the order has moved on, where
    doing it again would be WRONG_STATE) and writes nothing; the same key for another order is refused."""
    lahore, _, _, supplier = await _shop(api)

    async def order(key: str) -> dict:
        line = {"variant": {"sku": "LAWN-M"}, "quantity": 4, "unitCost": "100"}
        new = {"supplierId": supplier["id"], "branchId": _gid("Branch", lahore.id), "lines": [line]}
        data = await api(CREATE_ORDER, {"input": new | {"idempotencyKey": key}})
        return data["createPurchaseOrder"]["purchaseOrder"]

    first, second, third = await order("po-a"), await order("po-b"), await order("po-c")
    place = {"purchaseOrderId": first["id"], "idempotencyKey": "place-a"}
    placed = await api(PLACE, {"input": place})
    assert placed["placePurchaseOrder"] == {
        "purchaseOrder": {"number": first["number"], "status": "ORDERED"},
        "errors": [],
    }
    assert await api(PLACE, {"input": place}) == placed
    reused = (await api(PLACE, {"input": place | {"purchaseOrderId": second["id"]}}))["placePurchaseOrder"]
    assert [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]

    received = {
        "purchaseOrderId": first["id"],
        "lines": [{"variant": {"sku": "LAWN-M"}, "quantity": 1}],
        "idempotencyKey": "g",
    }
    assert (await api(RECEIVE, {"input": received}))["receiveGoods"]["errors"] == []
    close = {"purchaseOrderId": first["id"], "reason": "short shipped", "idempotencyKey": "close-a"}
    closed = await api(CLOSE, {"input": close})
    assert closed["closePurchaseOrder"]["purchaseOrder"]["status"] == "CLOSED"
    assert await api(CLOSE, {"input": close}) == closed

    cancel = {"purchaseOrderId": second["id"], "idempotencyKey": "cancel-b"}
    cancelled = await api(CANCEL, {"input": cancel})
    assert cancelled["cancelPurchaseOrder"] == {"purchaseOrder": {"status": "CANCELLED"}, "errors": []}
    assert await api(CANCEL, {"input": cancel}) == cancelled
    for document, step, change in (
        (CANCEL, "cancelPurchaseOrder", cancel | {"purchaseOrderId": third["id"]}),
        (CLOSE, "closePurchaseOrder", close | {"reason": "another reason"}),
    ):
        refused = (await api(document, {"input": change}))[step]
        assert (refused["purchaseOrder"], [e["code"] for e in refused["errors"]]) == (None, ["IDEMPOTENCY_KEY_REUSED"])
    statuses = {
        e["node"]["number"]: e["node"]["status"] for e in (await api(ORDERS, {"first": 10}))["purchaseOrders"]["edges"]
    }
    assert statuses == {first["number"]: "CLOSED", second["number"]: "CANCELLED", third["number"]: "DRAFT"}
    audit = await AuditEntry.filter(action__startswith="purchase_order.").values_list("action", flat=True)
    assert sorted(audit) == sorted(
        ["purchase_order.drafted"] * 3 + ["purchase_order.ordered", "purchase_order.closed", "purchase_order.cancelled"]
    )


async def test_a_supplier_key_reused_for_another_supplier_is_refused(api):
    await _shop(api)
    other = {"name": "Another Supplier", "idempotencyKey": "sup-1"}  # _shop used sup-1 for Gul Ahmed
    refused = (await api(CREATE_SUPPLIER, {"input": other}))["createSupplier"]
    assert (refused["supplier"], [e["code"] for e in refused["errors"]]) == (None, ["IDEMPOTENCY_KEY_REUSED"])
    assert await Supplier.all().count() == 1
