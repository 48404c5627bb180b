"""A claim takes several rows under one lease and handles them one by one: each row's lease is renewed
right before it is handled, and a row whose lease ran out while it waited its turn (another worker took it
over meanwhile) is not handled a second time."""

import asyncio

from models.inbox import InboxStatus
from operations.sync import inbox as shopify_inbox
from tests.webhooks.conftest import next_id, order_payload, rows


async def test_a_row_taken_over_while_waiting_in_a_batch_is_not_handled_twice(branchline, fast_inbox, change_settings):
    change_settings(inbox={"lease_seconds": 0.5})
    ids = [next_id() for _ in range(3)]
    calls = []

    async def slow(topic, payload, *, webhook_id=None):
        calls.append(payload["id"])
        if payload["id"] != ids[-1]:
            await asyncio.sleep(0.35)  # the last row waits 0.7 s for its turn: longer than the claim's lease

    for order in ids:
        await branchline.deliver("orders/create", order_payload(order, "2026-11-26T15:00:00+05:00"))
    with shopify_inbox.override_handlers({"orders/create": slow}):

        async def other_worker():
            await asyncio.sleep(0.6)  # the second row is being handled (renewed), the last one is due again
            return await shopify_inbox.process_inbox()

        claimed, taken_over = await asyncio.gather(shopify_inbox.process_inbox(), other_worker())
    assert (claimed, taken_over) == (3, 1)
    assert sorted(calls) == sorted(ids)  # each handled once
    assert [r.status for r in await rows()] == [InboxStatus.DONE] * 3
