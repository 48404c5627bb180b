"""stockChanged without branchIds, over a real uvicorn and graphql-transport-ws: every branch the caller may
see, each branch's changes in its own gap-free sequence, resumable per branch."""

import asyncio
import itertools

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.e2e.shop import adjust, all_movements, build_shop, request, until_live, wait_until

STOCK_CHANGED_ANYWHERE = """subscription($variants: [ID!]) { stockChanged(variantIds: $variants) {
  branchId variantId sku delta onHand sequence } }"""
_codes = itertools.count(1)


def code() -> str:
    return f"V{next(_codes)}"


async def _staff(role, branch_gids: list[str], email: str) -> str:
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM
    from schema.ids import decode

    branch_pks = [decode(b, "Branch", "branchIds") for b in branch_gids]
    await create_staff(SYSTEM, NewStaff(email, f"{role.value} e2e", role, "e2e-password-1", None, branch_pks))
    return (await login(email, "e2e-password-1")).token


async def test_without_branch_ids_a_manager_hears_their_branches_and_resumes_each_gap_free(server, owner_token):
    from models.staff import Role

    async with server.http_client(owner_token) as http:
        shops = [await build_shop(http, code(), ["A", "B", "R"], stock=50) for _ in range(3)]  # R: readiness
        (lahore, lahore_ids), (karachi, _), (quetta, _) = shops
        opening = {branch: (await all_movements(http, branch))[-1]["sequence"] for branch, _ in shops}
    manager = await _staff(Role.BRANCH_MANAGER, [lahore, karachi], "manager@live-every.pk")
    seen: list[dict] = []
    ready: list[dict] = []
    stop_after = 9

    async def writer(i: int):
        branch, ids = shops[i % 3]
        async with server.http_client(owner_token) as s:
            await adjust(s, branch, [{"variant": {"id": ids["AB"[i % 2]]}, "quantity": -1}], key=f"every-{i}")

    async with server.ws_client(manager) as ws:

        async def listen():
            async for event in ws.subscribe(request(STOCK_CHANGED_ANYWHERE)):
                if event["stockChanged"]["variantId"] == lahore_ids["R"]:
                    ready.append(event["stockChanged"])
                    continue
                seen.append(event["stockChanged"])
                if len(seen) == stop_after:
                    return  # the dashboard loses its connection mid-burst

        listener = asyncio.create_task(listen())
        async with server.http_client(owner_token) as http:
            # One subscription over all the manager's branches: once Lahore's reach it, Karachi's do too.
            opening[lahore] = await until_live(http, lahore, lahore_ids["R"], lambda: bool(ready), key="ready-every")
        burst = asyncio.gather(*(writer(i) for i in range(30)))
        await asyncio.wait_for(listener, timeout=30)
    await burst
    assert len(seen) == stop_after
    assert quetta not in {e["branchId"] for e in seen}, "a branch the manager does not work at was heard"
    async with server.http_client(owner_token) as http:
        for branch in (lahore, karachi):
            heard = [e["sequence"] for e in seen if e["branchId"] == branch]
            assert heard == sorted(heard), "a branch's changes arrive in its sequence order"
            last = heard[-1] if heard else opening[branch]
            resumed = [m["sequence"] for m in await all_movements(http, branch, after=last)]
            everything = heard + resumed
            assert everything == list(range(opening[branch] + 1, opening[branch] + 11)), (branch, heard, resumed)


async def test_without_branch_ids_an_owner_hears_every_branch_and_variants_still_filter(server, owner_token):
    async with server.http_client(owner_token) as http:
        first, first_ids = await build_shop(http, code(), ["A", "B"], stock=5)
        second, second_ids = await build_shop(http, code(), ["A", "B", "R"], stock=5)  # R: readiness, end marker
        marker = second_ids["R"]
        async with server.ws_client(owner_token) as ws_all, server.ws_client(owner_token) as ws_one:
            everything: list[dict] = []
            only_b: list[dict] = []
            markers: dict[str, list[int]] = {"all": [], "one": []}  # R's sequences, per socket

            async def listen(ws, variables, into, name):
                async for event in ws.subscribe(request(STOCK_CHANGED_ANYWHERE, **variables)):
                    event = event["stockChanged"]
                    if event["variantId"] == marker:
                        markers[name].append(event["sequence"])
                    else:
                        into.append(event)

            listeners = [
                asyncio.create_task(listen(ws_all, {}, everything, "all")),
                asyncio.create_task(listen(ws_one, {"variants": [second_ids["B"], marker]}, only_b, "one")),
            ]
            await until_live(http, second, marker, lambda: all(markers.values()), key="ready-own")
            changes = [
                await adjust(http, first, [{"variant": {"id": first_ids["A"]}, "quantity": -1}], key="own-1"),
                await adjust(http, second, [{"variant": {"id": second_ids["A"]}, "quantity": -2}], key="own-2"),
                await adjust(http, second, [{"variant": {"id": second_ids["B"]}, "quantity": -3}], key="own-3"),
            ]
            # A last change on R: events reach a subscription in publish order, so once it is on both
            # sockets, everything announced before it has arrived too (and nothing else will).
            end = await adjust(http, second, [{"variant": {"id": marker}, "quantity": 1}], key="own-end")
            end = end["movements"][-1]["sequence"]
            await wait_until(lambda: all(end in heard for heard in markers.values()), "the end marker on both sockets")
            for listener in listeners:
                listener.cancel()
    assert [(e["branchId"], e["variantId"], e["delta"], e["onHand"]) for e in everything] == [
        (first, first_ids["A"], -1, 4),
        (second, second_ids["A"], -2, 3),
        (second, second_ids["B"], -3, 2),
    ]
    # Each branch counts its own sequence: what each change was given, in each branch.
    assert [e["sequence"] for e in everything] == [c["movements"][-1]["sequence"] for c in changes]
    assert [(e["variantId"], e["delta"]) for e in only_b] == [(second_ids["B"], -3)]


async def test_without_branch_ids_someone_who_sees_no_stock_is_refused(server, owner_token):
    from models.staff import Role

    async with server.http_client(owner_token) as http:
        branch, _ = await build_shop(http, code(), ["A"], stock=1)
    finance = await _staff(Role.FINANCE, [branch], "finance@live-every.pk")
    async with server.ws_client(finance) as ws:
        with pytest.raises(TransportQueryError) as caught:
            async for _ in ws.subscribe(request(STOCK_CHANGED_ANYWHERE)):
                pass
    assert caught.value.errors[0]["extensions"] == {"code": "FORBIDDEN", "field": "branchIds"}
