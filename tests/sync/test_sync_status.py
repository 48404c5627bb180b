"""syncStatus's push figures, retryParkedSync and syncStatusChanged, and the background worker."""

import asyncio
from datetime import UTC, datetime

from models.outbox import OutboxRow, OutboxStatus
from models.staff import Role
from operations.sync import push as shopify_push
from server import workers
from server.settings import Settings
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.security.live_sockets import in_process_server, next_data, signed_in_owner, signed_in_socket, subscribe
from tests.sync.conftest import adjust, assert_shopify_agrees, mapped_levels

STATUS = """
query { syncStatus {
  pending parked lastPushedAt lagSeconds parkedRows(first: 5) { edges { node { key lastError attempts } } }
} }
"""
RETRY = """
mutation {
  retryParkedSync(input: {idempotencyKey: "retry-1"}) { retried status { pending parked } errors { code message } }
}
"""


async def _park_one(connected, change_settings) -> OutboxRow:
    change_settings(push={"max_attempts": 1, "client_attempts": 1})
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +2)
    connected.shop.faults.fail_next(1, status=502)
    assert (await shopify_push.push_due()).parked == 1
    return await OutboxRow.get(status=OutboxStatus.PARKED)


async def test_sync_status_shows_pending_and_parked_rows_and_a_retry_clears_them(connected, api, change_settings):  # noqa: F811
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +1)
    row = await OutboxRow.get(status=OutboxStatus.PENDING)

    asked = datetime.now(UTC)
    waiting = (await api(STATUS))["syncStatus"]
    answered = datetime.now(UTC)
    assert (waiting["pending"], waiting["parked"], waiting["lastPushedAt"]) == (1, 0, None)
    # The lag is the pending row's age when the status was read: between its age before and after.
    assert (
        (asked - row.created_at).total_seconds() <= waiting["lagSeconds"] <= (answered - row.created_at).total_seconds()
    )

    await shopify_push.push_due()
    parked_row = await _park_one(connected, change_settings)
    status = (await api(STATUS))["syncStatus"]
    assert (status["pending"], status["parked"], status["lagSeconds"]) == (0, 1, 0)
    assert status["lastPushedAt"] is not None
    assert [e["node"] for e in status["parkedRows"]["edges"]] == [
        {"key": parked_row.key, "lastError": parked_row.last_error, "attempts": 1}
    ]
    assert "502" in parked_row.last_error

    retried = (await api(RETRY))["retryParkedSync"]
    assert retried == {"retried": 1, "status": {"pending": 1, "parked": 0}, "errors": []}
    await shopify_push.drain_outbox(5)
    assert (await api(STATUS))["syncStatus"]["pending"] == 0
    await assert_shopify_agrees(connected.shop)


async def test_only_owners_and_admins_may_see_or_retry_the_sync(connected, api, change_settings):  # noqa: F811
    await _park_one(connected, change_settings)
    branch, _, _ = (await mapped_levels())[0]
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id])
    for query in (STATUS, RETRY):
        body = await manager.raw(query)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await OutboxRow.filter(status=OutboxStatus.PARKED).count() == 1


async def test_sync_status_changed_follows_each_push_round(connected, db, bus):
    """Over a real WebSocket to a real server: the back office's sync indicator."""
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +1)
    token = await signed_in_owner()
    async with in_process_server(db) as server:
        ws = await signed_in_socket(server, token)
        await subscribe(ws, "sync", "subscription { syncStatusChanged { pending lastPushedAt } }")
        first = (await next_data(ws, "sync"))["syncStatusChanged"]  # sent once subscribed
        assert first == {"pending": 1, "lastPushedAt": None}
        assert bus.subscribed(shopify_push.SYNC_CHANNEL) == 1
        await shopify_push.push_due()
        second = (await next_data(ws, "sync"))["syncStatusChanged"]
        await ws.close()
    assert second["pending"] == 0 and second["lastPushedAt"] is not None


async def test_the_worker_pushes_in_the_background_until_stopped(connected):
    levels = await mapped_levels()
    settings = Settings(sync_push_interval=0.05, sync_max_attempts=10, sync_lease_seconds=30)
    async with workers.running(settings) as task:
        for branch, variant, _ in levels[:4]:
            await adjust(branch.id, variant.id, -1)
        for _ in range(100):
            if await OutboxRow.filter(status=OutboxStatus.PENDING).count() == 0:
                break
            await asyncio.sleep(0.05)
    assert task.done()
    assert await OutboxRow.filter(status=OutboxStatus.DONE).count() == 4
    await assert_shopify_agrees(connected.shop)


PARKED_PAGE = """
query($first: Int!, $after: String) { syncStatus { parkedRows(first: $first, after: $after) {
  edges { cursor node { key } } pageInfo { hasNextPage hasPreviousPage endCursor }
} } }
"""


async def test_parked_rows_page_oldest_first(connected, api, change_settings):  # noqa: F811
    change_settings(push={"max_attempts": 1, "client_attempts": 1})
    levels = await mapped_levels()
    for branch, variant, _ in levels[:3]:
        await adjust(branch.id, variant.id, +1)
        connected.shop.faults.fail_next(1, status=502)
        assert (await shopify_push.push_due()).parked == 1
    keys = [r.key for r in await OutboxRow.filter(status=OutboxStatus.PARKED).order_by("id")]

    first = (await api(PARKED_PAGE, {"first": 2}))["syncStatus"]["parkedRows"]
    assert [e["node"]["key"] for e in first["edges"]] == keys[:2]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    rest = (await api(PARKED_PAGE, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["syncStatus"]["parkedRows"]
    assert [e["node"]["key"] for e in rest["edges"]] == keys[2:]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    for first_value in (0, 101):
        body = await api.raw(PARKED_PAGE, {"first": first_value})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
