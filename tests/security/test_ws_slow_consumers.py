"""Finding: a subscriber that never reads was never cut off (20 subscriptions on one socket, 2,000
stock changes: server memory +100 MB, no close).

Two things grew, and both are bounded now:

- Memory grew with every event delivered, reading or not: graphql-core 3.3 keeps a memo entry per
  subscription event for the subscription's whole life (server/subscription_executor.py).
- A peer that stops reading parks every send to it forever in uvicorn's websockets-sansio (its
  backpressure wait has no timeout), so the stream behind it never noticed its bus queue overflow
  and nothing was ever closed. Now a socket that stays `ws_outbound_buffer_bytes` behind for
  `ws_send_timeout` seconds is closed with 4801 (server/websocket_protocol.py).

Plus limits on what one caller may open: operations per socket, sockets per session.
"""

import asyncio
import itertools

from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import running_server
from tests.e2e.shop import STOCK_CHANGED, adjust, build_shop
from tests.security.live_sockets import (
    ME,
    closed_with,
    open_socket,
    receive,
    rss_bytes,
    signed_in_socket,
    subscribe,
    wait_for,
)
from tests.security.servers import logged_server

SLOW_CONSUMER = 4801
TOO_MANY_SOCKETS = 4429
SUBSCRIPTIONS = 20
VARIANTS = 100  # one adjustment of every variant: 100 changes, one bus message
MiB = 1024 * 1024
_codes = itertools.count(1)


def code() -> str:
    return f"SC{next(_codes)}"


async def _shop(server, token: str) -> tuple[str, list[str]]:
    async with server.http_client(token) as http:
        branch, ids = await build_shop(http, code(), [f"V{i}" for i in range(VARIANTS)], stock=0)
    return branch, list(ids.values())


async def _change_all(http, branch: str, variants: list[str], key: str) -> None:
    result = await adjust(http, branch, [{"variant": {"id": v}, "quantity": 1} for v in variants], key=key)
    assert result["errors"] == [], result


async def _subscribed(ws, branch: str) -> None:
    for i in range(SUBSCRIPTIONS):
        await subscribe(ws, f"s{i}", STOCK_CHANGED, branches=[branch])


async def test_twenty_subscriptions_over_two_thousand_changes_keep_the_servers_memory_flat(
    database_url, broadcast_url, owner_token
):
    """A client that reads everything: 40,000 events. Before, the server grew about 100 MB doing so."""
    with running_server(database_url, broadcast_url) as server:  # its own: nothing else moves its memory
        branch, variants = await _shop(server, owner_token)
        ws = await signed_in_socket(server, owner_token)
        await _subscribed(ws, branch)
        received = 0

        async def read() -> None:
            nonlocal received
            async for message in ws:
                received += '"next"' in message

        reader = asyncio.create_task(read())
        async with server.http_client(owner_token) as http:
            # Warm up until every subscription delivers (they start asynchronously), then measure.
            for warm_up in itertools.count():
                goal = received + SUBSCRIPTIONS * VARIANTS  # before the change: its events may beat its answer
                await _change_all(http, branch, variants, key=f"warm-{warm_up}")
                try:
                    await wait_for(lambda: received >= goal, 5, "all subscriptions delivering")  # noqa: B023
                    break
                except AssertionError:
                    assert warm_up < 5
            before, start = rss_bytes(server.process.pid), received
            for n in range(2000 // VARIANTS):
                await _change_all(http, branch, variants, key=f"burst-{n}")
            goal = start + 2000 * SUBSCRIPTIONS
            await wait_for(lambda: received >= goal, 120, "40,000 events delivered")
        growth = rss_bytes(server.process.pid) - before
        reader.cancel()
        await ws.close()
    print(f"server RSS grew {growth / MiB:.1f} MiB over 40,000 delivered events")
    assert growth < 32 * MiB, f"{growth / MiB:.1f} MiB"


async def test_a_subscriber_that_stops_reading_is_closed_with_4801(database_url, broadcast_url, owner_token, tmp_path):
    log_file = tmp_path / "server.log"
    with logged_server(database_url, broadcast_url, log_file, ws_send_timeout="1") as server:
        branch, variants = await _shop(server, owner_token)
        # A small window: the socket's OS buffer and websockets' own queue fill after a few messages,
        # and then the client reads nothing more until the test says so.
        ws = await signed_in_socket(server, owner_token, receive_buffer=4096, max_queue=1, compression=None)
        await _subscribed(ws, branch)
        before = rss_bytes(server.process.pid)
        async with server.http_client(owner_token) as http:
            changes = 0

            async def change_until_closed() -> bool:
                nonlocal changes
                if "closing a WebSocket that fell behind" in server.log():
                    return True
                await _change_all(http, branch, variants, key=f"slow-{changes}")
                changes += VARIANTS
                return False

            took = await wait_for(change_until_closed, 60, "the server dropping the socket that stopped reading")
        growth = rss_bytes(server.process.pid) - before
        # Only now does the client read again: through what was queued for it, to the close frame.
        close_code, reason, seen = await closed_with(ws, deadline=8)
    print(f"dropped after {changes} changes, {took:.1f}s; {len(seen)} messages read after; RSS +{growth / MiB:.1f} MiB")
    assert (close_code, "slow consumer" in reason) == (SLOW_CONSUMER, True), (close_code, reason)
    assert growth < 32 * MiB, f"{growth / MiB:.1f} MiB"


async def test_more_operations_on_one_socket_than_allowed_are_refused(server, owner_token):
    branch, _ = await _shop(server, owner_token)
    ws = await signed_in_socket(server, owner_token)
    await _subscribed(ws, branch)
    await subscribe(ws, "one-too-many", STOCK_CHANGED, branches=[branch])
    refusal = await receive(ws)
    assert (refusal["id"], refusal["type"]) == ("one-too-many", "error"), refusal
    assert refusal["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert "at most 20" in refusal["payload"][0]["message"]
    await ws.send('{"id": "s0", "type": "complete"}')  # one place freed: the next is taken
    await subscribe(ws, "after", ME)
    answer = await receive(ws)
    assert (answer["id"], answer["type"]) == ("after", "next"), answer
    await ws.close()


async def test_more_sockets_per_session_than_allowed_are_refused(server, owner_token):
    sockets = [await signed_in_socket(server, owner_token) for _ in range(10)]
    extra = await open_socket(server)
    await extra.send(f'{{"type": "connection_init", "payload": {{"authToken": "{owner_token}"}}}}')
    close_code, reason, seen = await closed_with(extra, deadline=5)
    assert (close_code, "at most 10" in reason, seen) == (TOO_MANY_SOCKETS, True, []), (close_code, reason, seen)
    await sockets.pop().close()
    # The server forgets a closed socket when its handler stops: soon after, a new one is admitted.
    for attempt in itertools.count():
        try:
            sockets.append(await signed_in_socket(server, owner_token))
            break
        except (ConnectionClosed, AssertionError):
            assert attempt < 50, "a closed socket's place was never given back"
    for ws in sockets:
        await ws.close()


async def test_the_socket_limit_is_a_setting(database_url, broadcast_url, owner_token):
    limit = 2
    with running_server(database_url, broadcast_url, ws_max_sockets_per_session=str(limit)) as server:
        sockets = [await signed_in_socket(server, owner_token) for _ in range(limit)]
        extra = await open_socket(server)
        await extra.send(f'{{"type": "connection_init", "payload": {{"authToken": "{owner_token}"}}}}')
        close_code, reason, _ = await closed_with(extra, deadline=5)
        for ws in sockets:
            await ws.close()
    assert (close_code, f"at most {limit}" in reason) == (TOO_MANY_SOCKETS, True)
