"""driftReport, checkDrift and repairDrift over GraphQL: shapes, typed errors and who may use them."""

import asyncio
import itertools
from unittest.mock import ANY

from strawberry import relay

from models.drift import DriftCheck, DriftLine
from models.staff import AuditEntry, Role
from tests.sync.conftest import assert_shopify_agrees, mapped_levels

CHECK = """
mutation($wait: Boolean!, $key: String!) { checkDrift(input: {wait: $wait, idempotencyKey: $key}) {
  check { id status levelsCompared unexplained explained requestedBy { role } }
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
mutation($check: ID!, $lines: [ID!], $key: String!) {
  repairDrift(input: {checkId: $check, lineIds: $lines, idempotencyKey: $key}) {
  repaired results { outcome message alreadyRepaired line { id repairStatus } }
  check { id } errors { code field message }
} }
"""

_keys = itertools.count(1)


def keyed(**variables) -> dict:
    """The variables with a fresh idempotency key."""
    return {**variables, "key": f"drift-{next(_keys)}"}


async def _drift_at_two_branches(shop):
    levels = await mapped_levels()
    first = levels[0]
    second = next(x for x in levels if x[0].id != first[0].id)
    for branch, variant, level in (first, second):
        shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 3)
    return first, second


async def test_check_report_and_repair_over_graphql(connected, api):
    (branch, variant, level), _ = await _drift_at_two_branches(connected.shop)
    checked = (await api(CHECK, keyed(wait=True)))["checkDrift"]
    assert checked["errors"] == [] and checked["check"]["status"] == "COMPLETED"
    assert checked["check"]["unexplained"] == 2 and checked["check"]["requestedBy"] == {"role": "OWNER"}

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

    repaired = (await api(REPAIR, keyed(check=report["id"], lines=[line["id"]])))["repairDrift"]
    assert repaired["errors"] == [] and repaired["repaired"] == 1
    assert repaired["results"][0]["outcome"] == "REPAIRED"
    assert repaired["results"][0]["line"] == {"id": line["id"], "repairStatus": "REPAIRED"}
    rest = (await api(REPAIR, keyed(check=report["id"])))["repairDrift"]
    assert [r["alreadyRepaired"] for r in rest["results"]] == [True, False]
    await assert_shopify_agrees(connected.shop)


async def test_a_check_may_run_in_the_background(connected, api):
    started = (await api(CHECK, keyed(wait=False)))["checkDrift"]
    assert started["check"]["status"] == "RUNNING"
    busy = (await api(CHECK, keyed(wait=True)))["checkDrift"]
    assert busy["errors"][0]["code"] == "WRONG_STATE" and busy["check"] is None
    for _ in range(200):
        report = (await api(REPORT, {"id": started["check"]["id"]}))["driftReport"]
        if report["status"] != "RUNNING":
            break
        await asyncio.sleep(0.05)
    assert report["status"] == "COMPLETED" and report["lines"] == []


async def test_bad_input_gets_typed_errors(connected, api):
    await _drift_at_two_branches(connected.shop)
    check_id = (await api(CHECK, keyed(wait=True)))["checkDrift"]["check"]["id"]
    cases = [
        ({"check": "nonsense"}, "INVALID", "checkId"),
        ({"check": "RHJpZnRDaGVjazo5OTk="}, "NOT_FOUND", "checkId"),  # DriftCheck:999
        ({"check": check_id, "lines": ["QnJhbmNoOjE="]}, "INVALID", "lineIds.0"),  # a Branch id
        ({"check": check_id, "lines": ["RHJpZnRMaW5lOjk5OQ=="]}, "NOT_FOUND", "lineIds.0"),  # DriftLine:999
    ]
    for variables, code, field in cases:
        errors = (await api(REPAIR, keyed(**variables)))["repairDrift"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], variables
    body = await api.raw(REPORT, {"id": "nonsense"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api(REPORT, {"id": "RHJpZnRDaGVjazo5OTk="}))["driftReport"] is None


async def test_not_connected_is_a_typed_error(db, api):
    errors = (await api(CHECK, keyed(wait=True)))["checkDrift"]["errors"]
    assert errors[0]["code"] == "NOT_CONNECTED"
    assert (await api(REPORT))["driftReport"] is None


async def test_only_owners_and_managers_and_managers_at_their_branches(connected, api):
    (mine, _, _), (theirs, _, _) = await _drift_at_two_branches(connected.shop)
    check = (await api(CHECK, keyed(wait=True)))["checkDrift"]["check"]
    for role in (Role.CASHIER, Role.INVENTORY, Role.FINANCE):
        staff = await api.as_staff(role, [mine.id])
        for query, variables in ((REPORT, {}), (CHECK, keyed(wait=True)), (REPAIR, keyed(check=check["id"]))):
            body = await staff.raw(query, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, query)

    manager = await api.as_staff(Role.BRANCH_MANAGER, [mine.id])
    lines = (await manager(REPORT))["driftReport"]["lines"]
    assert {ln["branch"]["code"] for ln in lines} == {mine.code}
    everyone = (await api(REPORT))["driftReport"]["lines"]
    other = next(ln for ln in everyone if ln["branch"]["code"] == theirs.code)
    body = await manager.raw(REPAIR, keyed(check=check["id"], lines=[other["id"]]))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = (await manager(REPAIR, keyed(check=check["id"])))["repairDrift"]  # only the lines they may see
    assert done["repaired"] == 1


async def test_check_and_repair_repeated_with_their_keys_do_nothing_twice(connected, api):
    (branch, _, _), (other_branch, _, _) = await _drift_at_two_branches(connected.shop)
    checked = (await api(CHECK, {"wait": True, "key": "check-1"}))["checkDrift"]
    assert checked["errors"] == [] and checked["check"]["status"] == "COMPLETED"
    calls = len(connected.shop.calls)

    again = (await api(CHECK, {"wait": True, "key": "check-1"}))["checkDrift"]
    assert again == checked
    assert len(connected.shop.calls) == calls and await DriftCheck.all().count() == 1  # no second check ran
    background = (await api(CHECK, {"wait": False, "key": "check-1"}))["checkDrift"]
    reused = {"code": "IDEMPOTENCY_KEY_REUSED", "message": ANY, "field": "idempotencyKey"}
    assert background == {"check": None, "errors": [reused]}

    lines = (await api(REPORT, {"only": True}))["driftReport"]["lines"]
    mine = next(ln for ln in lines if ln["branch"]["code"] == branch.code)
    theirs = next(ln for ln in lines if ln["branch"]["code"] == other_branch.code)
    repair = {"check": checked["check"]["id"], "lines": [mine["id"]], "key": "repair-1"}
    repaired = (await api(REPAIR, repair))["repairDrift"]
    assert repaired["errors"] == [] and repaired["repaired"] == 1
    assert repaired["results"][0]["alreadyRepaired"] is False
    calls = len(connected.shop.calls)

    repeated = (await api(REPAIR, repair))["repairDrift"]

    assert len(connected.shop.calls) == calls  # nothing sent to Shopify again
    assert repeated["repaired"] == 1 and repeated["errors"] == []
    assert [(r["outcome"], r["message"], r["line"]) for r in repeated["results"]] == [
        (r["outcome"], r["message"], r["line"]) for r in repaired["results"]
    ]
    assert repeated["results"][0]["alreadyRepaired"] is True  # repaired by the first request, nothing sent now
    assert await AuditEntry.filter(action="shopify.drift_repaired").count() == 1

    elsewhere = (await api(REPAIR, {**repair, "lines": [theirs["id"]]}))["repairDrift"]
    assert [(e["code"], e["field"]) for e in elsewhere["errors"]] == [("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")]
    assert (await DriftLine.get(id=int(relay.GlobalID.from_id(theirs["id"]).node_id))).repair_status is None
