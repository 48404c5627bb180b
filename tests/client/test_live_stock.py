"""`live_stock` as a partner's dashboard uses it: every change at the branches it follows, exactly once and in
each branch's sequence order, while the test drops its socket in the middle of a burst of changes (and, on the
Redis backend, restarts the Redis the server's bus uses)."""

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable

import pytest
from branchline_client import AuthError, BranchlineClient

from tests.client.conftest import OWNER_EMAIL, OWNER_PASSWORD, OwnRedis, TcpProxy, shop
from tests.e2e.conftest import Server, running_server
from tests.e2e.shop import adjust, all_movements, request

_keys = itertools.count(1)


async def wait_until(condition: Callable[[], bool], follower: asyncio.Task, what: str, within: float = 60) -> None:
    """Polls the condition (no fixed sleep); a follower that stopped fails the test with its own error."""
    async with asyncio.timeout(within):
        while not condition():
            if follower.done():
                follower.result()
                raise AssertionError(f"live_stock ended before {what}")
            await asyncio.sleep(0.05)


async def follow_through_a_burst(server: Server, token: str, disrupt: Callable[[TcpProxy, int], Awaitable[None]]):
    """Two branches; the client follows both (one from a given sequence, one from now) through a burst of 40
    changes, with `disrupt(proxy, step)` called along the way; returns what it saw and the ledgers."""
    lahore, lahore_ids = await shop(server, token, ["A", "B"], stock=100)
    karachi, karachi_ids = await shop(server, token, ["A"], stock=100)
    async with server.http_client(token) as http:
        # Changes the client must catch up on from the ledger: it resumes Lahore from sequence 2.
        for n in range(2):
            await adjust(http, lahore, [{"variant": {"id": lahore_ids["A"]}, "quantity": -1}], key=f"pre-{lahore}-{n}")

    seen: list[tuple[str, int, int, int]] = []
    async with TcpProxy(server.port) as proxy:
        client = BranchlineClient(f"{server.url}/graphql", ws_url=f"ws://127.0.0.1:{proxy.port}/graphql", backoff=0.05)
        await client.sign_in(OWNER_EMAIL, OWNER_PASSWORD)

        async def follow() -> None:
            async for change in client.live_stock([lahore, karachi], since={lahore: 2}, reconcile_after=1.0):
                seen.append((change.branch_id, change.sequence, change.delta, change.on_hand))

        follower = asyncio.create_task(follow())
        try:
            # Karachi starts "from now": mark until a change there arrives, so the client is positioned
            # (a mark committed before it read Karachi's position is history, not news).
            async with server.http_client(token) as http:
                marks = itertools.count(1)
                while not any(b == karachi for b, *_ in seen):
                    mark = [{"variant": {"id": karachi_ids["A"]}, "quantity": 1}]
                    await adjust(http, karachi, mark, key=f"mark-{karachi}-{next(marks)}")
                    with contextlib.suppress(TimeoutError):
                        await wait_until(lambda: any(b == karachi for b, *_ in seen), follower, "a mark", within=1)

                async def change(step: int) -> None:
                    branch, variant = (lahore, lahore_ids["AB"[step % 2]]) if step % 3 else (karachi, karachi_ids["A"])
                    quantity = -1 if step % 4 else 2
                    line = [{"variant": {"id": variant}, "quantity": quantity}]
                    result = await adjust(http, branch, line, key=f"burst-{next(_keys)}-{branch}")
                    assert result["errors"] == []

                for step in range(0, 40, 4):  # four at a time, concurrently, as counters sell
                    await asyncio.gather(*(change(step + k) for k in range(4)))
                    await disrupt(proxy, step)

                ledgers = {branch: await all_movements(http, branch) for branch in (lahore, karachi)}
            last = {branch: movements[-1]["sequence"] for branch, movements in ledgers.items()}
            await wait_until(
                lambda: all(any(b == branch and s == last[branch] for b, s, *_ in seen) for branch in last),
                follower,
                "every change arrived",
            )
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await client.aclose()
        return seen, ledgers, {"lahore": lahore, "karachi": karachi}, proxy.connections


def assert_each_change_once_in_order(seen, ledgers, branches) -> None:
    lahore, karachi = branches["lahore"], branches["karachi"]
    first = next(s for b, s, *_ in seen if b == karachi)
    expected = {
        # Lahore: everything after sequence 2 (the caller's `since`).
        lahore: [(lahore, m["sequence"], m["delta"], m["onHand"]) for m in ledgers[lahore] if m["sequence"] > 2],
        # Karachi: from the first change the client saw there (it started following "from now").
        karachi: [
            (karachi, m["sequence"], m["delta"], m["onHand"]) for m in ledgers[karachi] if m["sequence"] >= first
        ],
    }
    for branch, changes in expected.items():
        assert [c for c in seen if c[0] == branch] == changes
    assert len(seen) == len(expected[lahore]) + len(expected[karachi])


async def test_live_stock_sees_every_change_once_in_order_though_its_socket_drops(server, owner_token):
    async def drop_socket(proxy: TcpProxy, step: int) -> None:
        if step == 8:
            proxy.cut()
        if step == 24:
            await proxy.opened(2)  # back since the first drop (while the burst went on): drop it again
            proxy.cut()

    seen, ledgers, branches, connections = await follow_through_a_burst(server, owner_token, drop_socket)
    assert_each_change_once_in_order(seen, ledgers, branches)
    assert connections >= 3  # it did reconnect, twice


async def test_live_stock_through_a_dropped_socket_and_a_redis_restart(database_url, own_redis: OwnRedis, owner_token):
    async def restart_redis_and_drop_socket(proxy: TcpProxy, step: int) -> None:
        if step == 8:
            await asyncio.to_thread(own_redis.stop)  # changes go on while the bus is down
        if step == 16:
            await asyncio.to_thread(own_redis.start)
        if step == 28:
            await proxy.opened(1)
            proxy.cut()

    with running_server(database_url, own_redis.url) as server:
        seen, ledgers, branches, connections = await follow_through_a_burst(
            server, owner_token, restart_redis_and_drop_socket
        )
    assert_each_change_once_in_order(seen, ledgers, branches)
    assert connections >= 2


async def test_live_stock_raises_the_auth_error_when_its_session_is_revoked(server, owner_token):
    branch, ids = await shop(server, owner_token, ["A"], stock=10)
    seen: list[int] = []
    async with BranchlineClient(f"{server.url}/graphql") as client:
        await client.sign_in(OWNER_EMAIL, OWNER_PASSWORD)

        async def follow() -> None:
            async for change in client.live_stock([branch], since={branch: 1}):
                seen.append(change.sequence)

        follower = asyncio.create_task(follow())
        async with server.http_client(owner_token) as http:
            await adjust(http, branch, [{"variant": {"id": ids["A"]}, "quantity": -1}], key=f"revoke-{branch}")
        await wait_until(lambda: seen == [2], follower, "the change before the revocation")
        async with server.http_client(client.token) as session:  # the session signs itself out
            await session.execute(request("mutation { logout { ok } }"))
        # The server closes the socket (4403); the client's catch-up is refused: it stops, with the code.
        with pytest.raises(AuthError) as ended:
            async with asyncio.timeout(60):
                await follower
        assert ended.value.code == "UNAUTHENTICATED"
