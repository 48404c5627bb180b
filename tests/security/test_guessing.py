"""Guessing passwords and PINs against a real server: limits that hold under hundreds of parallel
guesses, a manager's PIN that is no oracle, strangers who cannot lock the owner out, PIN sessions that
never administer, and nobody creating staff with powers they lack."""

import asyncio
import random
import statistics
import time

import httpx
import pytest

from models.staff import AuditEntry, Role
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import NewStaff, create_staff
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

PASSWORD = "a long enough password"
COUNTER_LOGIN = """mutation($c: ID!, $pin: String!) { counterLogin(input: {counterId: $c, pin: $pin}) {
  token errors { code field } } }"""
LOGIN = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code } } }"
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) { sale { id } errors { field code } } }"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


async def post(client: httpx.AsyncClient, query: str, variables: dict, token: str | None = None, **headers) -> dict:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def payload_code(body: dict, field: str) -> str | None:
    if body.get("errors"):
        return body["errors"][0].get("extensions", {}).get("code")
    data = body["data"][field]
    return data["errors"][0]["code"] if data["errors"] else None


@pytest.fixture
async def till(db):
    """A branch with a counter (register closed), a cashier and a manager who can approve."""
    branch = await make_branch("LHR")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [variant] = await make_variants(1, prefix="KRT")
    await stock(branch.id, variant.id, 50)
    await create_staff(SYSTEM, NewStaff("cashier@sec.pk", "Cashier", Role.CASHIER, PASSWORD, "4826", [branch.id]))
    await create_staff(
        SYSTEM, NewStaff("manager@sec.pk", "Manager", Role.BRANCH_MANAGER, PASSWORD, "583014", [branch.id])
    )
    await create_staff(SYSTEM, NewStaff("owner@sec.pk", "Owner", Role.OWNER, PASSWORD, "790254"))
    return branch, counter, variant


@pytest.fixture
async def http(server):
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        yield client


async def counter_token(http, counter, pin: str) -> str:
    body = await post(http, COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": pin})
    assert body["data"]["counterLogin"]["token"], body
    return body["data"]["counterLogin"]["token"]


def override_sale(counter, variant, pin: str, key: str) -> dict:
    return {
        "input": {
            "counterId": gid("Counter", counter.id),
            "lines": [{"variant": {"sku": variant.sku}, "quantity": 1, "priceOverride": "1.00"}],
            "tenders": [{"type": "CASH", "amount": "10"}],
            "managerPin": pin,
            "idempotencyKey": key,
        }
    }


async def test_a_wrong_manager_pin_is_answered_alike_counted_audited_and_locks_the_counter(http, till):
    branch, counter, variant = till
    cashier = await counter_token(http, counter, "4826")
    # The register is closed: a wrong PIN is APPROVAL_REQUIRED whatever else is wrong (here an empty
    # idempotency key as well), never REGISTER_CLOSED or INVALID, which would tell it apart from a right one.
    for pin, key in (("000000", "k1"), ("4826", "k2"), ("111111", "")):
        body = await post(http, CHECKOUT, override_sale(counter, variant, pin, key), cashier)
        assert body["data"]["checkout"]["errors"] == [{"field": "managerPin", "code": "APPROVAL_REQUIRED"}], body
    assert await AuditEntry.filter(action="approval.refused", branch_id=branch.id).count() == 3
    for pin in ("222222", "333333"):
        await post(http, CHECKOUT, override_sale(counter, variant, pin, "k3"), cashier)
    # Five wrong PINs at this counter: now even the manager's own PIN is refused, unchecked.
    body = await post(http, CHECKOUT, override_sale(counter, variant, "583014", "k4"), cashier)
    assert body["data"]["checkout"]["errors"] == [{"field": "managerPin", "code": "LOCKED"}], body
    body = await post(http, COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": "583014"})
    assert payload_code(body, "counterLogin") == "LOCKED"
    assert await AuditEntry.filter(action="pin.locked").exists()


async def test_hundreds_of_parallel_pin_guesses_check_at_most_the_limit(http, till):
    _, counter, _ = till
    guesses = [f"{n:04d}" for n in random.sample(range(10_000), 400) if f"{n:04d}" != "4826"][:399]
    guesses.insert(random.randrange(400), "4826")
    bodies = await asyncio.gather(
        *(post(http, COUNTER_LOGIN, {"c": gid("Counter", counter.id), "pin": pin}) for pin in guesses)
    )
    codes = [payload_code(b, "counterLogin") for b in bodies]
    tokens = [b["data"]["counterLogin"]["token"] for b in bodies if b["data"]["counterLogin"]["token"]]
    checked = codes.count("INVALID_CREDENTIALS") + len(tokens)
    assert checked <= 5, (checked, codes.count("LOCKED"))
    assert codes.count("LOCKED") >= 395
    assert set(codes) <= {"INVALID_CREDENTIALS", "LOCKED", None}


async def test_parallel_password_guesses_of_one_account_check_at_most_the_limit(http, till):
    guesses = [f"wrong password {n}" for n in range(59)] + [PASSWORD]
    random.shuffle(guesses)
    bodies = await asyncio.gather(*(post(http, LOGIN, {"e": "owner@sec.pk", "p": p}) for p in guesses))
    codes = [payload_code(b, "login") for b in bodies]
    checked = codes.count("INVALID_CREDENTIALS") + codes.count(None)
    assert checked <= 5, codes
    assert codes.count("LOCKED") >= 55


async def test_a_stranger_guessing_cannot_lock_the_owner_out(http, till):
    stranger = {"X-Forwarded-For": "203.0.113.9"}  # the test server trusts its local proxy (127.0.0.1)
    codes = [
        payload_code(await post(http, LOGIN, {"e": "owner@sec.pk", "p": f"guess {n}"}, **stranger), "login")
        for n in range(8)
    ]
    assert codes[:5] == ["INVALID_CREDENTIALS"] * 5 and set(codes[5:]) == {"LOCKED"}
    # ...and the stranger's address is locked for every account, not just this one
    body = await post(http, LOGIN, {"e": "manager@sec.pk", "p": "guess"}, **stranger)
    assert payload_code(body, "login") in ("INVALID_CREDENTIALS", "LOCKED")
    owner = await post(http, LOGIN, {"e": "owner@sec.pk", "p": PASSWORD}, **{"X-Forwarded-For": "198.51.100.7"})
    assert owner["data"]["login"]["token"], owner
    local = await post(http, LOGIN, {"e": "owner@sec.pk", "p": PASSWORD})
    assert local["data"]["login"]["token"], local


async def test_wrong_passwords_from_one_address_lock_that_address(http, till):
    attacker = {"X-Forwarded-For": "203.0.113.50"}
    emails = [f"nobody{n}@sec.pk" for n in range(21)]  # one guess per account: only the address limit counts
    codes = [payload_code(await post(http, LOGIN, {"e": e, "p": "guess"}, **attacker), "login") for e in emails]
    assert codes[:20] == ["INVALID_CREDENTIALS"] * 20 and codes[20] == "LOCKED"
    body = await post(http, LOGIN, {"e": "owner@sec.pk", "p": PASSWORD}, **attacker)
    assert payload_code(body, "login") == "LOCKED"  # even the right password, from there


async def test_an_unknown_email_takes_as_long_to_refuse_as_a_known_one(http, till):
    """Relative, in one run: the same steps and the same hashing cost either way."""
    known, unknown = [], []
    for n in range(6):
        for email, times in (("owner@sec.pk", known), (f"ghost{n}@sec.pk", unknown)):
            started = time.perf_counter()
            await post(http, LOGIN, {"e": email, "p": "not it"}, **{"X-Forwarded-For": f"192.0.2.{n}"})
            times.append(time.perf_counter() - started)
    assert statistics.median(known) < 2 * statistics.median(unknown) + 0.05, (known, unknown)


async def test_an_unknown_counter_is_answered_like_a_wrong_pin(http, till):
    body = await post(http, COUNTER_LOGIN, {"c": gid("Counter", 987654), "pin": "4826"})
    assert payload_code(body, "counterLogin") == "INVALID_CREDENTIALS"


ADMIN = {
    "createStaff": """mutation($b: [ID!]!) { createStaff(input: {email: "x@sec.pk", name: "X", role: CASHIER,
      pin: "5937", branchIds: $b, idempotencyKey: "x@sec"}) { staff { id } errors { code } } }""",
    "createBranch": 'mutation { createBranch(input: {code: "NEW", name: "New", idempotencyKey: "new"})'
    " { branch { id } errors { code } } }",
    "auditLog": "{ auditLog(first: 5) { edges { node { action } } } }",
}


async def test_an_owner_pin_at_a_counter_opens_the_counter_not_the_back_office(http, till, server):
    branch, counter, _ = till
    other = await make_branch("KHI")
    owner_at_till = await counter_token(http, counter, "790254")
    for name, query in ADMIN.items():
        body = await post(http, query, {"b": [gid("Branch", branch.id)]} if "$b" in query else {}, owner_at_till)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (name, body)
    levels = "query($b: ID!) { stockLevels(branchId: $b, first: 5) { edges { node { onHand } } } }"
    assert "errors" not in await post(http, levels, {"b": gid("Branch", branch.id)}, owner_at_till)
    elsewhere = await post(http, levels, {"b": gid("Branch", other.id)}, owner_at_till)
    assert elsewhere["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The same owner with a password session administers.
    owner = (await post(http, LOGIN, {"e": "owner@sec.pk", "p": PASSWORD}))["data"]["login"]["token"]
    made = await post(http, ADMIN["createStaff"], {"b": [gid("Branch", branch.id)]}, owner)
    assert made["data"]["createStaff"]["errors"] == [], made


async def test_nobody_creates_staff_with_powers_they_lack(http, till):
    branch, _, _ = till
    manager = (await post(http, LOGIN, {"e": "manager@sec.pk", "p": PASSWORD}))["data"]["login"]["token"]
    create = """mutation($r: StaffRole!, $b: [ID!]!, $e: String!) { createStaff(input: {email: $e, name: "New",
      role: $r, password: "chosen by the manager", branchIds: $b, idempotencyKey: $e}) {
      staff { id } errors { code field } } }"""
    b = [gid("Branch", branch.id)]
    inventory = await post(http, create, {"r": "INVENTORY", "b": b, "e": "inv@sec.pk"}, manager)
    assert inventory["data"]["createStaff"]["errors"] == [{"code": "INVALID", "field": "role"}], inventory
    cashier = await post(http, create, {"r": "CASHIER", "b": b, "e": "c2@sec.pk"}, manager)
    assert cashier["data"]["createStaff"]["errors"] == []
    assert (await post(http, LOGIN, {"e": "inv@sec.pk", "p": "chosen by the manager"}))["data"]["login"][
        "token"
    ] is None


@pytest.mark.parametrize(
    ("role", "pin", "ok"),
    [
        (Role.BRANCH_MANAGER, "5830", False),  # 4 digits cannot approve overrides
        (Role.BRANCH_MANAGER, "123456", False),  # a run
        (Role.BRANCH_MANAGER, "121212", False),  # a pattern repeated
        (Role.BRANCH_MANAGER, "692048", True),
        (Role.CASHIER, "1111", False),
        (Role.CASHIER, "4321", False),
        (Role.CASHIER, "4927", True),
    ],
)
async def test_weak_pins_and_short_approver_pins_are_refused(http, till, role, pin, ok):
    branch, _, _ = till
    owner = (await post(http, LOGIN, {"e": "owner@sec.pk", "p": PASSWORD}))["data"]["login"]["token"]
    create = """mutation($r: StaffRole!, $b: [ID!]!, $pin: String!) { createStaff(input: {email: "p@sec.pk",
      name: "P", role: $r, pin: $pin, branchIds: $b, idempotencyKey: $pin}) { staff { id } errors { code field } } }"""
    body = await post(http, create, {"r": role.name, "b": [gid("Branch", branch.id)], "pin": pin}, owner)
    errors = body["data"]["createStaff"]["errors"]
    assert (errors == []) == ok, body
    if not ok:
        assert errors == [{"code": "INVALID", "field": "pin"}]
