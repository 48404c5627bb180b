"""Who may do what, where: sign-in, lockouts, tokens, and the role × branch matrix."""

from datetime import UTC, datetime, timedelta

import pytest

from models.staff import Role, Staff, StaffSession
from models.stock import StockLevel
from operations.directory.branches import NewCounter, create_counter
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.api.conftest import PASSWORD
from tests.factories import make_branch, make_variants, stock

LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token staff { role } errors { code field } } }"  # noqa: E501
COUNTER_LOGIN = "mutation($c: ID!, $pin: String!) { counterLogin(input: {counterId: $c, pin: $pin}) { token staff { name } errors { code } } }"  # noqa: E501
BRANCHES = "{ branches(first: 10) { edges { node { code } } } }"
LEVELS = "query($b: ID!) { stockLevels(branchId: $b, first: 10) { edges { node { onHand } } } }"
ADJUST = """mutation($b: ID!, $k: String!) { adjustStock(input: {branchId: $b, reason: CORRECTION,
  lines: [{variant: {sku: "P-0"}, quantity: 1}], idempotencyKey: $k}) { movements { onHand } errors { code } } }"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


@pytest.fixture
async def two_branches(db):
    a, b = await make_branch("A"), await make_branch("B")
    [v] = await make_variants(1, prefix="P")
    for branch in (a, b):
        await stock(branch.id, v.id, 5)
    return a, b


async def test_anonymous_callers_are_asked_to_sign_in(anonymous, two_branches):
    a, _ = two_branches
    for body in (await anonymous.raw(BRANCHES), await anonymous.raw(ADJUST, {"b": gid("Branch", a.id), "k": "x"})):
        assert code_of(body) == "UNAUTHENTICATED"
    assert code_of(await anonymous.as_token("forged-token").raw(BRANCHES)) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("role", "sees_a", "adjusts_a", "sees_b"),
    [
        (Role.OWNER, True, True, True),
        (Role.BRANCH_MANAGER, True, True, False),
        (Role.INVENTORY, True, True, False),
        (Role.CASHIER, True, False, False),
        (Role.FINANCE, False, False, False),
    ],
)
async def test_role_and_branch_matrix_for_stock(anonymous, two_branches, role, sees_a, adjusts_a, sees_b):
    a, b = two_branches
    client = await anonymous.as_staff(role, [a.id] if role is not Role.OWNER else [])
    for branch, allowed in ((a, sees_a), (b, sees_b)):
        body = await client.raw(LEVELS, {"b": gid("Branch", branch.id)})
        assert ("errors" not in body) == allowed, body
        if not allowed:
            assert code_of(body) == "FORBIDDEN"
    body = await client.raw(ADJUST, {"b": gid("Branch", a.id), "k": f"adj-{role}"})
    assert ("errors" not in body) == adjusts_a, body
    body = await client.raw(ADJUST, {"b": gid("Branch", b.id), "k": f"adj-b-{role}"})
    assert ("errors" not in body) == (role is Role.OWNER), body
    codes = [e["node"]["code"] for e in (await client(BRANCHES))["branches"]["edges"]] if sees_a or adjusts_a else None
    if codes is not None:
        assert codes == (["A", "B"] if role is Role.OWNER else ["A"])


async def test_only_managers_of_a_branch_create_its_counters_and_cashiers(anonymous, two_branches):
    a, b = two_branches
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [a.id])
    q = "mutation($b: ID!, $c: String!) { createCounter(input: {branchId: $b, code: $c, name: $c, idempotencyKey: $c}) { counter { code } errors { code } } }"  # noqa: E501
    assert (await manager(q, {"b": gid("Branch", a.id), "c": "C9"}))["createCounter"]["counter"]["code"] == "C9"
    assert code_of(await manager.raw(q, {"b": gid("Branch", b.id), "c": "C9"})) == "FORBIDDEN"
    staff = """mutation($b: [ID!]!, $r: StaffRole!) { createStaff(input: {email: "new@x.pk", name: "New",
      role: $r, pin: "4391", branchIds: $b, idempotencyKey: "new@x"}) { staff { role } errors { code field } } }"""
    assert code_of(await manager.raw(staff, {"b": [gid("Branch", b.id)], "r": "CASHIER"})) == "FORBIDDEN"
    made = await manager(staff, {"b": [gid("Branch", a.id)], "r": "CASHIER"})
    assert made["createStaff"]["staff"]["role"] == "CASHIER"
    refused = await manager(staff.replace("new@x", "new2@x"), {"b": [gid("Branch", a.id)], "r": "BRANCH_MANAGER"})
    assert refused["createStaff"]["errors"][0]["field"] == "role"
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id])
    assert code_of(await cashier.raw(staff, {"b": [gid("Branch", a.id)], "r": "CASHIER"})) == "FORBIDDEN"


async def test_wrong_passwords_are_refused_then_locked(anonymous, two_branches):
    await anonymous.as_staff(Role.CASHIER, [two_branches[0].id])
    email = (await Staff.get(role=Role.CASHIER)).email
    for _ in range(4):
        data = (await anonymous(LOGIN, {"e": email, "p": "wrong password"}))["login"]
        assert data["errors"][0]["code"] == "INVALID_CREDENTIALS" and data["token"] is None
    unknown = (await anonymous(LOGIN, {"e": "nobody@x.pk", "p": "wrong password"}))["login"]
    assert unknown["errors"][0]["code"] == "INVALID_CREDENTIALS"  # same answer as a wrong password
    await anonymous(LOGIN, {"e": email, "p": "wrong password"})
    locked = (await anonymous(LOGIN, {"e": email, "p": PASSWORD}))["login"]
    assert locked["errors"][0]["code"] == "LOCKED" and locked["token"] is None


async def test_counter_pin_signs_in_and_wrong_pins_lock_the_counter(anonymous, two_branches):
    a, b = two_branches
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    other, _ = await create_counter(SYSTEM, NewCounter(b.id, "C1", "Counter 1"))
    await anonymous.as_staff(Role.CASHIER, [a.id], pin="2468")
    ok = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "2468"}))["counterLogin"]
    assert ok["token"] and ok["errors"] == []
    # The same PIN at another branch's counter is just a wrong PIN.
    elsewhere = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", other.id), "pin": "2468"}))["counterLogin"]
    assert elsewhere["errors"][0]["code"] == "INVALID_CREDENTIALS"
    for pin in ("0000", "1111", "2222", "3333", "4444"):
        await anonymous(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": pin})
    locked = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "2468"}))["counterLogin"]
    assert locked["errors"][0]["code"] == "LOCKED"


async def test_logged_out_and_expired_tokens_are_refused(anonymous, two_branches):
    client = await anonymous.as_staff(Role.OWNER)
    assert (await client("{ me { role } }"))["me"]["role"] == "OWNER"
    assert (await client("mutation { logout { ok } }"))["logout"]["ok"]
    assert code_of(await client.raw("{ me { role } }")) == "UNAUTHENTICATED"
    other = await anonymous.as_staff(Role.OWNER)
    await StaffSession.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert code_of(await other.raw(BRANCHES)) == "UNAUTHENTICATED"


AUDIT = """query($first: Int!, $after: String, $branch: ID) {
  auditLog(first: $first, after: $after, branchId: $branch) {
  edges { cursor node { id action actor { id name } branch { id code } targetType targetId approvedBy { id } } }
  pageInfo { hasNextPage endCursor } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ... on AuditEntry { action } ... on Branch { code } } }"


async def test_audit_log_records_sensitive_actions_for_those_allowed(api, anonymous, two_branches):
    a, b = two_branches
    made = await api(
        'mutation { createBranch(input: {code: "K", name: "Karachi", idempotencyKey: "k"})'
        " { branch { id } errors { code } } }"
    )
    entries = [e["node"] for e in (await api(AUDIT, {"first": 10}))["auditLog"]["edges"]]
    assert {"branch.created", "staff.login"} <= {e["action"] for e in entries}
    created = next(e for e in entries if e["action"] == "branch.created")  # newest first: it came last
    assert entries[0] == created
    owner = await Staff.get(role=Role.OWNER)
    assert created["actor"] == {"id": gid("Staff", owner.id), "name": owner.name}
    branch_id = made["createBranch"]["branch"]["id"]
    assert (created["branch"]["id"], created["targetType"], created["targetId"]) == (branch_id, "branch", branch_id)
    assert (await api(NODE, {"id": created["targetId"]}))["node"] == {"id": branch_id, "code": "K"}
    assert (await api(NODE, {"id": created["id"]}))["node"] == {"id": created["id"], "action": "branch.created"}

    # Pages go back in time, and keep their place while new entries arrive.
    first = (await api(AUDIT, {"first": 1}))["auditLog"]
    await anonymous.as_staff(Role.CASHIER, [b.id])  # a new login is audited: newer than every page below
    second = (await api(AUDIT, {"first": 1, "after": first["pageInfo"]["endCursor"]}))["auditLog"]
    assert second["edges"][0]["node"]["id"] == entries[1]["id"]
    assert (await api.raw(AUDIT, {"first": 101}))["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # A manager reads the entries at their branches only, in the list and by node(id:); a cashier neither.
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [a.id])
    at_a = await anonymous.as_staff(Role.CASHIER, [a.id])
    seen = [e["node"] for e in (await manager(AUDIT, {"first": 100}))["auditLog"]["edges"]]
    assert seen and {e["branch"]["id"] for e in seen} == {gid("Branch", a.id)}
    assert (await manager(NODE, {"id": created["id"]}))["node"] is None  # at branch K
    assert code_of(await manager.raw(AUDIT, {"first": 5, "branch": gid("Branch", b.id)})) == "FORBIDDEN"
    assert code_of(await at_a.raw(AUDIT, {"first": 10})) == "FORBIDDEN"
    assert (await at_a(NODE, {"id": seen[0]["id"]}))["node"] is None


async def test_node_hides_what_the_caller_may_not_see(anonymous, two_branches):
    a, b = two_branches
    level_b = await StockLevel.get(branch_id=b.id)
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id])
    q = "query($id: ID!) { node(id: $id) { id } }"
    assert (await cashier(q, {"id": gid("Branch", a.id)}))["node"] is not None
    for hidden in (gid("Branch", b.id), gid("StockLevel", level_b.id)):
        assert (await cashier(q, {"id": hidden}))["node"] is None
    assert code_of(await anonymous.raw(q, {"id": gid("Branch", a.id)})) == "UNAUTHENTICATED"


async def test_finance_reads_sales_but_does_not_sell_or_adjust(anonymous, two_branches):
    a, b = two_branches
    finance = await anonymous.as_staff(Role.FINANCE, [a.id])
    sales = "query($b: ID!) { sales(branchId: $b, first: 5) { edges { node { id } } } }"
    assert (await finance(sales, {"b": gid("Branch", a.id)}))["sales"]["edges"] == []
    assert code_of(await finance.raw(sales, {"b": gid("Branch", b.id)})) == "FORBIDDEN"
    assert code_of(await finance.raw(ADJUST, {"b": gid("Branch", a.id), "k": "f"})) == "FORBIDDEN"
    cashier_a = await anonymous.as_staff(Role.CASHIER, [a.id])
    assert code_of(await cashier_a.raw(sales, {"b": gid("Branch", b.id)})) == "FORBIDDEN"


async def test_create_staff_retried_with_its_key_returns_the_first(api, two_branches):
    a, _ = two_branches
    q = """mutation($b: [ID!]!) { createStaff(input: {email: "twice@x.pk", name: "Twice", role: CASHIER,
      pin: "8642", branchIds: $b, idempotencyKey: "hire-1"}) { staff { id } errors { code } } }"""
    first = await api(q, {"b": [gid("Branch", a.id)]})
    again = await api(q, {"b": [gid("Branch", a.id)]})
    assert first == again and first["createStaff"]["staff"]["id"]
    assert await Staff.filter(email="twice@x.pk").count() == 1
    other = await api(q.replace("twice@x.pk", "other@x.pk"), {"b": [gid("Branch", a.id)]})
    assert other["createStaff"] == {"staff": None, "errors": [{"code": "IDEMPOTENCY_KEY_REUSED"}]}
    assert not await Staff.filter(email="other@x.pk").exists()
