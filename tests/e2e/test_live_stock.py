"""End to end over a real uvicorn: no oversell over HTTP, live stock over graphql-transport-ws,
resume after a disconnect, fan-out between two server processes through Redis."""

import asyncio
import itertools

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.e2e.conftest import redis_url_for_two_processes, running_server
from tests.e2e.shop import STOCK_CHANGED, adjust, all_movements, build_shop, request, until_live, wait_until

_codes = itertools.count(1)


def code() -> str:
    return f"E{next(_codes)}"


async def test_fifty_concurrent_http_sellers_against_ten_units(server, owner_token):
    async with server.http_client(owner_token) as session:
        branch, ids = await build_shop(session, code(), ["A"], stock=10)

    async def seller(i: int):
        # Each POS client has its own connection, as counters do.
        async with server.http_client(owner_token) as s:
            return await adjust(s, branch, [{"variant": {"id": ids["A"]}, "quantity": -1}], key=f"sell-{i}")

    results = await asyncio.gather(*(seller(i) for i in range(50)))
    ok = [r for r in results if not r["errors"]]
    short = [r for r in results if r["errors"] and r["errors"][0]["code"] == "INSUFFICIENT_STOCK"]
    assert (len(ok), len(short)) == (10, 40)
    async with server.http_client(owner_token) as session:
        movements = await all_movements(session, branch)
    sales = [m for m in movements if m["delta"] == -1]
    assert len(sales) == 10 and movements[-1]["onHand"] == 0
    assert sorted(m["onHand"] for m in sales) == list(range(10))


async def test_subscriber_gets_each_committed_change_and_nothing_rolled_back(server, owner_token):
    async with server.http_client(owner_token) as http:
        branch, ids = await build_shop(http, code(), ["A", "B", "R"], stock=5)  # R: readiness and the end marker
        async with server.ws_client(owner_token) as ws:
            received: list[dict] = []

            async def listen():
                async for event in ws.subscribe(request(STOCK_CHANGED, branches=[branch])):
                    received.append(event["stockChanged"])

            listener = asyncio.create_task(listen())
            ready = await until_live(http, branch, ids["R"], lambda: bool(received), key="ready")
            await adjust(http, branch, [{"variant": {"id": ids["A"]}, "quantity": -2}], key="a1")
            # Rolled back as a whole: B's good line must never be announced.
            failed = await adjust(
                http,
                branch,
                [{"variant": {"id": ids["B"]}, "quantity": -1}, {"variant": {"id": ids["A"]}, "quantity": -9}],
                key="a2",
            )
            assert failed["errors"][0]["code"] == "INSUFFICIENT_STOCK"
            await adjust(http, branch, [{"variant": {"id": ids["B"]}, "quantity": 3}], key="a3")
            # A last change on R: the branch's events arrive in order, so once it is here anything
            # announced before it (a rolled-back line included) has arrived too.
            end = await adjust(http, branch, [{"variant": {"id": ids["R"]}, "quantity": 1}], key="end")
            end = end["movements"][-1]["sequence"]
            await wait_until(lambda: any(e["sequence"] == end for e in received), "the end marker")
            listener.cancel()
    between = [e for e in received if ready < e["sequence"] < end]
    assert [(e["sku"].split("-")[-1], e["delta"], e["onHand"], e["available"], e["sequence"]) for e in between] == [
        ("A", -2, 3, 3, ready + 1),
        ("B", 3, 8, 8, ready + 2),
    ]
    assert all(e["branchId"] == branch and e["reason"] == "correction" for e in received)


async def test_resume_after_disconnect_during_a_burst_sees_every_change_once(server, owner_token):
    async with server.http_client(owner_token) as http:
        branch, ids = await build_shop(http, code(), ["A", "B", "C", "R"], stock=100)
        seen: list[int] = []
        ready: list[int] = []
        stop_after = 7

        async def writer(i: int):
            async with server.http_client(owner_token) as s:
                sku = "ABC"[i % 3]
                await adjust(s, branch, [{"variant": {"id": ids[sku]}, "quantity": -1}], key=f"burst-{i}")

        async with server.ws_client(owner_token) as ws:

            async def listen():
                async for event in ws.subscribe(request(STOCK_CHANGED, branches=[branch])):
                    if event["stockChanged"]["variantId"] == ids["R"]:
                        ready.append(event["stockChanged"]["sequence"])
                        continue
                    seen.append(event["stockChanged"]["sequence"])
                    if len(seen) == stop_after:
                        return  # the counter loses its connection mid-burst

            listener = asyncio.create_task(listen())
            last_seen = await until_live(http, branch, ids["R"], lambda: bool(ready), key="ready")
            burst = asyncio.gather(*(writer(i) for i in range(40)))
            await asyncio.wait_for(listener, timeout=30)
        await burst
        resumed = await all_movements(http, branch, after=seen[-1])
    everything = seen + [m["sequence"] for m in resumed]
    assert len(everything) == len(set(everything)) == 40
    assert sorted(everything) == list(range(last_seen + 1, last_seen + 41))


async def test_subscription_without_a_valid_branch_is_refused(server, owner_token):
    async with server.ws_client(owner_token) as ws:
        for branches in ([], ["not-an-id"], ["QnJhbmNoOjk5OTk5"]):
            with pytest.raises(TransportQueryError) as caught:
                async for _ in ws.subscribe(request(STOCK_CHANGED, branches=branches)):
                    pass
            assert caught.value.errors[0]["extensions"]["field"] == "branchIds"


async def test_change_through_process_a_reaches_subscriber_on_process_b(database_url, broadcast_url, owner_token):
    redis_url = redis_url_for_two_processes(broadcast_url)
    if redis_url is None:
        pytest.skip("no Redis to share between two server processes")
    with running_server(database_url, redis_url) as a, running_server(database_url, redis_url) as b:
        async with a.http_client(owner_token) as http_a:
            branch, ids = await build_shop(http_a, code(), ["A", "R"], stock=4)
            async with b.ws_client(owner_token) as ws_b:
                got = asyncio.get_running_loop().create_future()
                ready: list[dict] = []

                async def listen():
                    async for event in ws_b.subscribe(request(STOCK_CHANGED, branches=[branch])):
                        if event["stockChanged"]["variantId"] == ids["R"]:
                            ready.append(event["stockChanged"])  # through process A: B is subscribed
                            continue
                        got.set_result(event["stockChanged"])
                        return

                listener = asyncio.create_task(listen())
                await until_live(http_a, branch, ids["R"], lambda: bool(ready), key="ready")
                await adjust(http_a, branch, [{"variant": {"id": ids["A"]}, "quantity": -1}], key="via-a")
                event = await asyncio.wait_for(got, timeout=10)
                await listener
    assert (event["delta"], event["onHand"]) == (-1, 3)


async def test_health_reports_database_and_bus(server, owner_token):
    import httpx

    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{server.url}/health")).json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["bus"]["ok"]


async def test_websocket_needs_a_valid_token_and_branch_rights(server, owner_token):
    from gql.transport.exceptions import TransportConnectionFailed

    from models.branches import Branch
    from models.staff import Role
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM

    async with server.http_client(owner_token) as http:
        branch, _ = await build_shop(http, code(), ["A"], stock=1)
        other, _ = await build_shop(http, code(), ["A"], stock=1)
    for token in (None, "not-a-token"):
        with pytest.raises(TransportConnectionFailed):
            async with server.ws_client(token) as ws:
                async for _ in ws.subscribe(request(STOCK_CHANGED, branches=[branch])):
                    pass
    from operations.directory.staff import authenticate, logout
    from operations.kernel.access import Actor

    signed_out = (await login("owner@e2e.pk", "e2e-password-1")).token
    await logout(await authenticate(signed_out))
    with pytest.raises(TransportConnectionFailed):  # a revoked token is refused over WebSocket too
        async with server.ws_client(signed_out) as ws:
            async for _ in ws.subscribe(request(STOCK_CHANGED, branches=[branch])):
                pass
    assert isinstance(await authenticate(owner_token), Actor)
    own = await Branch.all().order_by("id").first()
    await create_staff(SYSTEM, NewStaff("c@e2e.pk", "Cashier", Role.CASHIER, "e2e-password-1", None, [own.id]))
    cashier = (await login("c@e2e.pk", "e2e-password-1")).token
    async with server.ws_client(cashier) as ws:
        with pytest.raises(TransportQueryError) as caught:
            async for _ in ws.subscribe(request(STOCK_CHANGED, branches=[other])):
                pass
    assert caught.value.errors[0]["extensions"]["code"] == "FORBIDDEN"
