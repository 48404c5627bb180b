"""The GraphQL contract for branches, catalog and stock: payloads, typed errors, pagination."""

import pytest

from models.branches import Branch, Counter
from models.catalog import Product
from models.staff import AuditEntry
from models.stock import StockLevel, StockMovement
from schema.ids import global_id
from tests.factories import make_branch

CREATE_BRANCH = """
mutation($input: CreateBranchInput!) {
  createBranch(input: $input) { branch { id code name timezone } errors { field message code } }
}"""
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id title variants { id sku barcode size colour price { amount currency } taxRate } }
    errors { field message code }
  }
}"""
ADJUST = """
mutation($input: AdjustStockInput!) {
  adjustStock(input: $input) {
    movements { sequence delta bucket reason onHand reserved available damaged variant { sku } }
    errors { field message code }
  }
}"""
LEVELS = """
query($branch: ID!, $first: Int!, $after: String, $low: Boolean) {
  stockLevels(branchId: $branch, first: $first, after: $after, lowStock: $low) {
    edges { cursor node { onHand available variant { sku } branch { code } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def make_shop(api, *, stock: dict[str, int] | None = None):
    branch = (await api(CREATE_BRANCH, {"input": {"code": "LHR-1", "name": "Lahore", "idempotencyKey": "lhr"}}))[
        "createBranch"
    ]["branch"]
    product = (
        await api(
            CREATE_PRODUCT,
            {
                "input": {
                    "title": "Lawn suit",
                    "variants": [
                        {"sku": "LAWN-S", "price": "4500.00", "size": "S", "barcode": "8960000000011"},
                        {"sku": "LAWN-M", "price": "4500.00", "size": "M", "taxRate": "18.00"},
                    ],
                    "idempotencyKey": "lawn",
                }
            },
        )
    )["createProduct"]["product"]
    if stock:
        lines = [{"variant": {"sku": sku}, "quantity": q} for sku, q in stock.items()]
        data = await api(
            ADJUST,
            {"input": {"branchId": branch["id"], "reason": "OPENING_STOCK", "lines": lines, "idempotencyKey": "open"}},
        )
        assert data["adjustStock"]["errors"] == []
    return branch, product


async def test_create_and_query_branch_product_levels(api):
    branch, product = await make_shop(api, stock={"LAWN-S": 5, "LAWN-M": 0 + 1})
    assert [v["price"] for v in product["variants"]] == [{"amount": "4500.00", "currency": "PKR"}] * 2
    data = await api(LEVELS, {"branch": branch["id"], "first": 10})
    nodes = [e["node"] for e in data["stockLevels"]["edges"]]
    assert [(n["variant"]["sku"], n["onHand"], n["branch"]["code"]) for n in nodes] == [
        ("LAWN-S", 5, "LHR-1"),
        ("LAWN-M", 1, "LHR-1"),
    ]
    node = await api("query($id: ID!) { node(id: $id) { ... on Branch { code } } }", {"id": branch["id"]})
    assert node["node"] == {"code": "LHR-1"}


async def test_keyset_pagination_walks_every_row_once(api):
    for i in range(7):
        await api(CREATE_BRANCH, {"input": {"code": f"B{i}", "name": f"Branch {i}", "idempotencyKey": f"b{i}"}})
    seen, after = [], None
    while True:
        page = (
            await api(
                "query($after: String) { branches(first: 3, after: $after) "
                "{ edges { node { code } } pageInfo { hasNextPage endCursor } } }",
                {"after": after},
            )
        )["branches"]
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"B{i}" for i in range(7)]


async def test_first_is_capped(api):
    body = await api.raw("{ branches(first: 101) { edges { node { id } } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 1 and 100" in body["errors"][0]["message"]


async def test_adjust_by_delta_count_and_damage(api):
    branch, _ = await make_shop(api, stock={"LAWN-S": 10})
    data = await api(
        ADJUST,
        {
            "input": {
                "branchId": branch["id"],
                "reason": "DAMAGED",
                "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": -2}],
                "idempotencyKey": "dmg",
            }
        },
    )
    moves = data["adjustStock"]["movements"]
    assert [(m["bucket"], m["delta"], m["onHand"], m["damaged"]) for m in moves] == [
        ("ON_HAND", -2, 8, 0),
        ("DAMAGED", 2, 8, 2),
    ]
    data = await api(
        ADJUST,
        {
            "input": {
                "branchId": branch["id"],
                "reason": "COUNT",
                "lines": [{"variant": {"barcode": "8960000000011"}, "countedQuantity": 6}],
                "idempotencyKey": "count-1",
            }
        },
    )
    [m] = data["adjustStock"]["movements"]
    assert (m["delta"], m["onHand"], m["reason"]) == (-2, 6, "COUNT")
    # Retrying the count returns the first result, even though on hand is now 6.
    again = await api(
        ADJUST,
        {
            "input": {
                "branchId": branch["id"],
                "reason": "COUNT",
                "lines": [{"variant": {"barcode": "8960000000011"}, "countedQuantity": 6}],
                "idempotencyKey": "count-1",
            }
        },
    )
    assert again == data


async def test_insufficient_stock_is_a_typed_error_naming_the_line(api):
    branch, _ = await make_shop(api, stock={"LAWN-S": 1})
    data = await api(
        ADJUST,
        {
            "input": {
                "branchId": branch["id"],
                "reason": "SHRINKAGE",
                "lines": [
                    {"variant": {"sku": "LAWN-M"}, "quantity": -1},
                    {"variant": {"sku": "LAWN-S"}, "quantity": -3},
                ],
                "idempotencyKey": "x",
            }
        },
    )
    errors = data["adjustStock"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INSUFFICIENT_STOCK", "lines.0.quantity"),
        ("INSUFFICIENT_STOCK", "lines.1.quantity"),
    ]
    assert "LAWN-S: 3 requested, 1 available" in errors[1]["message"]
    assert data["adjustStock"]["movements"] == []


BAD_ADJUSTMENTS = [
    ({"branchId": "nonsense"}, "INVALID", "branchId"),
    ({"branchId": "QnJhbmNoOjk5OTk="}, "NOT_FOUND", "branchId"),  # Branch:9999
    ({"lines": [{"variant": {"id": "VmFyaWFudDo5OTk5"}, "quantity": -1}]}, "NOT_FOUND", "lines.0.variant.id"),
    ({"lines": [{"variant": {"sku": "NOPE"}, "quantity": -1}]}, "NOT_FOUND", "lines.0.variant.sku"),
    ({"lines": [{"variant": {"sku": "LAWN-S"}, "quantity": 0}]}, "INVALID", "lines.0.quantity"),
    ({"lines": [{"variant": {"sku": "LAWN-S"}, "quantity": 5}]}, "INVALID", "lines.0.quantity"),  # shrinkage adds?
    ({"lines": [{"variant": {"sku": "LAWN-S"}, "quantity": -2_000_000}]}, "INVALID", "lines.0.quantity"),
    ({"lines": [{"variant": {"sku": "LAWN-S"}}]}, "INVALID", "lines.0.quantity"),
    ({"lines": []}, "INVALID", "lines"),
    ({"idempotencyKey": ""}, "INVALID", "idempotencyKey"),
    ({"note": "x" * 1001}, "INVALID", "note"),
]


@pytest.mark.parametrize(("change", "code", "field"), BAD_ADJUSTMENTS)
async def test_bad_adjustments_get_typed_errors_and_write_nothing(api, change, code, field):
    branch, _ = await make_shop(api, stock={"LAWN-S": 3})
    before = await StockMovement.all().count()
    base = {
        "branchId": branch["id"],
        "reason": "SHRINKAGE",
        "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": -1}],
        "idempotencyKey": "bad",
    }
    data = await api(ADJUST, {"input": base | change})
    errors = data["adjustStock"]["errors"]
    assert (errors[0]["code"], errors[0]["field"]) == (code, field), errors
    assert await StockMovement.all().count() == before


@pytest.mark.parametrize(
    ("variables", "needle"),
    [
        ({"reason": "STOLEN_BY_ALIENS"}, "AdjustmentReason"),
        ({"lines": [{"variant": {"sku": "LAWN-S"}, "quantity": 2**40}]}, "Int cannot represent"),
        # A variant by exactly one of id, sku, barcode (@oneOf): two, or none, is refused by GraphQL.
        (
            {"lines": [{"variant": {"sku": "LAWN-S", "barcode": "8960000000011"}, "quantity": -1}]},
            "exactly one field must be specified",
        ),
        ({"lines": [{"variant": {}, "quantity": -1}]}, "exactly one field must be specified"),
        ({"idempotencyKey": None}, "idempotencyKey"),
    ],
)
async def test_schema_level_bad_input_is_rejected_before_anything_runs(api, variables, needle):
    branch, _ = await make_shop(api, stock={"LAWN-S": 3})
    before = await StockMovement.all().count()
    base = {"branchId": branch["id"], "reason": "SHRINKAGE", "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": -1}]}
    body = await api.raw(ADJUST, {"input": base | {"idempotencyKey": "k"} | variables})
    assert body.get("data") is None and needle in body["errors"][0]["message"]
    assert await StockMovement.all().count() == before


async def test_create_branch_errors_and_idempotency(api):
    first = await api(CREATE_BRANCH, {"input": {"code": "K1", "name": "Karachi", "idempotencyKey": "a"}})
    again = await api(CREATE_BRANCH, {"input": {"code": "K1", "name": "Karachi", "idempotencyKey": "a"}})
    assert first == again
    dup = await api(CREATE_BRANCH, {"input": {"code": "K1", "name": "Other", "idempotencyKey": "b"}})
    assert dup["createBranch"]["errors"][0]["code"] == "DUPLICATE"
    reused = await api(CREATE_BRANCH, {"input": {"code": "K2", "name": "Karachi", "idempotencyKey": "a"}})
    assert reused["createBranch"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    bad = await api(
        CREATE_BRANCH, {"input": {"code": "", "name": "", "timezone": "Mars/Olympus", "idempotencyKey": "c"}}
    )
    assert {e["field"] for e in bad["createBranch"]["errors"]} == {"code", "name", "timezone"}
    assert await Branch.all().count() == 1


async def test_create_product_rejects_duplicates_and_bad_money(api):
    await make_shop(api)
    data = await api(
        CREATE_PRODUCT,
        {
            "input": {
                "title": "Kurta",
                "variants": [
                    {"sku": "LAWN-S", "price": "100.00"},
                    {"sku": "K-1", "price": "-1"},
                    {"sku": "K-2", "price": "1.005"},
                    {"sku": "K-2", "price": "1", "taxRate": "101"},
                ],
                "idempotencyKey": "kurta",
            }
        },
    )
    errors = {(e["field"], e["code"]) for e in data["createProduct"]["errors"]}
    assert errors == {
        ("variants.1.price", "INVALID"),
        ("variants.2.price", "INVALID"),
        ("variants.3.sku", "DUPLICATE"),
        ("variants.3.taxRate", "INVALID"),
    }
    # The SKU taken by another product is reported once the input itself is valid.
    kurta = {"title": "Kurta", "variants": [{"sku": "LAWN-S", "price": "1"}], "idempotencyKey": "kurta-2"}
    data = await api(CREATE_PRODUCT, {"input": kurta})
    assert data["createProduct"]["errors"][0]["code"] == "DUPLICATE"


async def test_variant_search_by_text_sku_and_barcode(api):
    await make_shop(api)
    q = "query($s: String, $sku: String, $b: String) { variants(first: 10, search: $s, sku: $sku, barcode: $b) { edges { node { sku } } } }"  # noqa: E501
    skus = lambda d: [e["node"]["sku"] for e in d["variants"]["edges"]]  # noqa: E731
    assert skus(await api(q, {"s": "lawn"})) == ["LAWN-S", "LAWN-M"]
    assert skus(await api(q, {"sku": "LAWN-M"})) == ["LAWN-M"]
    assert skus(await api(q, {"b": "8960000000011"})) == ["LAWN-S"]


async def test_stock_movements_resume_after_sequence(api):
    branch, _ = await make_shop(api, stock={"LAWN-S": 5, "LAWN-M": 5})
    for i in range(3):
        await api(
            ADJUST,
            {
                "input": {
                    "branchId": branch["id"],
                    "reason": "CORRECTION",
                    "lines": [{"variant": {"sku": "LAWN-S"}, "quantity": -1}],
                    "idempotencyKey": f"c{i}",
                }
            },
        )
    q = "query($b: ID!, $after: String) { stockMovements(branchId: $b, first: 2, after: $after) { edges { cursor node { sequence onHand } } pageInfo { hasNextPage } } }"  # noqa: E501
    page = (await api(q, {"b": branch["id"], "after": "2"}))["stockMovements"]
    assert [e["node"]["sequence"] for e in page["edges"]] == [3, 4]
    assert page["edges"][-1]["cursor"] == "4" and page["pageInfo"]["hasNextPage"]


async def test_unexpected_errors_are_masked(api, monkeypatch):
    from resolvers import branches

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(branches.models.Branch, "all", boom)
    body = await api.raw("{ branches(first: 1) { edges { node { id } } } }")
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret" not in str(body)


async def test_depth_limit(api):
    deep = "{ branches(first: 1) { edges { node { counters { branch { counters { branch { counters { branch { counters { branch { counters { branch { id } } } } } } } } } } } } } }"  # noqa: E501
    body = await api.raw(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_reorder_points_drive_the_low_stock_filter(api):
    branch, _ = await make_shop(api, stock={"LAWN-S": 3, "LAWN-M": 10})
    data = await api(
        """mutation($input: SetReorderPointsInput!) { setReorderPoints(input: $input) {
             levels { reorderPoint variant { sku } } errors { field code } } }""",
        {
            "input": {
                "branchId": branch["id"],
                "lines": [
                    {"variant": {"sku": "LAWN-S"}, "reorderPoint": 4},
                    {"variant": {"sku": "LAWN-M"}, "reorderPoint": 4},
                ],
                "idempotencyKey": "points-1",
            }
        },
    )
    assert data["setReorderPoints"]["errors"] == []
    low = await api(LEVELS, {"branch": branch["id"], "first": 10, "low": True})
    assert [e["node"]["variant"]["sku"] for e in low["stockLevels"]["edges"]] == ["LAWN-S"]
    bad = await api(
        """mutation($input: SetReorderPointsInput!) { setReorderPoints(input: $input) { errors { field code } } }""",
        {
            "input": {
                "branchId": branch["id"],
                "lines": [{"variant": {"sku": "LAWN-S"}, "reorderPoint": -1}],
                "idempotencyKey": "p",
            }
        },
    )
    assert bad["setReorderPoints"]["errors"] == [{"field": "lines.0.reorderPoint", "code": "INVALID"}]


async def test_ids_are_global_ids_everywhere(api, db):
    """reorderSuggestions and importJob take the ID type like every other field (they took String)."""
    branch = await make_branch("IDS")
    body = await api.raw(
        "query($b: ID!) { reorderSuggestions(branchId: $b) { sku } }", {"b": str(global_id("Branch", branch.id))}
    )
    assert body == {"data": {"reorderSuggestions": []}}, body
    missing = await api.raw("query($j: ID!) { importJob(id: $j) { id } }", {"j": str(global_id("ImportJob", 999))})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


CREATE_COUNTER = """mutation($input: CreateCounterInput!) {
  createCounter(input: $input) { counter { id code name } errors { field code } } }"""
SET_POINTS = """mutation($input: SetReorderPointsInput!) { setReorderPoints(input: $input) {
  levels { reorderPoint reorderQuantity variant { sku } } errors { field code } } }"""


async def test_create_counter_and_product_replay_the_first_result(api):
    branch, product = await make_shop(api)
    counter = {"branchId": branch["id"], "code": "C1", "name": "Counter 1", "idempotencyKey": "till-1"}
    made = await api(CREATE_COUNTER, {"input": counter})
    assert made["createCounter"]["errors"] == []
    assert await api(CREATE_COUNTER, {"input": counter}) == made  # not DUPLICATE: the first answer again
    reused = await api(CREATE_COUNTER, {"input": counter | {"code": "C2"}})
    assert reused["createCounter"] == {
        "counter": None,
        "errors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}],
    }
    assert await Counter.all().count() == 1

    lawn = {
        "title": "Lawn suit",
        "variants": [
            {"sku": "LAWN-S", "price": "4500.00", "size": "S", "barcode": "8960000000011"},
            {"sku": "LAWN-M", "price": "4500.00", "size": "M", "taxRate": "18.00"},
        ],
        "idempotencyKey": "lawn",  # make_shop's request, sent again
    }
    again = await api(CREATE_PRODUCT, {"input": lawn})
    assert again["createProduct"] == {"product": product, "errors": []}
    other = await api(CREATE_PRODUCT, {"input": lawn | {"title": "Another suit"}})
    assert [e["code"] for e in other["createProduct"]["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await Product.all().count() == 1


async def test_set_reorder_points_replays_the_first_result_and_sets_nothing_again(api):
    branch, _ = await make_shop(api, stock={"LAWN-S": 3})
    first = {
        "branchId": branch["id"],
        "lines": [{"variant": {"sku": "LAWN-S"}, "reorderPoint": 4, "reorderQuantity": 10}],
        "idempotencyKey": "points-1",
    }
    done = (await api(SET_POINTS, {"input": first}))["setReorderPoints"]
    assert done == {"levels": [{"reorderPoint": 4, "reorderQuantity": 10, "variant": {"sku": "LAWN-S"}}], "errors": []}
    later = first | {"lines": [{"variant": {"sku": "LAWN-S"}, "reorderPoint": 7}], "idempotencyKey": "points-2"}
    assert (await api(SET_POINTS, {"input": later}))["setReorderPoints"]["errors"] == []
    # A late retry of the first request must not put the point back to 4.
    retried = (await api(SET_POINTS, {"input": first}))["setReorderPoints"]
    assert retried == {
        "levels": [{"reorderPoint": 7, "reorderQuantity": 10, "variant": {"sku": "LAWN-S"}}],
        "errors": [],
    }
    reused = await api(SET_POINTS, {"input": first | {"lines": [{"variant": {"sku": "LAWN-S"}, "reorderPoint": 9}]}})
    assert reused["setReorderPoints"] == {
        "levels": [],
        "errors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}],
    }
    assert [level.reorder_point for level in await StockLevel.all()] == [7]
    assert await AuditEntry.filter(action="stock.reorder_points_set").count() == 2
