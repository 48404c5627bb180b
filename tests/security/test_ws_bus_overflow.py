"""The bus side of the slow-consumer close (4801), over a real WebSocket to a real `branchline serve`.

A stockChanged subscriber has two ways to be dropped for falling behind, and they are told apart by the
server's log line and the close reason:

- the socket's: it owes its peer `ws_outbound_buffer_bytes` for `ws_send_timeout` seconds
  (server/websocket_protocol.py; tests/security/test_ws_slow_consumers.py drives it);
- the bus's: its bounded queue (`subscriber_queue_size` bus messages, subscriptions/bus.py) overflows
  and the stream closes the socket when it next reads (resolvers/live.py `_close_slow`).

Why the bus path is only seen once the peer reads again: over loopback with default settings a
subscriber never falls behind (the bus hands out one message per loop turn and the socket buffers
absorb thousands of events). Shrunk through settings alone, the chain is: the peer stops reading, the
buffers between (the client's small SO_RCVBUF and one-frame queue, the server's SO_SNDBUF and write
high-water mark, both from `ws_outbound_buffer_bytes`) fill within a few tens of kilobytes, the stream's
send waits for `writable`, and every further bus message waits in its queue of 2 until one overflows.
The stream is parked in that send, so it learns of the overflow only when the send completes: when the
peer reads again (before `ws_send_timeout`, set long here so the socket's own close does not come first).
Then it closes with 4801, and the peer reading on sees the close frame behind what was queued.

Each burst commit changes every one of VARIANTS variants: one bus message of VARIANTS events, each a
few hundred bytes as sent, so one bus message alone about fills all those buffers together (a run
here: the slow client read 100 events after resuming, then the close); BURST commits are more than
twice the 2 queued plus the one in flight.
"""

import asyncio
import itertools
import json

from websockets.exceptions import ConnectionClosed

from tests.e2e.shop import STOCK_CHANGED, adjust, build_shop
from tests.security.live_sockets import closed_with, receive, signed_in_socket, subscribe, wait_for
from tests.security.servers import logged_server

SLOW_CONSUMER = 4801
QUEUE = 2  # bus messages a subscriber may have waiting
VARIANTS = 100
BURST = 8


async def test_a_subscriber_whose_bus_queue_overflows_is_closed_with_4801_and_others_get_every_event(
    database_url, broadcast_url, owner_token, tmp_path
):
    log_file = tmp_path / "server.log"
    limits = {"subscriber_queue_size": str(QUEUE), "ws_outbound_buffer_bytes": "2048", "ws_send_timeout": "300"}
    with logged_server(database_url, broadcast_url, log_file, **limits) as server:
        async with server.http_client(owner_token) as http:
            branch, ids = await build_shop(http, "BQ1", [f"V{i}" for i in range(VARIANTS)], stock=0)
            variants = list(ids.values())
            slow = await signed_in_socket(server, owner_token, receive_buffer=4096, max_queue=1, compression=None)
            fast = await signed_in_socket(server, owner_token)
            await subscribe(slow, "slow", STOCK_CHANGED, branches=[branch])
            await subscribe(fast, "fast", STOCK_CHANGED, branches=[branch])

            fast_sequences: list[int] = []

            async def read_fast() -> None:
                async for message in fast:
                    message = json.loads(message)
                    assert message["type"] == "next", message
                    fast_sequences.append(message["payload"]["data"]["stockChanged"]["sequence"])

            fast_reader = asyncio.create_task(read_fast())
            slow_first: list[dict] = []

            async def both_delivered() -> bool:
                if not slow_first:
                    try:
                        slow_first.append(await receive(slow, within=0.05))
                    except TimeoutError:
                        return False
                return bool(fast_sequences)

            # Readiness, not a fixed sleep: a subscription starts asynchronously after `subscribe` is sent
            # and sees only later commits, so commit a change until both have delivered one.
            for attempt in itertools.count():
                result = await adjust(
                    http, branch, [{"variant": {"id": variants[0]}, "quantity": 1}], key=f"r{attempt}"
                )
                assert result["errors"] == [], result
                try:
                    await wait_for(both_delivered, 2, "a first event on both sockets")
                    break
                except AssertionError:
                    assert attempt < 20, "the subscriptions never delivered"
            assert slow_first[0]["type"] == "next", slow_first  # from here on the slow client reads nothing

            last = 0
            for n in range(BURST):
                lines = [{"variant": {"id": v}, "quantity": 1} for v in variants]
                result = await adjust(http, branch, lines, key=f"burst-{n}")
                assert result["errors"] == [], result
                last = result["movements"][-1]["sequence"]
            # The fast subscriber is not held up: it gets every event, while the slow one is stuck.
            await wait_for(
                lambda: bool(fast_sequences) and fast_sequences[-1] >= last, 60, "every event on the fast socket"
            )
            assert "fell behind" not in server.log()

            # Only now does the slow client read again: through what was queued for it, to the close frame.
            close_code, reason, seen = await closed_with(slow, deadline=30)
            fast_reader.cancel()
            try:
                await fast_reader
            except (asyncio.CancelledError, ConnectionClosed):
                pass
            await fast.close()
            log = server.log()
    assert (close_code, "resume with stockMovements" in reason) == (SLOW_CONSUMER, True), (close_code, reason)
    assert "closing a stockChanged subscriber that fell behind" in log  # the bus queue's close ...
    assert "closing a WebSocket that fell behind" not in log  # ... not the socket's own
    assert len(seen) < BURST * VARIANTS, len(seen)  # dropped part way, not after everything
    first = fast_sequences[0]
    assert fast_sequences == list(range(first, last + 1))
