"""Finding B: a client's mistake is not a server error, and secrets never reach the logs.

Before: every refused variable was logged at ERROR with a traceback, its message quoting the whole
input, so a login with one extra field wrote the password in plain text. Now such a mistake is one
INFO line without the values, and every log line of the process is masked for password, PIN, token,
secret and Authorization values, tracebacks included.
"""

import asyncio
import logging

import httpx
import pytest

from tests.security.servers import logged_server

LOGIN = "mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"
CONNECT = "mutation($input: ConnectShopifyInput!) { connectShopify(input: $input) { errors { field code } } }"

PASSWORD = "Pw-never-logged-7431"
LITERAL_PASSWORD = "Pw-literal-never-logged-2"
INT_TOKEN = 987654321012345
OBJECT_TOKEN = "shpat_never-logged-5521"
QUERY_TOKEN = "Query-token-never-logged-3"
SECRETS = [PASSWORD, LITERAL_PASSWORD, str(INT_TOKEN), OBJECT_TOKEN, QUERY_TOKEN]


@pytest.fixture(scope="module")
def logged(database_url, broadcast_url, tmp_path_factory):
    with logged_server(database_url, broadcast_url, tmp_path_factory.mktemp("logs") / "server.log") as s:
        yield s


async def _log_with(server, needle: str, count: int) -> str:
    """The server's log once `needle` shows `count` times in it (or after ten seconds)."""
    for _ in range(200):
        if (log := server.log()).count(needle) >= count:
            break
        await asyncio.sleep(0.05)
    return log


async def test_rejected_input_is_one_info_line_without_values_or_traceback(logged, owner_token):
    owner = {"Authorization": f"Bearer {owner_token}"}
    shop = {"shopDomain": "zari.myshopify.com", "clientSecret": "s", "idempotencyKey": "k"}
    requests = [
        ({}, LOGIN, {"input": {"email": "owner@e2e.pk", "password": PASSWORD, "extra": 1}}),
        ({}, 'mutation { login(input: {email: "a@b.pk", password: "' + LITERAL_PASSWORD + '"}) { nope } }', None),
        (owner, CONNECT, {"input": {**shop, "accessToken": INT_TOKEN}}),
        (owner, CONNECT, {"input": {**shop, "accessToken": {"token": OBJECT_TOKEN}}}),
    ]
    async with httpx.AsyncClient(base_url=logged.url) as client:
        for headers, query, variables in requests:
            answer = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            assert answer.json()["errors"], answer.text
            assert not any(s in answer.text for s in SECRETS), answer.text  # nor in any error
        # Through uvicorn's access log: the query string is logged, the token in it is not.
        await client.post(f"/graphql?token={QUERY_TOKEN}", json={"query": "{ __typename }"})
    log = await _log_with(logged, "client error", len(requests))
    log = await _log_with(logged, "POST /graphql?token=", 1)
    assert not [s for s in SECRETS if s in log], log
    assert "token=***" in log
    assert "Traceback" not in log and " ERROR " not in log, log
    client_errors = [line for line in log.splitlines() if "client error" in line]
    assert len(client_errors) == len(requests), log  # once each
    assert all(" INFO branchline.graphql: " in line for line in client_errors), client_errors


async def test_in_process_a_bad_variable_is_logged_once_at_info(anonymous, caplog):
    caplog.set_level(logging.INFO)
    body = await anonymous.raw(LOGIN, {"input": {"email": "a@b.pk", "password": PASSWORD, "extra": 1}})
    assert "extra" in body["errors"][0]["message"] and PASSWORD not in str(body)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    records = [r for r in caplog.records if r.name.startswith(("strawberry", "branchline"))]
    assert [(r.name, r.levelname, r.exc_info) for r in records] == [("branchline.graphql", "INFO", None)]
    assert PASSWORD not in caplog.text


def test_secrets_are_masked_everywhere_in_a_log_line_and_its_traceback(tmp_path):
    from server import log_redaction

    log_redaction.install()
    log_redaction.install()  # idempotent: one mask, not two
    handler = logging.FileHandler(tmp_path / "out.log")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    try:
        log.warning("payload %s", {"email": "a@b.pk", "password": "s3cret-A", "managerPin": "9911"})
        log.warning('{"authorization": "Bearer s3cret-B", "PIN": "4321"} and password=s3cret-C&x=1')
        log.warning('mutation { login(input: {email: "x", password: "%s"}) { token } }', "s3cret-D")
        try:
            raise RuntimeError("could not sign in with NewStaff(password='s3cret-E', pin='8642')")
        except RuntimeError:
            log.exception("boom, Authorization: Bearer s3cret-F")
    finally:
        log.removeHandler(handler)
        handler.close()
    written = (tmp_path / "out.log").read_text()
    for secret in ("s3cret-A", "9911", "s3cret-B", "4321", "s3cret-C", "s3cret-D", "s3cret-E", "8642", "s3cret-F"):
        assert secret not in written, (secret, written)
    assert "Traceback" in written and "RuntimeError" in written  # the traceback is there, masked
    assert "'password': '***'" in written and 'password: "***"' in written and "x=1" in written
