"""Stock counts and adjustment approval over GraphQL (in-process, through the real schema)."""

import asyncio
from unittest.mock import ANY

import pytest

from models.counts import StockCount, StockCountLine
from models.staff import Role
from models.stock import StockLevel, StockMovement
from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import deduct, make_branch, make_variants, stock

COUNT_FIELDS = """id status kind blind startSequence zeroUncounted
  lines(first: 100) { edges { node { sku counted expectedAtStart movementsSinceStart variance } } }
  totals { lines counted varianceUnits }
  adjustment { delta reason onHand variant { sku } }"""
OPEN = f"""mutation($input: OpenStockCountInput!) {{
  openStockCount(input: $input) {{ stockCount {{ {COUNT_FIELDS} }} errors {{ field message code }} }} }}"""
RECORD = f"""mutation($input: RecordCountedQuantitiesInput!) {{
  recordCountedQuantities(input: $input) {{ stockCount {{ {COUNT_FIELDS} }} errors {{ field message code }} }} }}"""
SUBMIT = """mutation($input: SubmitStockCountInput!) {
  submitStockCount(input: $input) { stockCount { status } errors { field message code } } }"""
APPROVE = f"""mutation($input: ApproveStockCountInput!) {{
  approveStockCount(input: $input) {{ stockCount {{ {COUNT_FIELDS} }} errors {{ field message code }} }} }}"""
ABANDON = """mutation($input: AbandonStockCountInput!) {
  abandonStockCount(input: $input) { stockCount { status } errors { field message code } } }"""
COUNT = f"query($id: ID!) {{ stockCount(id: $id) {{ {COUNT_FIELDS} }} }}"
COUNTS = """query($b: ID!, $status: CountStatus, $after: String) {
  stockCounts(branchId: $b, first: 1, status: $status, after: $after) {
    edges { node { id status } } pageInfo { hasNextPage endCursor } } }"""
ADJUST = """mutation($input: AdjustStockInput!) {
  adjustStock(input: $input) { movements { delta onHand } errors { field message code } } }"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


def lines_of(count: dict) -> dict[str, dict]:
    return {e["node"]["sku"]: e["node"] for e in count["lines"]["edges"]}


@pytest.fixture
async def branch_shop(db):
    branch = await make_branch("LHR")
    kurta, shawl = await make_variants(2, prefix="K")
    for v in (kurta, shawl):
        await stock(branch.id, v.id, 10)
    return branch, kurta, shawl


async def on_hand(branch, variant) -> int:
    return (await StockLevel.get(branch_id=branch.id, variant_id=variant.id)).on_hand


async def test_a_blind_count_while_selling_through_graphql(anonymous, branch_shop):  # noqa: F811
    branch, kurta, shawl = branch_shop
    clerk = await anonymous.as_staff(Role.INVENTORY, [branch.id])
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id])
    b = gid("Branch", branch.id)

    opened = (await clerk(OPEN, {"input": {"branchId": b, "kind": "FULL", "blind": True, "idempotencyKey": "open-1"}}))[
        "openStockCount"
    ]
    assert opened["errors"] == []
    count = opened["stockCount"]
    assert (count["status"], count["blind"]) == ("OPEN", True)
    again = await clerk(OPEN, {"input": {"branchId": b, "kind": "FULL", "blind": True, "idempotencyKey": "open-1"}})
    assert again["openStockCount"]["stockCount"]["id"] == count["id"]

    await deduct([(branch.id, kurta.id, 3)])  # three sold while the counters scan
    batch = {
        "countId": count["id"],
        "lines": [
            {"variant": {"sku": "K-0"}, "counted": 4},
            {"variant": {"id": gid("Variant", kurta.id)}, "counted": 2},
        ],
        "idempotencyKey": "b1",
    }
    first = (await clerk(RECORD, {"input": batch}))["recordCountedQuantities"]
    resent = (await clerk(RECORD, {"input": batch}))["recordCountedQuantities"]
    assert first["errors"] == [] and resent == first
    seen_by_clerk = lines_of(first["stockCount"])["K-0"]
    assert seen_by_clerk == {
        "sku": "K-0",
        "counted": 6,
        "expectedAtStart": None,
        "movementsSinceStart": None,
        "variance": None,
    }
    assert first["stockCount"]["totals"] == {"lines": 2, "counted": 1, "varianceUnits": None}
    seen_by_manager = lines_of((await manager(COUNT, {"id": count["id"]}))["stockCount"])["K-0"]
    assert (seen_by_manager["expectedAtStart"], seen_by_manager["movementsSinceStart"]) == (10, -3)
    assert seen_by_manager["variance"] == -1

    assert (await clerk(SUBMIT, {"input": {"countId": count["id"], "idempotencyKey": "submit-1"}}))[
        "submitStockCount"
    ] == {
        "stockCount": {"status": "REVIEW"},
        "errors": [],
    }
    denied = await clerk.raw(APPROVE, {"input": {"countId": count["id"], "idempotencyKey": "approve-1"}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    approved = (await manager(APPROVE, {"input": {"countId": count["id"], "idempotencyKey": "approve-1"}}))[
        "approveStockCount"
    ]
    assert approved["errors"] == []
    assert approved["stockCount"]["status"] == "APPROVED"
    assert approved["stockCount"]["adjustment"] == [
        {"delta": -1, "reason": "COUNT", "onHand": 6, "variant": {"sku": "K-0"}}
    ]
    assert (await on_hand(branch, kurta), await on_hand(branch, shawl)) == (6, 10)
    twice = (await manager(APPROVE, {"input": {"countId": count["id"], "idempotencyKey": "approve-1"}}))[
        "approveStockCount"
    ]
    assert twice == approved
    assert await StockMovement.filter(reason="count").count() == 1


async def test_concurrent_approvals_over_graphql_post_once(api, branch_shop):  # noqa: F811
    branch, kurta, _ = branch_shop
    b = gid("Branch", branch.id)
    count = (
        await api(
            OPEN,
            {
                "input": {
                    "branchId": b,
                    "kind": "CYCLE",
                    "variantIds": [gid("Variant", kurta.id)],
                    "idempotencyKey": "o",
                }
            },
        )
    )["openStockCount"]["stockCount"]
    assert list(lines_of(count)) == ["K-0"]
    await api(
        RECORD,
        {
            "input": {
                "countId": count["id"],
                "lines": [{"variant": {"sku": "K-0"}, "counted": 12, "mode": "SET"}],
                "idempotencyKey": "s",
            }
        },
    )
    await api(SUBMIT, {"input": {"countId": count["id"], "idempotencyKey": "submit"}})
    # A double click (one key twice) and two managers (keys of their own), all at once.
    keys = ["approve-a", "approve-a", "approve-b", "approve-c", "approve-c"]
    results = await asyncio.gather(
        *(api(APPROVE, {"input": {"countId": count["id"], "idempotencyKey": k}}) for k in keys)
    )
    assert all(r["approveStockCount"]["errors"] == [] for r in results)
    assert await on_hand(branch, kurta) == 12
    assert await StockMovement.filter(reason="count").count() == 1


async def test_abandon_and_listing(api, branch_shop):  # noqa: F811
    branch, kurta, _ = branch_shop
    b = gid("Branch", branch.id)
    ids = []
    for key in ("a", "b"):
        data = await api(OPEN, {"input": {"branchId": b, "kind": "FULL", "idempotencyKey": key}})
        ids.append(data["openStockCount"]["stockCount"]["id"])
    await api(
        RECORD,
        {"input": {"countId": ids[0], "lines": [{"variant": {"sku": "K-0"}, "counted": 1}], "idempotencyKey": "r"}},
    )
    abandoned = await api(ABANDON, {"input": {"countId": ids[0], "idempotencyKey": "abandon"}})
    assert abandoned["abandonStockCount"] == {"stockCount": {"status": "ABANDONED"}, "errors": []}
    assert await on_hand(branch, kurta) == 10
    late = await api(
        RECORD,
        {"input": {"countId": ids[0], "lines": [{"variant": {"sku": "K-0"}, "counted": 1}], "idempotencyKey": "r2"}},
    )
    assert [(e["code"], e["field"]) for e in late["recordCountedQuantities"]["errors"]] == [("WRONG_STATE", "countId")]

    page = (await api(COUNTS, {"b": b}))["stockCounts"]
    assert [e["node"]["id"] for e in page["edges"]] == [ids[0]] and page["pageInfo"]["hasNextPage"]
    rest = (await api(COUNTS, {"b": b, "after": page["pageInfo"]["endCursor"]}))["stockCounts"]
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[1]]
    open_only = (await api(COUNTS, {"b": b, "status": "OPEN"}))["stockCounts"]
    assert [e["node"] for e in open_only["edges"]] == [{"id": ids[1], "status": "OPEN"}]
    node = await api("query($id: ID!) { node(id: $id) { ... on StockCount { status } } }", {"id": ids[0]})
    assert node["node"] == {"status": "ABANDONED"}
    assert (await api(COUNT, {"id": gid("StockCount", 9999)}))["stockCount"] is None


BAD_RECORDS = [
    ([{"variant": {"sku": "NOPE"}, "counted": 1}], ("NOT_FOUND", "lines.0.variant.sku")),
    ([{"variant": {"id": gid("Variant", 9999)}, "counted": 1}], ("NOT_FOUND", "lines.0.variant.id")),
    ([{"variant": {"sku": "K-0"}, "counted": -1}], ("INVALID", "lines.0.counted")),
    ([], ("INVALID", "lines")),
]


@pytest.mark.parametrize(("lines", "expected"), BAD_RECORDS)
async def test_bad_counted_quantities_are_typed_errors_and_write_nothing(api, branch_shop, lines, expected):  # noqa: F811
    branch, _, _ = branch_shop
    count = await api(OPEN, {"input": {"branchId": gid("Branch", branch.id), "kind": "FULL", "idempotencyKey": "o"}})
    count_id = count["openStockCount"]["stockCount"]["id"]
    data = await api(RECORD, {"input": {"countId": count_id, "lines": lines, "idempotencyKey": "bad"}})
    errors = data["recordCountedQuantities"]["errors"]
    assert (errors[0]["code"], errors[0]["field"]) == expected
    assert not await StockCountLine.filter(counted__isnull=False).exists()


async def test_a_variant_named_two_ways_is_refused_before_anything_runs(api, branch_shop):  # noqa: F811
    branch, _, _ = branch_shop
    count = await api(OPEN, {"input": {"branchId": gid("Branch", branch.id), "kind": "FULL", "idempotencyKey": "o"}})
    count_id = count["openStockCount"]["stockCount"]["id"]
    lines = [{"variant": {"sku": "K-0", "barcode": "123"}, "counted": 1}]
    body = await api.raw(RECORD, {"input": {"countId": count_id, "lines": lines, "idempotencyKey": "bad"}})
    assert body.get("data") is None and "exactly one field must be specified" in body["errors"][0]["message"], body
    assert not await StockCountLine.filter(counted__isnull=False).exists()


async def test_bad_opens_and_ids_are_typed_errors(api, branch_shop):  # noqa: F811
    branch, _, _ = branch_shop
    b = gid("Branch", branch.id)
    cases = [
        ({"branchId": "nonsense", "kind": "FULL"}, ("INVALID", "branchId")),
        ({"branchId": gid("Branch", 9999), "kind": "FULL"}, ("NOT_FOUND", "branchId")),
        ({"branchId": b, "kind": "CYCLE"}, ("INVALID", "variantIds")),
        ({"branchId": b, "kind": "CYCLE", "variantIds": [gid("Variant", 9999)]}, ("NOT_FOUND", "variantIds.0")),
    ]
    for change, expected in cases:
        data = await api(OPEN, {"input": {"idempotencyKey": "k"} | change})
        errors = data["openStockCount"]["errors"]
        assert (errors[0]["code"], errors[0]["field"]) == expected, errors
    for document in (SUBMIT, APPROVE, ABANDON):
        data = await api(document, {"input": {"countId": gid("StockCount", 9999), "idempotencyKey": "k"}})
        [payload] = data.values()
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "countId")]
    assert await StockCount.all().count() == 0


async def test_counts_at_a_branch_outside_your_scope_are_refused(anonymous, branch_shop):  # noqa: F811
    branch, _, _ = branch_shop
    other = await make_branch("KHI")
    outsider = await anonymous.as_staff(Role.BRANCH_MANAGER, [other.id])
    owner = await anonymous.as_staff(Role.OWNER)
    b = gid("Branch", branch.id)
    body = await outsider.raw(OPEN, {"input": {"branchId": b, "kind": "FULL", "idempotencyKey": "k"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    count_id = (await owner(OPEN, {"input": {"branchId": b, "kind": "FULL", "idempotencyKey": "k"}}))["openStockCount"][
        "stockCount"
    ]["id"]
    for document, variables in (
        (
            RECORD,
            {
                "input": {
                    "countId": count_id,
                    "lines": [{"variant": {"sku": "NOPE"}, "counted": 1}],
                    "idempotencyKey": "x",
                }
            },
        ),
        (SUBMIT, {"input": {"countId": count_id, "idempotencyKey": "x"}}),
        (APPROVE, {"input": {"countId": count_id, "idempotencyKey": "x"}}),
        (ABANDON, {"input": {"countId": count_id, "idempotencyKey": "x"}}),
        (COUNT, {"id": count_id}),
        (COUNTS, {"b": b}),
    ):
        body = await outsider.raw(document, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    node = await outsider.raw("query($id: ID!) { node(id: $id) { ... on StockCount { status } } }", {"id": count_id})
    assert node["data"]["node"] is None
    assert (await StockCount.get()).status.value == "open"


async def test_adjust_stock_needs_a_manager_above_the_approval_size(anonymous, branch_shop):  # noqa: F811
    branch, kurta, _ = branch_shop
    await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id], pin="432918")
    clerk = await anonymous.as_staff(Role.INVENTORY, [branch.id])
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id])
    line = [{"variant": {"id": gid("Variant", kurta.id)}, "quantity": 25}]
    base = {"branchId": gid("Branch", branch.id), "reason": "FOUND", "lines": line}

    refused = (await clerk(ADJUST, {"input": base | {"idempotencyKey": "a"}}))["adjustStock"]
    assert refused["movements"] == []
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("APPROVAL_REQUIRED", "managerPin")]
    assert "25 units" in refused["errors"][0]["message"]
    wrong = (await clerk(ADJUST, {"input": base | {"idempotencyKey": "a", "managerPin": "1111"}}))["adjustStock"]
    assert wrong["errors"][0]["code"] == "APPROVAL_REQUIRED"
    assert await on_hand(branch, kurta) == 10

    approved = (await clerk(ADJUST, {"input": base | {"idempotencyKey": "a", "managerPin": "432918"}}))["adjustStock"]
    assert approved == {"movements": [{"delta": 25, "onHand": 35}], "errors": []}
    own = (await manager(ADJUST, {"input": base | {"idempotencyKey": "b"}}))["adjustStock"]
    assert own["errors"] == [] and own["movements"][0]["onHand"] == 60
    small = await clerk(ADJUST, {"input": base | {"idempotencyKey": "c", "lines": [line[0] | {"quantity": 20}]}})
    assert small["adjustStock"]["errors"] == []
    assert await on_hand(branch, kurta) == 80


async def test_count_steps_replay_their_first_result_and_refuse_a_reused_key(api, branch_shop):  # noqa: F811
    branch, kurta, _ = branch_shop
    b = gid("Branch", branch.id)

    async def opened(key: str) -> str:
        return (await api(OPEN, {"input": {"branchId": b, "kind": "FULL", "idempotencyKey": key}}))["openStockCount"][
            "stockCount"
        ]["id"]

    async def status(count_id: str) -> str:
        return (await api(COUNT, {"id": count_id}))["stockCount"]["status"]

    first, second, third = await opened("o-1"), await opened("o-2"), await opened("o-3")
    record = {
        "countId": first,
        "lines": [{"variant": {"sku": "K-0"}, "counted": 7, "mode": "SET"}],
        "idempotencyKey": "r",
    }
    await api(RECORD, {"input": record})
    submit = {"countId": first, "idempotencyKey": "submit-1"}
    assert (await api(SUBMIT, {"input": submit}))["submitStockCount"]["errors"] == []
    approve = {"countId": first, "idempotencyKey": "approve-1"}
    approved = await api(APPROVE, {"input": approve})
    assert approved["approveStockCount"]["stockCount"]["status"] == "APPROVED"
    # A late retry of the submit gets its answer again (the count as it is now), not WRONG_STATE.
    assert (await api(SUBMIT, {"input": submit}))["submitStockCount"] == {
        "stockCount": {"status": "APPROVED"},
        "errors": [],
    }
    assert await api(APPROVE, {"input": approve}) == approved
    abandon = {"countId": second, "idempotencyKey": "abandon-2"}
    abandoned = await api(ABANDON, {"input": abandon})
    assert abandoned["abandonStockCount"] == {"stockCount": {"status": "ABANDONED"}, "errors": []}
    assert await api(ABANDON, {"input": abandon}) == abandoned

    # Each key belongs to its first request: for another count it is refused and nothing happens.
    assert (await api(SUBMIT, {"input": {"countId": third, "idempotencyKey": "submit-1"}}))["submitStockCount"][
        "errors"
    ] == [{"field": "idempotencyKey", "message": ANY, "code": "IDEMPOTENCY_KEY_REUSED"}]
    assert await status(third) == "OPEN"
    await api(SUBMIT, {"input": {"countId": third, "idempotencyKey": "submit-3"}})
    for document, change in ((APPROVE, approve), (ABANDON, abandon)):
        [payload] = (await api(document, {"input": change | {"countId": third}})).values()
        assert [e["code"] for e in payload["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await status(third) == "REVIEW"
    assert await StockMovement.filter(reason="count").count() == 1
    assert await on_hand(branch, kurta) == 7
