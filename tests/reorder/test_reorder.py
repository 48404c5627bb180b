"""Reorder levels, low-stock crossings (lowStock) and reorder suggestions."""

import asyncio

import pytest

import schema  # the schema first: it wires the resolvers, which import it back
from models.staff import Role
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.reorder import Crossing, ReorderLevel, crossing, reorder_suggestions, set_reorder_levels
from schema.context import Context
from schema.ids import global_id
from subscriptions.channels import stock_channel
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import deduct, make_branch, make_variants, stock
from tests.operations.conftest import staff_actor
from tests.security.live_sockets import (
    in_process_server,
    next_data,
    signed_in_owner,
    signed_in_socket,
    subscribe,
    until_subscribed,
)


def test_a_crossing_is_reported_once_each_way():
    assert crossing(6, 5, 5) is Crossing.LOW
    assert crossing(5, 4, 5) is None  # already low: no second alert
    assert crossing(1, 0, 5) is Crossing.OUT
    assert crossing(4, 6, 5) is Crossing.RECOVERED
    assert crossing(1, 0, 0) is Crossing.OUT  # no reorder point set: running out still counts
    assert crossing(3, 2, 0) is None


async def test_suggestions_take_from_branches_with_spare_stock_then_buy_the_rest(db):
    lahore, karachi, islamabad = await make_branch(), await make_branch(), await make_branch()
    kurta, shawl = await make_variants(2)
    for variant, here, there, elsewhere in ((kurta, 2, 30, 18), (shawl, 1, 19, 0)):
        await stock(lahore.id, variant.id, here)
        await stock(karachi.id, variant.id, there)
        if elsewhere:
            await stock(islamabad.id, variant.id, elsewhere)
    for branch in (lahore, karachi, islamabad):
        await set_reorder_levels(SYSTEM, branch.id, [ReorderLevel(kurta.id, 5, 10), ReorderLevel(shawl.id, 5, 10)])

    suggestions = {s.sku: s for s in await reorder_suggestions(SYSTEM, lahore.id)}

    # Kurta: need 10; Karachi spares 30-5-10 = 15, so all 10 come from there.
    k = suggestions[kurta.sku]
    assert (k.available, k.need, k.transfers, k.purchase) == (2, 10, [(karachi.id, 10)], 0)
    # Shawl: need 10; Karachi spares 19-5-10 = 4, Islamabad nothing: buy 6.
    s = suggestions[shawl.sku]
    assert (s.need, s.transfers, s.purchase) == (10, [(karachi.id, 4)], 6)

    # A Lahore manager is not told what Karachi holds.
    manager = await staff_actor(Role.BRANCH_MANAGER, [lahore.id])
    scoped = {x.sku: x for x in await reorder_suggestions(manager, lahore.id)}
    assert (scoped[kurta.sku].transfers, scoped[kurta.sku].purchase) == ([], 10)


async def test_bad_reorder_levels_write_nothing(db):
    branch = await make_branch()
    [v] = await make_variants()
    with pytest.raises(OperationError) as bad:
        await set_reorder_levels(SYSTEM, branch.id, [ReorderLevel(v.id, 5, -1), ReorderLevel(v.id, 3)])
    assert {(p.code, p.field) for p in bad.value.problems} == {
        (ErrorCode.INVALID, "lines.0.reorderQuantity"),
        (ErrorCode.DUPLICATE, "lines.1.variant"),
    }
    assert await reorder_suggestions(SYSTEM, branch.id) == []


async def test_low_stock_fires_on_the_crossing_and_on_recovery(db, bus):
    """Over a real WebSocket to a real server: the subscription a back office would hold open."""
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 7)
    await set_reorder_levels(SYSTEM, branch.id, [ReorderLevel(v.id, 5, 12)])
    token = await signed_in_owner()
    async with in_process_server(db) as server:
        ws = await signed_in_socket(server, token)
        await subscribe(ws, "low", LOW_STOCK, b=[str(global_id("Branch", branch.id))])
        await until_subscribed(bus, stock_channel(branch.id))
        for _ in range(4):  # 7 -> 6 -> 5 (LOW) -> 4 -> 3
            await deduct([(branch.id, v.id, 1)])
        await stock(branch.id, v.id, 3)  # 6: back above the point
        await deduct([(branch.id, v.id, 6)])  # 0: OUT
        received = [(await next_data(ws, "low"))["lowStock"] for _ in range(3)]
        await ws.close()
    assert [(a["crossing"], a["available"]) for a in received] == [("LOW", 5), ("RECOVERED", 6), ("OUT", 0)]
    assert (received[0]["reorderQuantity"], received[0]["variant"]["sku"]) == (12, v.sku)


LOW_STOCK = """subscription($b: [ID!]!) { lowStock(branchIds: $b) {
  crossing available reorderQuantity variant { sku } } }"""


SUGGESTIONS = """query($b: ID!) { reorderSuggestions(branchId: $b) {
  sku need purchase variant { sku } transfers { quantity fromBranch { code } } } }"""


async def test_suggestions_over_graphql_link_the_variant_and_the_branches_that_can_spare(api):  # noqa: F811
    lahore, karachi = await make_branch("LHR"), await make_branch("KHI")
    [kurta] = await make_variants(1, prefix="K")
    await stock(lahore.id, kurta.id, 2)
    await stock(karachi.id, kurta.id, 30)
    for branch in (lahore, karachi):
        await set_reorder_levels(SYSTEM, branch.id, [ReorderLevel(kurta.id, 5, 10)])
    data = await api(SUGGESTIONS, {"b": str(global_id("Branch", lahore.id))})
    assert data["reorderSuggestions"] == [
        {
            "sku": "K-0",
            "need": 10,
            "purchase": 0,
            "variant": {"sku": "K-0"},
            "transfers": [{"quantity": 10, "fromBranch": {"code": "KHI"}}],
        }
    ]


async def test_a_low_stock_alert_over_graphql_links_its_branch_and_variant(bus):
    branch = await make_branch("LHR")
    [v] = await make_variants(1, prefix="K")
    await stock(branch.id, v.id, 6)
    await set_reorder_levels(SYSTEM, branch.id, [ReorderLevel(v.id, 5, 12)])
    alerts = await schema.schema.subscribe(
        "subscription($b: [ID!]!) { lowStock(branchIds: $b) { crossing available branch { code } variant { sku } } }",
        variable_values={"b": [str(global_id("Branch", branch.id))]},
        context_value=Context(actor=SYSTEM),
    )
    first = asyncio.create_task(anext(alerts))
    await until_subscribed(bus, stock_channel(branch.id))
    await deduct([(branch.id, v.id, 1)])  # 6 -> 5: LOW
    result = await asyncio.wait_for(first, 5)
    await alerts.aclose()
    assert result.errors is None, result.errors
    assert result.data == {
        "lowStock": {"crossing": "LOW", "available": 5, "branch": {"code": "LHR"}, "variant": {"sku": "K-0"}}
    }
