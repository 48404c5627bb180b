"""setBranchOnlineSettings: how a branch ships online orders, its routing priority and walk-in stock."""

from models.branches import Branch
from models.staff import AuditEntry, Role
from tests.api.test_access import code_of, gid
from tests.factories import make_branch

SET = """
mutation($b: ID!, $w: FulfillmentWorkflow, $p: Int, $s: Int, $k: String! = "k") {
  setBranchOnlineSettings(input: {branchId: $b, fulfillmentWorkflow: $w, routingPriority: $p, onlineSafetyStock: $s,
                                  idempotencyKey: $k}) {
    branch { fulfillmentWorkflow routingPriority onlineSafetyStock }
    errors { field code }
  }
}"""


async def test_an_owner_chooses_the_workflow_and_routing_of_a_branch(api):
    branch = await make_branch("LHR")
    data = await api(SET, {"b": gid("Branch", branch.id), "w": "SMART", "p": 10, "s": 2, "k": "set-1"})
    assert data["setBranchOnlineSettings"] == {
        "branch": {"fulfillmentWorkflow": "SMART", "routingPriority": 10, "onlineSafetyStock": 2},
        "errors": [],
    }
    # Left out: left as it is.
    data = await api(SET, {"b": gid("Branch", branch.id), "w": "MANUAL", "k": "set-2"})
    assert data["setBranchOnlineSettings"]["branch"] == {
        "fulfillmentWorkflow": "MANUAL",
        "routingPriority": 10,
        "onlineSafetyStock": 2,
    }


async def test_bad_settings_are_typed_errors_and_change_nothing(api):
    branch = await make_branch("KHI")
    data = await api(SET, {"b": gid("Branch", branch.id), "p": -1, "s": -5})
    errors = data["setBranchOnlineSettings"]["errors"]
    assert sorted(e["field"] for e in errors) == ["onlineSafetyStock", "routingPriority"]
    assert {e["code"] for e in errors} == {"INVALID"}
    drone = await api.raw(SET, {"b": gid("Branch", branch.id), "w": "DRONE"})  # not a workflow: refused up front
    assert drone.get("data") is None and drone["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", drone
    assert "FulfillmentWorkflow" in drone["errors"][0]["message"]
    fresh = await Branch.get(id=branch.id)
    assert (fresh.fulfillment_workflow, fresh.routing_priority, fresh.online_safety_stock) == ("branch_sync", 100, 0)
    unknown = await api(SET, {"b": gid("Branch", branch.id + 99), "p": 1, "k": "unknown"})
    assert unknown["setBranchOnlineSettings"]["errors"] == [{"field": "branchId", "code": "NOT_FOUND"}]


async def test_a_branch_manager_may_not_change_them(api):
    branch = await make_branch("ISB")
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    assert code_of(await manager.raw(SET, {"b": gid("Branch", branch.id), "w": "SMART"})) == "FORBIDDEN"
    assert (await Branch.get(id=branch.id)).fulfillment_workflow == "branch_sync"


async def test_refusals_are_answered_without_an_error_in_the_log(api, caplog):
    """A stale token or a caller outside their branches is an answer, not a fault: nothing at ERROR."""
    import logging

    branch = await make_branch("MUL")
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    caplog.set_level(logging.ERROR)
    assert code_of(await manager.raw(SET, {"b": gid("Branch", branch.id), "w": "SMART"})) == "FORBIDDEN"
    assert code_of(await api.as_token("not-a-token").raw(SET, {"b": gid("Branch", branch.id)})) == "UNAUTHENTICATED"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_repeat_changes_nothing_again_and_a_reused_key_is_refused(api):
    branch = await make_branch("GUJ")
    b = gid("Branch", branch.id)
    first = await api(SET, {"b": b, "w": "SMART", "p": 5, "k": "online-1"})
    await api(SET, {"b": b, "w": "MANUAL", "k": "online-2"})
    again = (await api(SET, {"b": b, "w": "SMART", "p": 5, "k": "online-1"}))["setBranchOnlineSettings"]
    assert again["errors"] == [] and first["setBranchOnlineSettings"]["errors"] == []
    assert again["branch"]["fulfillmentWorkflow"] == "MANUAL"  # the late retry did not put SMART back
    reused = (await api(SET, {"b": b, "p": 7, "k": "online-1"}))["setBranchOnlineSettings"]
    assert reused == {"branch": None, "errors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]}
    fresh = await Branch.get(id=branch.id)
    assert (fresh.fulfillment_workflow, fresh.routing_priority) == ("manual", 5)
    assert await AuditEntry.filter(action="branch.online_settings").count() == 2
