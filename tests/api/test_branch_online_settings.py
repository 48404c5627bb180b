"""setBranchOnlineSettings: how a branch ships online orders, its routing priority and walk-in stock."""

from models.branches import Branch
from models.staff import AuditEntry, Role
from tests.api.test_access import code_of, gid
from tests.factories import key, make_branch

SET = """
mutation($b: ID!, $k: String!, $w: FulfillmentWorkflow, $p: Int, $s: Int) {
  setBranchOnlineSettings(input: {
    branchId: $b, idempotencyKey: $k, fulfillmentWorkflow: $w, routingPriority: $p, onlineSafetyStock: $s
  }) {
    branch { fulfillmentWorkflow routingPriority onlineSafetyStock }
    errors { field code }
  }
}"""


async def test_an_owner_chooses_the_workflow_and_routing_of_a_branch(api):
    branch = await make_branch("LHR")
    data = await api(SET, {"b": gid("Branch", branch.id), "k": key(), "w": "SMART", "p": 10, "s": 2})
    assert data["setBranchOnlineSettings"] == {
        "branch": {"fulfillmentWorkflow": "SMART", "routingPriority": 10, "onlineSafetyStock": 2},
        "errors": [],
    }
    # Left out: left as it is.
    data = await api(SET, {"b": gid("Branch", branch.id), "k": key(), "w": "MANUAL"})
    assert data["setBranchOnlineSettings"]["branch"] == {
        "fulfillmentWorkflow": "MANUAL",
        "routingPriority": 10,
        "onlineSafetyStock": 2,
    }


async def test_a_repeat_with_the_same_key_returns_the_branch_and_changes_nothing(api):
    branch = await make_branch("SKT")
    b = gid("Branch", branch.id)
    first_key = key()
    first = await api(SET, {"b": b, "k": first_key, "w": "SMART", "p": 10})
    assert first["setBranchOnlineSettings"]["errors"] == []
    await api(SET, {"b": b, "k": key(), "w": "MANUAL", "p": 20})  # changed since, under another key
    audited = await AuditEntry.filter(action="branch.online_settings").count()
    again = await api(SET, {"b": b, "k": first_key, "w": "SMART", "p": 10})  # a client's retry of the first
    assert again["setBranchOnlineSettings"] == {
        "branch": {"fulfillmentWorkflow": "MANUAL", "routingPriority": 20, "onlineSafetyStock": 0},
        "errors": [],
    }
    fresh = await Branch.get(id=branch.id)
    assert (fresh.fulfillment_workflow, fresh.routing_priority) == ("manual", 20)  # not set back
    assert await AuditEntry.filter(action="branch.online_settings").count() == audited
    reused = await api(SET, {"b": b, "k": first_key, "w": "BRANCH_SYNC"})
    assert reused["setBranchOnlineSettings"] == {
        "branch": None,
        "errors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}],
    }
    assert (await Branch.get(id=branch.id)).fulfillment_workflow == "manual"


async def test_bad_settings_are_typed_errors_and_change_nothing(api):
    branch = await make_branch("KHI")
    data = await api(SET, {"b": gid("Branch", branch.id), "k": key(), "p": -1, "s": -5})
    errors = data["setBranchOnlineSettings"]["errors"]
    assert sorted(e["field"] for e in errors) == ["onlineSafetyStock", "routingPriority"]
    assert {e["code"] for e in errors} == {"INVALID"}
    # A workflow that does not exist is no value of the enum: GraphQL refuses it before anything runs.
    body = await api.raw(SET, {"b": gid("Branch", branch.id), "k": key(), "w": "DRONE"})
    assert body["errors"] and "FulfillmentWorkflow" in body["errors"][0]["message"]
    fresh = await Branch.get(id=branch.id)
    assert (fresh.fulfillment_workflow, fresh.routing_priority, fresh.online_safety_stock) == ("branch_sync", 100, 0)
    unknown = await api(SET, {"b": gid("Branch", branch.id + 99), "k": key(), "p": 1})
    assert unknown["setBranchOnlineSettings"]["errors"] == [{"field": "branchId", "code": "NOT_FOUND"}]


async def test_a_branch_manager_may_not_change_them(api):
    branch = await make_branch("ISB")
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    assert code_of(await manager.raw(SET, {"b": gid("Branch", branch.id), "k": key(), "w": "SMART"})) == "FORBIDDEN"
    assert (await Branch.get(id=branch.id)).fulfillment_workflow == "branch_sync"


async def test_refusals_are_answered_without_an_error_in_the_log(api, caplog):
    """A stale token or a caller outside their branches is an answer, not a fault: nothing at ERROR."""
    import logging

    branch = await make_branch("MUL")
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    caplog.set_level(logging.ERROR)
    assert code_of(await manager.raw(SET, {"b": gid("Branch", branch.id), "k": key(), "w": "SMART"})) == "FORBIDDEN"
    stale = await api.as_token("not-a-token").raw(SET, {"b": gid("Branch", branch.id), "k": key()})
    assert code_of(stale) == "UNAUTHENTICATED"
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
