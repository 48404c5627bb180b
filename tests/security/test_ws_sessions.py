"""Finding: logging out did not end an open WebSocket.

A socket is signed in once, by connection_init. After `logout` the same socket still answered `me`,
wrote, kept its `stockChanged` subscription and accepted new ones. Now ending a session (logout,
expiry, a deactivated account) closes its sockets with 4403, on every server process (the ending
travels over the bus), and every operation a socket sends re-checks its session first.
"""

import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import redis_url_for_two_processes, running_server
from tests.e2e.shop import STOCK_CHANGED, adjust, build_shop, request
from tests.security.live_sockets import ME, closed_with, open_socket, receive, signed_in_socket, subscribe

SESSION_ENDED = 4403
_codes = itertools.count(1)
LOGOUT = "mutation { logout { ok } }"


def code() -> str:
    return f"WS{next(_codes)}"


async def live_subscription(server, http, token: str, branch: str, variant: str):
    """A socket with a stockChanged subscription that is proven live: it delivered a change."""
    ws = await signed_in_socket(server, token)
    await subscribe(ws, "stock", STOCK_CHANGED, branches=[branch])
    for attempt in itertools.count():  # the subscription starts asynchronously: change until it hears one
        await adjust(http, branch, [{"variant": {"id": variant}, "quantity": 1}], key=f"{branch}-live-{attempt}")
        try:
            message = await receive(ws, within=1)
        except TimeoutError:
            assert attempt < 20, "the subscription never delivered a change"
            continue
        assert message["type"] == "next" and message["payload"]["data"]["stockChanged"], message
        return ws


async def _session(token: str):
    from models.staff import StaffSession
    from operations.kernel.keys import token_digest

    return StaffSession.filter(token_digest=token_digest(token))


async def test_logout_over_http_closes_the_open_socket_with_4403(server, owner_token):
    async with server.http_client(owner_token) as http:
        branch, ids = await build_shop(http, code(), ["A"], stock=5)
        ws = await live_subscription(server, http, owner_token, branch, ids["A"])
        started = time.monotonic()
        assert (await http.execute(request(LOGOUT)))["logout"]["ok"]
    close_code, reason, _ = await closed_with(ws, deadline=5)
    latency = time.monotonic() - started
    assert (close_code, "sign in again" in reason) == (SESSION_ENDED, True), (close_code, reason)
    print(f"closed {latency:.3f}s after the logout was sent")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(ME, id="a query"),
        pytest.param(STOCK_CHANGED, id="a new subscription"),
        pytest.param(
            'mutation { createBranch(input: {code: "XX", name: "X", idempotencyKey: "xx"}) { branch { id } } }',
            id="a write",
        ),
    ],
)
async def test_a_socket_whose_session_ended_unannounced_refuses_its_next_operation(server, owner_token, document):
    """The row changed without an announcement (or the announcement was lost): the socket's next
    operation finds out, and the socket is closed instead of answering."""
    async with server.http_client(owner_token) as http:
        branch, _ = await build_shop(http, code(), ["A"], stock=0)
    ws = await signed_in_socket(server, owner_token)
    await subscribe(ws, "before", ME)
    assert (await receive(ws))["payload"]["data"]["me"]["email"] == "owner@e2e.pk"
    await (await _session(owner_token)).update(revoked_at=datetime.now(UTC))
    await subscribe(ws, "after", document, branches=[branch])
    close_code, _, seen = await closed_with(ws, deadline=5)
    assert close_code == SESSION_ENDED and not [m for m in seen if m.get("type") == "next"], (close_code, seen)


async def test_a_deactivated_staff_members_socket_refuses_its_next_operation(server, owner_token):
    from models.staff import Staff

    ws = await signed_in_socket(server, owner_token)
    await Staff.filter(email="owner@e2e.pk").update(active=False)
    await subscribe(ws, "after", ME)
    close_code, _, seen = await closed_with(ws, deadline=5)
    assert close_code == SESSION_ENDED and seen == [], (close_code, seen)


async def test_a_socket_is_closed_when_its_session_expires(server, owner_token):
    async with server.http_client(owner_token) as http:
        branch, ids = await build_shop(http, code(), ["A"], stock=5)
        # Far enough ahead to sign in and subscribe first: the timer is set from the row at connection_init.
        expires = datetime.now(UTC) + timedelta(seconds=6)
        await (await _session(owner_token)).update(expires_at=expires)
        ws = await live_subscription(server, http, owner_token, branch, ids["A"])
    close_code, reason, _ = await closed_with(ws, deadline=15)
    assert (close_code, "expired" in reason) == (SESSION_ENDED, True), (close_code, reason)
    assert datetime.now(UTC) >= expires


async def test_a_logout_through_one_process_closes_the_socket_on_another(database_url, broadcast_url, owner_token):
    """Two server processes sharing Redis: the logout is served by A, the socket lives on B. Then a
    deactivation announced by a third process (this test, as a CLI or worker would) reaches B too."""
    redis_url = redis_url_for_two_processes(broadcast_url)
    if redis_url is None:
        pytest.skip("no Redis to share between two server processes")
    from models.staff import Role, Staff
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM
    from subscriptions import live
    from subscriptions.bus import Bus
    from subscriptions.sessions import announce_revoked

    with running_server(database_url, redis_url) as a, running_server(database_url, redis_url) as b:
        async with a.http_client(owner_token) as http_a:
            branch, ids = await build_shop(http_a, code(), ["A"], stock=5)
            on_b = await live_subscription(b, http_a, owner_token, branch, ids["A"])
            started = time.monotonic()
            assert (await http_a.execute(request(LOGOUT)))["logout"]["ok"]
        close_code, _, _ = await closed_with(on_b, deadline=5)
        assert close_code == SESSION_ENDED
        print(f"B closed its socket {time.monotonic() - started:.3f}s after A was asked to log out")

        await create_staff(SYSTEM, NewStaff("admin@e2e.pk", "Admin", Role.ADMIN, "e2e-password-1"))
        admin_token = (await login("admin@e2e.pk", "e2e-password-1")).token
        async with b.http_client(admin_token) as http_b:
            on_b = await live_subscription(b, http_b, admin_token, branch, ids["A"])
        admin = await Staff.get(email="admin@e2e.pk")
        await Staff.filter(id=admin.id).update(active=False)
        bus = Bus(redis_url)
        await bus.connect()
        live.install(bus)
        try:
            await announce_revoked(staff_ids=[admin.id])
            close_code, _, _ = await closed_with(on_b, deadline=5)
        finally:
            live.install(None)
            await bus.disconnect()
        assert close_code == SESSION_ENDED


async def test_after_a_gap_on_the_bus_every_open_socket_is_checked_again(database_url, broadcast_url, owner_token):
    """Announcements can be lost while Redis is away; the backend then sends GAP on every channel. A
    session revoked meanwhile (here: in the database, unannounced) is found and its socket closed."""
    redis_url = redis_url_for_two_processes(broadcast_url)
    if redis_url is None:
        pytest.skip("no Redis to carry the GAP")
    from subscriptions.bus import GAP, Bus
    from subscriptions.sessions import REVOKED_CHANNEL

    with running_server(database_url, redis_url) as server:
        async with server.http_client(owner_token) as http:
            branch, ids = await build_shop(http, code(), ["A"], stock=5)
            ws = await live_subscription(server, http, owner_token, branch, ids["A"])
        await (await _session(owner_token)).update(revoked_at=datetime.now(UTC))
        bus = Bus(redis_url)
        await bus.connect()
        try:
            await bus.publish(REVOKED_CHANNEL, GAP)  # what the backend sends after reconnecting
            close_code, _, _ = await closed_with(ws, deadline=5)
        finally:
            await bus.disconnect()
    assert close_code == SESSION_ENDED


async def test_the_legacy_protocol_rechecks_the_session_too(server, owner_token):
    """graphql-ws (subscriptions-transport-ws), still offered for old clients, has its own handler."""
    from websockets.asyncio.client import connect

    async with server.http_client(owner_token) as http:
        branch, _ = await build_shop(http, code(), ["A"], stock=0)
    start = {"query": STOCK_CHANGED, "variables": {"branches": [branch]}}  # it runs subscriptions only
    ws = await connect(f"ws://127.0.0.1:{server.port}/graphql", subprotocols=["graphql-ws"], ping_interval=None)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": owner_token}}))
    assert (await receive(ws))["type"] == "connection_ack"
    await (await _session(owner_token)).update(revoked_at=datetime.now(UTC))
    await ws.send(json.dumps({"id": "1", "type": "start", "payload": start}))
    close_code, _, seen = await closed_with(ws, deadline=5)
    assert close_code == SESSION_ENDED and not [m for m in seen if m.get("type") == "data"], (close_code, seen)


async def test_a_signed_out_token_cannot_open_a_new_socket(server, owner_token):
    """Already so before the fix; kept beside the rest of the session rules."""
    async with server.http_client(owner_token) as http:
        await http.execute(request(LOGOUT))
    ws = await open_socket(server)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": owner_token}}))
    close_code, _, seen = await closed_with(ws, deadline=5)
    assert close_code == SESSION_ENDED and seen == []
