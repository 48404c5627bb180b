"""The GraphQL contract for transfers: the whole way through the in-process API, typed errors,
FORBIDDEN outside the caller's branches, node(id:), the transfers list and ageing."""

import asyncio

from strawberry import relay

from models.staff import Role
from models.stock import StockLevel
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import make_branch, make_variants, stock

TRANSFER_FIELDS = """
  id number status note requestedBy { name } requestedAt approvedBy { name } dispatchedBy { name } dispatchedAt
  receivedAt closedAt
  inTransitSince ageHours
  sourceBranch { code } destinationBranch { code }
  lines { id quantityRequested quantityDispatched quantityReceived quantityDamaged quantityMissing outstanding
          variant { sku } }
  discrepancies { id kind quantity reason returnedToStockAt line { variant { sku } } transfer { number } }
"""
CREATE = f"""
mutation($input: CreateTransferInput!) {{
  createTransfer(input: $input) {{ transfer {{ {TRANSFER_FIELDS} }} errors {{ field message code }} }}
}}"""
APPROVE = f"""
mutation($input: ApproveTransferInput!) {{
  approveTransfer(input: $input) {{ transfer {{ {TRANSFER_FIELDS} }} errors {{ field message code }} }}
}}"""
DISPATCH = f"""
mutation($input: DispatchTransferInput!) {{
  dispatchTransfer(input: $input) {{ transfer {{ {TRANSFER_FIELDS} }} errors {{ field message code }} }}
}}"""
RECEIVE = f"""
mutation($input: ReceiveTransferInput!) {{
  receiveTransfer(input: $input) {{ transfer {{ {TRANSFER_FIELDS} }} errors {{ field message code }} }}
}}"""
CLOSE = f"""
mutation($input: CloseTransferInput!) {{
  closeTransfer(input: $input) {{ transfer {{ {TRANSFER_FIELDS} }} errors {{ field message code }} }}
}}"""
CANCEL = """
mutation($input: CancelTransferInput!) {
  cancelTransfer(input: $input) { transfer { status cancelledBy { name } } errors { field message code } }
}"""
RETURN = """
mutation($input: ReturnDiscrepancyToStockInput!) {
  returnDiscrepancyToStock(input: $input) {
    discrepancy { id kind returnedToStockAt returnedToStockBy { name } } transfer { number }
    errors { field message code }
  }
}"""
LIST = """
query($branch: ID, $status: TransferStatus, $first: Int!, $after: String, $older: Int) {
  transfers(branchId: $branch, status: $status, first: $first, after: $after, inTransitLongerThanHours: $older) {
    edges { cursor node { number status inTransitSince ageHours } }
    pageInfo { hasNextPage endCursor }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Transfer { number status lines { quantityRequested } } } }"


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


class Shop:
    pass


async def setup(api):  # noqa: F811
    s = Shop()
    s.lhr, s.khi, s.isb = await make_branch("LHR"), await make_branch("KHI"), await make_branch("ISB")
    s.kurta, s.shawl = await make_variants(2, prefix="K")
    await stock(s.lhr.id, s.kurta.id, 20)
    await stock(s.lhr.id, s.shawl.id, 5)
    s.owner = api
    s.lhr_clerk = await api.as_staff(Role.INVENTORY, [s.lhr.id])
    s.khi_clerk = await api.as_staff(Role.INVENTORY, [s.khi.id])
    s.lhr_manager = await api.as_staff(Role.BRANCH_MANAGER, [s.lhr.id])
    s.khi_manager = await api.as_staff(Role.BRANCH_MANAGER, [s.khi.id])
    s.isb_clerk = await api.as_staff(Role.INVENTORY, [s.isb.id])
    return s


async def level(branch, variant) -> tuple[int, int, int]:
    found = await StockLevel.get_or_none(branch_id=branch.id, variant_id=variant.id)
    return (found.on_hand, found.in_transit, found.damaged) if found else (0, 0, 0)


def ok(data: dict, name: str) -> dict:
    assert data[name]["errors"] == [], data[name]["errors"]
    return data[name]


async def requested(s, quantity=10, key="create-1"):
    body = {
        "sourceBranchId": gid("Branch", s.lhr.id),
        "destinationBranchId": gid("Branch", s.khi.id),
        "lines": [{"variant": {"sku": s.kurta.sku}, "quantity": quantity}],
        "note": "for the Eid rush",
        "submit": True,
        "idempotencyKey": key,
    }
    return ok(await s.khi_clerk(CREATE, {"input": body}), "createTransfer")["transfer"]


async def in_transit(s, quantity=10):
    t = await requested(s, quantity)
    ok(
        await s.lhr_manager(APPROVE, {"input": {"transferId": t["id"], "idempotencyKey": "approve-1"}}),
        "approveTransfer",
    )
    dispatched = await s.lhr_clerk(DISPATCH, {"input": {"transferId": t["id"], "idempotencyKey": "dispatch-1"}})
    return ok(dispatched, "dispatchTransfer")["transfer"]


async def test_the_whole_way_through_graphql(api):  # noqa: F811
    s = await setup(api)
    t = await requested(s)
    assert (t["number"], t["status"], t["note"]) == ("TR-000001", "REQUESTED", "for the Eid rush")
    assert t["requestedBy"] == {"name": "inventory user"}  # the Karachi clerk who asked, as a Staff
    assert (t["sourceBranch"]["code"], t["destinationBranch"]["code"]) == ("LHR", "KHI")
    assert t["inTransitSince"] is None and t["ageHours"] is None
    approve = {"input": {"transferId": t["id"], "idempotencyKey": "approve-1"}}
    t = ok(await s.lhr_manager(APPROVE, approve), "approveTransfer")["transfer"]
    assert t["status"] == "APPROVED" and t["approvedBy"]
    t = ok(
        await s.lhr_clerk(DISPATCH, {"input": {"transferId": t["id"], "idempotencyKey": "d-1"}}), "dispatchTransfer"
    )["transfer"]
    assert t["status"] == "IN_TRANSIT" and t["inTransitSince"] == t["dispatchedAt"]
    assert 0 <= t["ageHours"] < 1
    assert await level(s.lhr, s.kurta) == (10, 10, 0)

    line_id = t["lines"][0]["id"]
    receive = {
        "transferId": t["id"],
        "lines": [{"lineId": line_id, "received": 8, "damaged": 1, "missing": 1, "reason": "carton crushed"}],
        "idempotencyKey": "receipt-1",
    }
    t = ok(await s.khi_clerk(RECEIVE, {"input": receive}), "receiveTransfer")["transfer"]
    again = ok(await s.khi_clerk(RECEIVE, {"input": receive}), "receiveTransfer")["transfer"]  # a retry
    assert again == t
    assert t["status"] == "RECEIVED" and t["inTransitSince"] is None
    line = t["lines"][0]
    assert (line["quantityReceived"], line["quantityDamaged"], line["quantityMissing"], line["outstanding"]) == (
        8,
        1,
        1,
        0,
    )
    assert await level(s.lhr, s.kurta) == (10, 0, 0)
    assert await level(s.khi, s.kurta) == (8, 0, 1)
    kinds = {d["kind"]: d for d in t["discrepancies"]}
    assert set(kinds) == {"DAMAGED", "MISSING"}
    assert kinds["MISSING"]["line"]["variant"]["sku"] == s.kurta.sku
    assert kinds["MISSING"]["transfer"]["number"] == "TR-000001"

    found = {"input": {"discrepancyId": kinds["MISSING"]["id"], "idempotencyKey": "found-1"}}
    back = ok(await s.khi_clerk(RETURN, found), "returnDiscrepancyToStock")
    assert back["discrepancy"]["returnedToStockAt"] and back["transfer"]["number"] == "TR-000001"
    assert await level(s.khi, s.kurta) == (9, 0, 1)
    second = {"input": {"discrepancyId": kinds["MISSING"]["id"], "idempotencyKey": "found-2"}}
    refused = (await s.khi_clerk(RETURN, second))["returnDiscrepancyToStock"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("ALREADY_RETURNED", "discrepancyId")]
    assert refused["discrepancy"] is None
    assert await level(s.khi, s.kurta) == (9, 0, 1)

    # Lines and discrepancies resolve through node(id:) for anyone who sees the transfer.
    node = "query($id: ID!) { node(id: $id) { ... on TransferDiscrepancy { kind returnedToStockBy { name } } } }"
    assert (await s.lhr_clerk(node, {"id": kinds["MISSING"]["id"]}))["node"]["kind"] == "MISSING"
    assert (await s.isb_clerk(node, {"id": kinds["MISSING"]["id"]}))["node"] is None
    line_node = "query($id: ID!) { node(id: $id) { ... on TransferLine { quantityReceived variant { sku } } } }"
    assert (await s.khi_clerk(line_node, {"id": line_id}))["node"] == {
        "quantityReceived": 8,
        "variant": {"sku": s.kurta.sku},
    }

    t = ok(await s.khi_clerk(CLOSE, {"input": {"transferId": t["id"], "idempotencyKey": "close-1"}}), "closeTransfer")[
        "transfer"
    ]
    assert t["status"] == "CLOSED" and t["closedAt"] and t["ageHours"] is not None


async def test_bad_input_comes_back_as_typed_errors_and_writes_nothing(api):  # noqa: F811
    s = await setup(api)
    same = {
        "sourceBranchId": gid("Branch", s.lhr.id),
        "destinationBranchId": gid("Branch", s.lhr.id),
        "lines": [{"variant": {"sku": s.kurta.sku}, "quantity": 0}, {"variant": {"sku": "NO-SUCH"}, "quantity": 1}],
        "idempotencyKey": "bad-1",
    }
    result = (await s.lhr_clerk(CREATE, {"input": same}))["createTransfer"]
    assert result["transfer"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [
        ("INVALID", "destinationBranchId"),
        ("INVALID", "lines.0.quantity"),
    ]
    unknown = same | {
        "destinationBranchId": gid("Branch", s.khi.id),
        "lines": [{"variant": {"sku": "NO-SUCH"}, "quantity": 1}],
    }
    result = (await s.lhr_clerk(CREATE, {"input": unknown}))["createTransfer"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", "lines.0.variant.sku")]
    not_an_id = unknown | {"sourceBranchId": "nope", "lines": [{"variant": {"sku": s.kurta.sku}, "quantity": 1}]}
    result = (await s.lhr_clerk(CREATE, {"input": not_an_id}))["createTransfer"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "sourceBranchId")]

    t = await in_transit(s)
    too_many = {
        "transferId": t["id"],
        "lines": [{"variantId": gid("Variant", s.kurta.id), "received": 11}],
        "idempotencyKey": "r-1",
    }
    result = (await s.khi_clerk(RECEIVE, {"input": too_many}))["receiveTransfer"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "lines.0.received")]
    negative = too_many | {"lines": [{"variantId": gid("Variant", s.kurta.id), "received": -1}], "idempotencyKey": "r2"}
    result = (await s.khi_clerk(RECEIVE, {"input": negative}))["receiveTransfer"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "lines.0.received")]
    cancel = {"input": {"transferId": t["id"], "idempotencyKey": "c-1"}}
    result = (await s.khi_clerk(CANCEL, cancel))["cancelTransfer"]
    assert [e["code"] for e in result["errors"]] == ["WRONG_STATE"]
    assert await level(s.khi, s.kurta) == (0, 0, 0)
    assert await level(s.lhr, s.kurta) == (10, 10, 0)
    from models.transfers import Transfer

    assert await Transfer.all().count() == 1


async def test_acting_outside_your_branches_is_forbidden(api):  # noqa: F811
    s = await setup(api)
    body = {
        "sourceBranchId": gid("Branch", s.lhr.id),
        "destinationBranchId": gid("Branch", s.khi.id),
        "lines": [{"variant": {"sku": s.kurta.sku}, "quantity": 2}],
        "submit": True,
        "idempotencyKey": "outsider",
    }
    denied = await s.isb_clerk.raw(CREATE, {"input": body})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    t = await requested(s)
    approve = {"input": {"transferId": t["id"], "idempotencyKey": "a"}}
    for who in (s.khi_manager, s.lhr_clerk, s.isb_clerk):
        assert (await who.raw(APPROVE, approve))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ok(await s.lhr_manager(APPROVE, approve), "approveTransfer")
    dispatch = {"input": {"transferId": t["id"], "idempotencyKey": "d"}}
    assert (await s.khi_clerk.raw(DISPATCH, dispatch))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ok(await s.lhr_clerk(DISPATCH, dispatch), "dispatchTransfer")
    receive = {
        "input": {
            "transferId": t["id"],
            "lines": [{"lineId": t["lines"][0]["id"], "received": 1}],
            "idempotencyKey": "r",
        }
    }
    assert (await s.lhr_clerk.raw(RECEIVE, receive))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nobody outside sees it, through the list or node(id:).
    assert (await s.isb_clerk(NODE, {"id": t["id"]}))["node"] is None
    assert (await s.khi_clerk(NODE, {"id": t["id"]}))["node"]["number"] == "TR-000001"
    assert (await s.isb_clerk(LIST, {"first": 10}))["transfers"]["edges"] == []
    forbidden = await s.isb_clerk.raw(LIST, {"first": 10, "branch": gid("Branch", s.lhr.id)})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await level(s.lhr, s.kurta) == (10, 10, 0)
    assert await level(s.khi, s.kurta) == (0, 0, 0)


async def test_the_transfers_list_pages_filters_and_shows_ageing(api):  # noqa: F811
    s = await setup(api)
    for i in range(3):
        await requested(s, quantity=1, key=f"c-{i}")
    t = await in_transit(s, quantity=2)  # the fourth
    page = (await s.khi_clerk(LIST, {"first": 2, "branch": gid("Branch", s.khi.id)}))["transfers"]
    assert [e["node"]["number"] for e in page["edges"]] == ["TR-000001", "TR-000002"]
    assert page["pageInfo"]["hasNextPage"]
    rest = (await s.khi_clerk(LIST, {"first": 5, "after": page["pageInfo"]["endCursor"]}))["transfers"]
    assert [e["node"]["number"] for e in rest["edges"]] == ["TR-000003", "TR-000004"]
    moving = (await s.lhr_clerk(LIST, {"first": 10, "status": "IN_TRANSIT"}))["transfers"]["edges"]
    assert [e["node"]["number"] for e in moving] == [t["number"]]
    assert moving[0]["node"]["inTransitSince"] is not None
    assert (await s.owner(LIST, {"first": 10, "older": 0}))["transfers"]["edges"][0]["node"]["number"] == t["number"]
    assert (await s.owner(LIST, {"first": 10, "older": 1}))["transfers"]["edges"] == []


async def test_dispatching_twice_over_graphql_moves_stock_once(api):  # noqa: F811
    s = await setup(api)
    t = await requested(s)
    ok(await s.lhr_manager(APPROVE, {"input": {"transferId": t["id"], "idempotencyKey": "a"}}), "approveTransfer")
    results = await asyncio.gather(
        *(s.lhr_clerk(DISPATCH, {"input": {"transferId": t["id"], "idempotencyKey": f"d-{i}"}}) for i in range(3))
    )
    outcomes = sorted(tuple(e["code"] for e in r["dispatchTransfer"]["errors"]) for r in results)
    assert outcomes == [(), ("WRONG_STATE",), ("WRONG_STATE",)]
    assert await level(s.lhr, s.kurta) == (10, 10, 0)
