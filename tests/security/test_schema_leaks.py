"""Finding D: what a caller learns without signing in, and the codes refusals carry.

- With introspection off, "Did you mean 'createStaff'?" no longer reads the schema out to whoever
  mistypes a name.
- A caller without a session may only sign in (`login`, `counterLogin`, `__typename`): everything
  else is answered UNAUTHENTICATED before any resolver runs, so no NOT_FOUND (nor a null) tells a
  stranger what exists. WebSockets already refuse a connection_init without a valid token
  (tests/e2e/test_live_stock.py proves it); this is the HTTP side.
- FORBIDDEN from a subscription carries extensions.code over the WebSocket, as it does over HTTP.
"""

import json

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from models.staff import Role
from tests.e2e.shop import request


async def _post(server, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answer = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    return answer.json()


MISTAKES = [
    ("mutation { createStaf(input: {}) { errors { code } } }", None, "createStaff"),
    ('{ branches(first: 1, aftr: "x") { edges { cursor } } }', None, "after"),
    ("query($b: Boolen) { __typename }", None, "Boolean"),
    (
        'mutation { adjustStock(input: {branchId: "x", reason: OPENING_STOK, lines: [], idempotencyKey: "k"})'
        " { errors { code } } }",
        None,
        "OPENING_STOCK",
    ),
    (
        "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { errors { code } } }",
        {"input": {"branchId": "x", "reason": "CORRECTION", "lines": [], "idempotencyKey": "k", "managerPn": "1"}},
        "managerPin",
    ),
]


@pytest.mark.parametrize(("query", "variables", "hidden"), MISTAKES, ids=["field", "argument", "type", "enum", "input"])
async def test_mistakes_are_not_answered_with_the_schema_when_introspection_is_off(
    server, owner_token, query, variables, hidden
):
    body = await _post(server, query, variables, owner_token)
    text = json.dumps(body["errors"])
    assert "Did you mean" not in text and hidden not in text, text


async def test_with_introspection_on_the_suggestions_stay(api_with_introspection):
    body = await api_with_introspection.raw(MISTAKES[0][0])
    assert "Did you mean 'createStaff'" in body["errors"][0]["message"]


STRANGER_ASKS = {
    "a missing count": '{ stockCount(id: "U3RvY2tDb3VudDo5OTk=") { id } }',
    "a missing transfer": 'mutation { dispatchTransfer(input: {transferId: "VHJhbnNmZXI6OTk5", idempotencyKey: "k"})'
    " { errors { field code } } }",
    "any object": '{ node(id: "QnJhbmNoOjk5OQ==") { id } }',
    "a field that does not exist": "{ secretThing }",
    "a field behind a fragment": "{ ...F } fragment F on Query { me { id } }",
    "a mutation beside a login": 'mutation { login(input: {email: "a", password: "b"}) { token } '
    '... on Mutation { createBranch(input: {code: "X", name: "X", idempotencyKey: "x"}) { errors { code } } } }',
    "introspection (off)": "{ __schema { types { name } } }",
}


@pytest.mark.parametrize("query", STRANGER_ASKS.values(), ids=STRANGER_ASKS.keys())
async def test_a_caller_without_a_session_is_asked_to_sign_in_before_anything_runs(server, query):
    body = await _post(server, query)
    assert body["data"] is None, body  # nothing resolved: not even a null for the missing object
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert "path" not in body["errors"][0], body


async def test_a_forged_token_is_a_caller_without_a_session(server):
    body = await _post(server, STRANGER_ASKS["a missing transfer"], token="forged-token")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and body["data"] is None


async def test_signing_in_stays_open(server):
    assert (await _post(server, "{ __typename }"))["data"] == {"__typename": "Query"}
    login = await _post(
        server, 'mutation { login(input: {email: "nobody@x.pk", password: "wrong"}) { errors { code } } }'
    )
    assert login["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    counter = 'mutation { counterLogin(input: {counterId: "Q291bnRlcjo5OTk=", pin: "1234"}) { errors { code } } }'
    assert (await _post(server, counter))["data"]["counterLogin"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


SUBSCRIPTIONS = {
    "syncStatusChanged": "subscription { syncStatusChanged { __typename } }",
    "importProgress": 'subscription { importProgress(jobId: "SW1wb3J0Sm9iOjE=") { status } }',
}


@pytest.mark.parametrize("document", SUBSCRIPTIONS.values(), ids=SUBSCRIPTIONS.keys())
async def test_forbidden_subscriptions_carry_their_code_over_the_websocket(server, staff_token, document):
    cashier = await staff_token(Role.CASHIER)
    with pytest.raises(TransportQueryError) as refused:
        async with server.ws_client(cashier) as ws:
            async for _ in ws.subscribe(request(document)):
                pass
    assert refused.value.errors[0]["extensions"] == {"code": "FORBIDDEN"}, refused.value.errors


async def test_forbidden_over_http_keeps_its_code(server, staff_token):
    cashier = await staff_token(Role.CASHIER)
    body = await _post(
        server,
        'mutation { createBranch(input: {code: "F1", name: "F", idempotencyKey: "f1"}) { errors { code } } }',
        token=cashier,
    )
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}, body


@pytest.fixture
async def api_with_introspection(bus, database_url):
    from server.app import create_app
    from server.settings import Settings
    from tests.api.conftest import Api

    app = create_app(Settings(database_url=database_url, introspection=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield await Api(client).as_staff(Role.OWNER)


async def test_introspection_stays_off_for_signed_in_callers_too(server, owner_token):
    body = await _post(server, "{ __schema { types { name } } }", token=owner_token)
    assert body["data"] is None and "introspection" in body["errors"][0]["message"].lower(), body
