"""The back office's staff and counters: listing, changing, deactivating, PIN and password resets, each
within the caller's own powers and branches, replayed by key, audited."""

import asyncio

import pytest

from models.branches import Counter
from models.staff import AuditEntry, GuessLimit, Role, Staff, StaffSession
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import NewStaff, authenticate, create_staff, login
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.api.conftest import PASSWORD
from tests.factories import make_branch, make_variants, stock

STAFF_MEMBERS = """query($b: ID, $r: StaffRole, $a: Boolean, $after: String) {
  staffMembers(first: 2, branchId: $b, role: $r, active: $a, after: $after) {
    edges { node { name role email active } } pageInfo { hasNextPage endCursor } } }"""
UPDATE = """mutation($s: ID!, $k: String!, $name: String, $role: StaffRole, $b: [ID!]) {
  updateStaff(input: {staffId: $s, idempotencyKey: $k, name: $name, role: $role, branchIds: $b}) {
    staff { name role branches { code } } errors { field code message } } }"""
DEACTIVATE = """mutation($s: ID!, $k: String!) { deactivateStaff(input: {staffId: $s, idempotencyKey: $k}) {
  staff { active } errors { field code } } }"""
REACTIVATE = """mutation($s: ID!, $k: String!) { reactivateStaff(input: {staffId: $s, idempotencyKey: $k}) {
  staff { active } errors { field code } } }"""
RESET_PIN = """mutation($s: ID!, $p: String!, $k: String!) {
  resetStaffPin(input: {staffId: $s, newPin: $p, idempotencyKey: $k}) { staff { name } errors { field code } } }"""
RESET_PASSWORD = """mutation($s: ID!, $p: String!, $k: String!) {
  resetStaffPassword(input: {staffId: $s, newPassword: $p, idempotencyKey: $k}) {
    staff { name } errors { field code } } }"""
CHANGE_MINE = """mutation($c: String!, $n: String!, $k: String!) {
  changeMyPassword(input: {currentPassword: $c, newPassword: $n, idempotencyKey: $k}) {
    staff { name } errors { field code } } }"""
COUNTERS = """query($b: ID!, $a: Boolean) { counters(branchId: $b, first: 10, active: $a) {
  edges { node { code name active branch { code } } } } }"""
UPDATE_COUNTER = """mutation($c: ID!, $k: String!, $code: String, $name: String) {
  updateCounter(input: {counterId: $c, idempotencyKey: $k, code: $code, name: $name}) {
    counter { code name active } errors { field code } } }"""
DEACTIVATE_COUNTER = """mutation($c: ID!, $k: String!) { deactivateCounter(input: {counterId: $c, idempotencyKey: $k}) {
  counter { active } errors { field code } } }"""
COUNTER_LOGIN = """mutation($c: ID!, $pin: String!) { counterLogin(input: {counterId: $c, pin: $pin}) {
  token errors { code } } }"""
OPEN = """mutation($c: ID!, $k: String!) { openRegister(input: {counterId: $c, openingFloat: "0", idempotencyKey: $k}) {
  register { id } errors { code } } }"""
ME = "{ me { name } }"
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) { sale { id } errors { field code } } }"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def member(role: Role, branch_ids: list[int], pin: str | None = None, email: str | None = None) -> Staff:
    email = email or f"{role.value}-{len(branch_ids)}-{pin}-{await Staff.all().count()}@staff.pk"
    return await create_staff(SYSTEM, NewStaff(email, f"{role.value} {email}", role, PASSWORD, pin, branch_ids))


async def token_of(staff: Staff) -> str:
    return (await login(staff.email, PASSWORD)).token


@pytest.fixture
async def shop(db):
    a, b = await make_branch("A"), await make_branch("B")
    return a, b


async def test_staff_members_lists_what_the_caller_manages(api, anonymous, shop):
    a, b = shop
    await member(Role.CASHIER, [a.id], email="ca@staff.pk")
    await member(Role.CASHIER, [b.id], email="cb@staff.pk")
    await member(Role.INVENTORY, [a.id, b.id], email="inv@staff.pk")
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [a.id])
    seen, after = [], None
    while True:
        page = (await manager(STAFF_MEMBERS, {"after": after}))["staffMembers"]
        seen += [e["node"]["email"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert "cb@staff.pk" not in seen and {"ca@staff.pk", "inv@staff.pk"} <= set(seen)
    assert not any(e.startswith("owner") for e in seen)  # owners and admins are not a branch's staff
    assert code_of(await manager.raw(STAFF_MEMBERS, {"b": gid("Branch", b.id)})) == "FORBIDDEN"
    cashiers = (await api(STAFF_MEMBERS, {"r": "CASHIER", "b": gid("Branch", b.id)}))["staffMembers"]["edges"]
    assert [e["node"]["email"] for e in cashiers] == ["cb@staff.pk"]
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id])
    assert code_of(await cashier.raw(STAFF_MEMBERS)) == "FORBIDDEN"


async def test_a_manager_grants_no_power_they_lack_and_touches_no_other_branch(anonymous, shop):
    a, b = shop
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [a.id])
    here = await member(Role.CASHIER, [a.id])
    there = await member(Role.CASHIER, [b.id])
    owner = await member(Role.OWNER, [])

    async def update(staff: Staff, key: str, **changes) -> dict:
        return await manager.raw(UPDATE, {"s": gid("Staff", staff.id), "k": key, **changes})

    body = await update(here, "m1", role="ADMIN")
    assert body["data"]["updateStaff"]["errors"][0]["field"] == "role"
    body = await update(here, "m2", role="BRANCH_MANAGER")
    assert body["data"]["updateStaff"]["errors"][0]["field"] == "role"
    body = await update(here, "m3", role="INVENTORY")  # may manage the catalog: a manager may not
    assert body["data"]["updateStaff"]["errors"] == [
        {"field": "role", "code": "INVALID", "message": body["data"]["updateStaff"]["errors"][0]["message"]}
    ]
    assert "manage catalog" in body["data"]["updateStaff"]["errors"][0]["message"]
    assert code_of(await update(here, "m4", b=[gid("Branch", a.id), gid("Branch", b.id)])) == "FORBIDDEN"
    assert code_of(await update(there, "m5", name="Renamed")) == "FORBIDDEN"
    assert code_of(await update(owner, "m6", name="Renamed")) == "FORBIDDEN"
    assert code_of(await manager.raw(DEACTIVATE, {"s": gid("Staff", there.id), "k": "m7"})) == "FORBIDDEN"
    assert code_of(await manager.raw(RESET_PIN, {"s": gid("Staff", there.id), "p": "8402", "k": "m8"})) == "FORBIDDEN"
    assert (await Staff.get(id=there.id)).name == there.name and (await Staff.get(id=here.id)).role is Role.CASHIER
    body = await update(here, "m9", name="Sana")
    assert body["data"]["updateStaff"]["staff"] == {"name": "Sana", "role": "CASHIER", "branches": [{"code": "A"}]}
    assert await AuditEntry.filter(action="staff.updated", target_id=str(here.id)).count() == 1


async def test_update_staff_is_replayed_by_its_key(api, shop):
    a, b = shop
    cashier = await member(Role.CASHIER, [a.id])
    variables = {"s": gid("Staff", cashier.id), "k": "u1", "b": [gid("Branch", b.id)], "name": "Moved"}
    first = (await api(UPDATE, variables))["updateStaff"]
    assert first["staff"]["branches"] == [{"code": "B"}] and not first["errors"]
    await Staff.filter(id=cashier.id).update(name="Changed since")
    again = (await api(UPDATE, variables))["updateStaff"]
    assert again["errors"] == [] and (await Staff.get(id=cashier.id)).name == "Changed since"  # not applied again
    assert await AuditEntry.filter(action="staff.updated").count() == 1
    other = (await api(UPDATE, {**variables, "name": "Other"}))["updateStaff"]
    assert other["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_the_last_active_owner_stays(api, shop):
    [owner] = await Staff.filter(role=Role.OWNER)
    body = (await api(UPDATE, {"s": gid("Staff", owner.id), "k": "o1", "role": "ADMIN"}))["updateStaff"]
    assert body["errors"][0]["code"] == "WRONG_STATE"
    second = await member(Role.OWNER, [])
    assert (await api(DEACTIVATE, {"s": gid("Staff", second.id), "k": "o2"}))["deactivateStaff"]["staff"] == {
        "active": False
    }
    body = (await api(DEACTIVATE, {"s": gid("Staff", owner.id), "k": "o3"}))["deactivateStaff"]
    assert body["errors"][0]["code"] == "INVALID"  # not yourself (and not the last owner)
    body = (await api(UPDATE, {"s": gid("Staff", owner.id), "k": "o4", "role": "ADMIN"}))["updateStaff"]
    assert body["errors"][0]["code"] == "WRONG_STATE"
    assert (await api(REACTIVATE, {"s": gid("Staff", second.id), "k": "o5"}))["reactivateStaff"]["staff"] == {
        "active": True
    }
    body = (await api(UPDATE, {"s": gid("Staff", owner.id), "k": "o6", "role": "ADMIN"}))["updateStaff"]
    assert body["errors"] == [] and body["staff"]["role"] == "ADMIN"


async def test_deactivation_ends_sessions_refuses_the_token_and_replays(api, shop):
    a, _ = shop
    cashier = await member(Role.CASHIER, [a.id])
    token = await token_of(cashier)
    assert await authenticate(token) is not None
    body = (await api(DEACTIVATE, {"s": gid("Staff", cashier.id), "k": "d1"}))["deactivateStaff"]
    assert body == {"staff": {"active": False}, "errors": []}
    assert await authenticate(token) is None
    assert await StaffSession.filter(staff_id=cashier.id, revoked_at=None).count() == 0
    assert code_of(await api.as_token(token).raw(ME)) == "UNAUTHENTICATED"
    await Staff.filter(id=cashier.id).update(active=True)  # someone else reactivated them since
    again = (await api(DEACTIVATE, {"s": gid("Staff", cashier.id), "k": "d1"}))["deactivateStaff"]
    assert again["errors"] == [] and (await Staff.get(id=cashier.id)).active  # the repeat changed nothing
    assert await AuditEntry.filter(action="staff.deactivated").count() == 1
    other = await api(DEACTIVATE, {"s": gid("Staff", (await member(Role.CASHIER, [a.id])).id), "k": "d1"})
    assert other["deactivateStaff"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_pin_reset_keeps_the_pin_rules_and_ends_sessions(api, shop):
    a, b = shop
    cashier = await member(Role.CASHIER, [a.id], pin="4826")
    await member(Role.CASHIER, [a.id], pin="7391")
    await member(Role.CASHIER, [b.id], pin="5063")
    token = await token_of(cashier)

    async def reset(pin: str, key: str) -> dict:
        return (await api(RESET_PIN, {"s": gid("Staff", cashier.id), "p": pin, "k": key}))["resetStaffPin"]

    assert (await reset("1234", "p1"))["errors"] == [{"field": "newPin", "code": "INVALID"}]  # weak
    assert (await reset("12", "p2"))["errors"] == [{"field": "newPin", "code": "INVALID"}]  # short
    assert (await reset("7391", "p3"))["errors"] == [{"field": "newPin", "code": "DUPLICATE"}]  # a colleague's
    assert await authenticate(token) is not None  # refusals changed nothing
    assert (await reset("5063", "p4"))["errors"] == []  # another branch's PIN is free here
    assert await authenticate(token) is None
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    signed = (await api(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "5063"}))["counterLogin"]
    assert signed["token"] and not signed["errors"]
    assert (await reset("5063", "p4"))["errors"] == []  # replayed: the new counter session stays
    assert await authenticate(signed["token"]) is not None
    assert (await reset("6180", "p4"))["errors"] == [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]
    manager = await member(Role.BRANCH_MANAGER, [a.id], pin="482619")
    body = (await api(RESET_PIN, {"s": gid("Staff", manager.id), "p": "4826", "k": "p5"}))["resetStaffPin"]
    assert body["errors"] == [{"field": "newPin", "code": "INVALID"}]  # an approver's PIN is longer
    assert await AuditEntry.filter(action="staff.pin_reset").count() == 1


async def test_password_reset_and_changing_my_own(api, anonymous, shop):
    a, _ = shop
    cashier = await member(Role.CASHIER, [a.id])
    old_token = await token_of(cashier)
    body = await api(RESET_PASSWORD, {"s": gid("Staff", cashier.id), "p": "short", "k": "r1"})
    assert body["resetStaffPassword"]["errors"] == [{"field": "newPassword", "code": "INVALID"}]
    body = await api(RESET_PASSWORD, {"s": gid("Staff", cashier.id), "p": "a new password 1", "k": "r2"})
    assert body["resetStaffPassword"]["errors"] == [] and await authenticate(old_token) is None
    me = anonymous.as_token((await login(cashier.email, "a new password 1")).token)
    other = (await login(cashier.email, "a new password 1")).token

    wrong = (await me(CHANGE_MINE, {"c": "not my password", "n": "another password 2", "k": "c1"}))["changeMyPassword"]
    assert wrong["errors"] == [{"field": "currentPassword", "code": "INVALID_CREDENTIALS"}]
    counted = await GuessLimit.filter(scope_key__startswith=f"password-account-address:{cashier.email}|")
    assert sorted(c.attempts for c in counted) == [0, 1]  # the wrong one counted from the caller's address
    changed = await me(CHANGE_MINE, {"c": "a new password 1", "n": "another password 2", "k": "c2"})
    assert changed["changeMyPassword"]["errors"] == []
    assert await authenticate(other) is None and await authenticate(me.token) is not None  # only the others end
    again = await me(CHANGE_MINE, {"c": "a new password 1", "n": "another password 2", "k": "c2"})
    assert again["changeMyPassword"]["errors"] == []  # the repeat answers as the first did
    reused = await me(CHANGE_MINE, {"c": "a new password 1", "n": "a third password 3", "k": "c2"})
    assert reused["changeMyPassword"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await login(cashier.email, "another password 2")).token
    assert await AuditEntry.filter(action="staff.password_changed").count() == 1

    pin_member = await member(Role.CASHIER, [a.id], pin="4826")
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    pin_token = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "4826"}))["counterLogin"]
    body = await anonymous.as_token(pin_token["token"]).raw(CHANGE_MINE, {"c": PASSWORD, "n": "x" * 12, "k": "c3"})
    assert code_of(body) == "FORBIDDEN" and pin_member.id


async def test_counters_listing_updating_and_deactivating(api, anonymous, shop):
    a, b = shop
    one, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    two, _ = await create_counter(SYSTEM, NewCounter(a.id, "C2", "Counter 2"))
    await create_counter(SYSTEM, NewCounter(b.id, "C1", "Counter 1"))
    await member(Role.CASHIER, [a.id], pin="4826")
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id])
    listed = (await cashier(COUNTERS, {"b": gid("Branch", a.id)}))["counters"]["edges"]
    assert [e["node"]["code"] for e in listed] == ["C1", "C2"]
    assert code_of(await cashier.raw(COUNTERS, {"b": gid("Branch", b.id)})) == "FORBIDDEN"

    update = {"c": gid("Counter", one.id), "k": "uc1", "code": "C2"}
    assert (await api(UPDATE_COUNTER, update))["updateCounter"]["errors"] == [{"field": "code", "code": "DUPLICATE"}]
    renamed = (await api(UPDATE_COUNTER, {**update, "k": "uc2", "code": "FRONT", "name": "Front"}))["updateCounter"]
    assert renamed["counter"] == {"code": "FRONT", "name": "Front", "active": True}
    await Counter.filter(id=one.id).update(name="Since")
    assert (await api(UPDATE_COUNTER, {**update, "k": "uc2", "code": "FRONT", "name": "Front"}))["updateCounter"][
        "errors"
    ] == []
    assert (await Counter.get(id=one.id)).name == "Since"  # the repeat changed nothing
    manager_b = await anonymous.as_staff(Role.BRANCH_MANAGER, [b.id])
    assert code_of(await manager_b.raw(UPDATE_COUNTER, {**update, "k": "uc3", "name": "X"})) == "FORBIDDEN"

    pin_session = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", two.id), "pin": "4826"}))["counterLogin"]
    opened = (await api(OPEN, {"c": gid("Counter", two.id), "k": "open-2"}))["openRegister"]
    assert opened["errors"] == []
    body = (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", two.id), "k": "dc1"}))["deactivateCounter"]
    assert body["errors"] == [{"field": "counterId", "code": "WRONG_STATE"}]
    assert (await Counter.get(id=two.id)).active
    body = (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", one.id), "k": "dc2"}))["deactivateCounter"]
    assert body == {"counter": {"active": False}, "errors": []}
    again = (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", one.id), "k": "dc2"}))["deactivateCounter"]
    assert again == body and await AuditEntry.filter(action="counter.deactivated").count() == 1
    reused = (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", two.id), "k": "dc2"}))["deactivateCounter"]
    assert reused["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    refused = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", one.id), "pin": "4826"}))["counterLogin"]
    assert refused == {"token": None, "errors": [{"code": "WRONG_STATE"}]}
    wrong = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", one.id), "pin": "9999"}))["counterLogin"]
    assert wrong["errors"] == [{"code": "INVALID_CREDENTIALS"}]  # a stranger learns nothing more
    assert (await api(OPEN, {"c": gid("Counter", one.id), "k": "open-1"}))["openRegister"]["errors"] == [
        {"code": "WRONG_STATE"}
    ]
    assert await authenticate(pin_session["token"]) is not None  # at the other counter: untouched
    active = (await api(COUNTERS, {"b": gid("Branch", a.id), "a": True}))["counters"]["edges"]
    assert [e["node"]["code"] for e in active] == ["C2"]


async def test_a_deactivated_counters_sessions_end(api, anonymous, shop):
    a, _ = shop
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    await member(Role.CASHIER, [a.id], pin="4826")
    session = (await anonymous(COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "4826"}))["counterLogin"]
    assert await authenticate(session["token"]) is not None
    body = (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", counter.id), "k": "dc"}))["deactivateCounter"]
    assert body["errors"] == []
    assert await authenticate(session["token"]) is None


async def test_two_owners_deactivating_each_other_at_once_leave_one_owner(db, bus):
    from operations.directory.staff_admin import set_staff_active
    from operations.kernel import OperationError

    first, second = await member(Role.OWNER, [], email="o1@staff.pk"), await member(Role.OWNER, [], email="o2@staff.pk")
    actors = [await authenticate(await token_of(s)) for s in (first, second)]
    outcomes = await asyncio.gather(
        set_staff_active(actors[0], second.id, False, "race-1"),
        set_staff_active(actors[1], first.id, False, "race-2"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, OperationError)]
    assert len(refused) == 1 and refused[0].problems[0].code == "WRONG_STATE", outcomes
    assert await Staff.filter(role=Role.OWNER, active=True).count() == 1


async def test_a_deactivated_counter_refuses_a_checkout(api, anonymous, shop):
    a, _ = shop
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    [variant] = await make_variants(1, prefix="DC")
    await stock(a.id, variant.id, 3)
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id])
    assert (await api(DEACTIVATE_COUNTER, {"c": gid("Counter", counter.id), "k": "dc"}))["deactivateCounter"][
        "errors"
    ] == []
    sale = {
        "counterId": gid("Counter", counter.id),
        "lines": [{"variant": {"sku": variant.sku}, "quantity": 1}],
        "tenders": [{"type": "CASH", "amount": "1000"}],
        "idempotencyKey": "sale-at-a-closed-counter",
    }
    body = (await cashier(CHECKOUT, {"input": sale}))["checkout"]
    assert body == {"sale": None, "errors": [{"field": "counterId", "code": "WRONG_STATE"}]}


async def test_a_move_keeps_pins_unique_and_a_promotion_asks_for_a_longer_pin(api, shop):
    a, b = shop
    moving = await member(Role.CASHIER, [a.id], pin="4826")
    await member(Role.CASHIER, [b.id], pin="4826")
    variables = {"s": gid("Staff", moving.id), "k": "mv1", "b": [gid("Branch", b.id)]}
    body = (await api(UPDATE, variables))["updateStaff"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("branchIds", "DUPLICATE")]
    assert await StaffSession.filter(staff_id=moving.id).count() == 0 and (await Staff.get(id=moving.id)).pin_digest
    body = (await api(UPDATE, {"s": gid("Staff", moving.id), "k": "mv2", "role": "BRANCH_MANAGER"}))["updateStaff"]
    assert body["errors"] == [] and body["staff"]["role"] == "BRANCH_MANAGER"
    assert (await Staff.get(id=moving.id)).pin_digest is None  # a 4-digit PIN approves nothing
    entry = await AuditEntry.get(action="staff.updated", target_id=str(moving.id))
    assert entry.detail["pin_cleared"] is True and entry.detail["role"] == "branch_manager"
