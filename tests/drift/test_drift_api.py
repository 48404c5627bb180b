"""driftReport, checkDrift and repairDrift over GraphQL: shapes, typed errors and who may use them."""

import asyncio

from models.staff import Role
from tests.sync.conftest import assert_shopify_agrees, mapped_levels

CHECK = """
mutation($wait: Boolean!) { checkDrift(input: {wait: $wait}) {
  check { id status levelsCompared unexplained explained }
  errors { code message field }
} }
"""
REPORT = """
query($id: ID, $only: Boolean! = false) { driftReport(checkId: $id, onlyDrift: $only) {
  id status unexplained
  lines {
    id branch { code } variant { sku } sku status explanation difference damagedDifference unexplained
    shopify { stocked available committed reserved damaged onHand } branchline { onHand reserved damaged }
    inFlight { kind bucket quantity count } changedInShopifySinceCheck repairStatus repairMessage
  }
} }
"""
REPAIR = """
mutation($check: ID!, $lines: [ID!]) { repairDrift(input: {checkId: $check, lineIds: $lines}) {
  repaired results { outcome message alreadyRepaired line { id repairStatus } }
  check { id } errors { code field message }
} }
"""


async def _drift_at_two_branches(shop):
    levels = await mapped_levels()
    first = levels[0]
    second = next(x for x in levels if x[0].id != first[0].id)
    for branch, variant, level in (first, second):
        shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 3)
    return first, second


async def test_check_report_and_repair_over_graphql(connected, api):
    (branch, variant, level), _ = await _drift_at_two_branches(connected.shop)
    checked = (await api(CHECK, {"wait": True}))["checkDrift"]
    assert checked["errors"] == [] and checked["check"]["status"] == "COMPLETED"
    assert checked["check"]["unexplained"] == 2

    report = (await api(REPORT, {"only": True}))["driftReport"]
    assert report["id"] == checked["check"]["id"]
    line = next(ln for ln in report["lines"] if ln["branch"]["code"] == branch.code)
    assert line["sku"] == line["variant"]["sku"] == variant.sku
    assert line["shopify"] == {
        "stocked": True,
        "available": level.on_hand + 3,
        "committed": 0,
        "reserved": 0,
        "damaged": 0,
        "onHand": level.on_hand + 3,
    }
    assert line["branchline"] == {"onHand": level.on_hand, "reserved": 0, "damaged": 0}
    assert (line["status"], line["difference"], line["unexplained"], line["inFlight"]) == ("UNEXPLAINED", -3, -3, [])

    repaired = (await api(REPAIR, {"check": report["id"], "lines": [line["id"]]}))["repairDrift"]
    assert repaired["errors"] == [] and repaired["repaired"] == 1
    assert repaired["results"][0]["outcome"] == "REPAIRED"
    assert repaired["results"][0]["line"] == {"id": line["id"], "repairStatus": "REPAIRED"}
    rest = (await api(REPAIR, {"check": report["id"]}))["repairDrift"]
    assert [r["alreadyRepaired"] for r in rest["results"]] == [True, False]
    await assert_shopify_agrees(connected.shop)


async def test_a_check_may_run_in_the_background(connected, api):
    started = (await api(CHECK, {"wait": False}))["checkDrift"]
    assert started["check"]["status"] == "RUNNING"
    busy = (await api(CHECK, {"wait": True}))["checkDrift"]
    assert busy["errors"][0]["code"] == "WRONG_STATE" and busy["check"] is None
    for _ in range(200):
        report = (await api(REPORT, {"id": started["check"]["id"]}))["driftReport"]
        if report["status"] != "RUNNING":
            break
        await asyncio.sleep(0.05)
    assert report["status"] == "COMPLETED" and report["lines"] == []


async def test_bad_input_gets_typed_errors(connected, api):
    await _drift_at_two_branches(connected.shop)
    check_id = (await api(CHECK, {"wait": True}))["checkDrift"]["check"]["id"]
    cases = [
        ({"check": "nonsense"}, "INVALID", "checkId"),
        ({"check": "RHJpZnRDaGVjazo5OTk="}, "NOT_FOUND", "checkId"),  # DriftCheck:999
        ({"check": check_id, "lines": ["QnJhbmNoOjE="]}, "INVALID", "lineIds.0"),  # a Branch id
        ({"check": check_id, "lines": ["RHJpZnRMaW5lOjk5OQ=="]}, "NOT_FOUND", "lineIds.0"),  # DriftLine:999
    ]
    for variables, code, field in cases:
        errors = (await api(REPAIR, variables))["repairDrift"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], variables
    body = await api.raw(REPORT, {"id": "nonsense"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api(REPORT, {"id": "RHJpZnRDaGVjazo5OTk="}))["driftReport"] is None


async def test_not_connected_is_a_typed_error(db, api):
    errors = (await api(CHECK, {"wait": True}))["checkDrift"]["errors"]
    assert errors[0]["code"] == "NOT_CONNECTED"
    assert (await api(REPORT))["driftReport"] is None


async def test_only_owners_and_managers_and_managers_at_their_branches(connected, api):
    (mine, _, _), (theirs, _, _) = await _drift_at_two_branches(connected.shop)
    check = (await api(CHECK, {"wait": True}))["checkDrift"]["check"]
    for role in (Role.CASHIER, Role.INVENTORY, Role.FINANCE):
        staff = await api.as_staff(role, [mine.id])
        for query, variables in ((REPORT, {}), (CHECK, {"wait": True}), (REPAIR, {"check": check["id"]})):
            body = await staff.raw(query, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, query)

    manager = await api.as_staff(Role.BRANCH_MANAGER, [mine.id])
    lines = (await manager(REPORT))["driftReport"]["lines"]
    assert {ln["branch"]["code"] for ln in lines} == {mine.code}
    everyone = (await api(REPORT))["driftReport"]["lines"]
    other = next(ln for ln in everyone if ln["branch"]["code"] == theirs.code)
    body = await manager.raw(REPAIR, {"check": check["id"], "lines": [other["id"]]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = (await manager(REPAIR, {"check": check["id"]}))["repairDrift"]  # only the lines they may see
    assert done["repaired"] == 1
