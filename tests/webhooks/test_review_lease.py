"""A claim takes several rows under one lease and handles them one by one: each row's lease is renewed
right before it is handled, and a row whose lease ran out while it waited its turn (another worker took it
over meanwhile) is not handled a second time."""

import asyncio

from models.inbox import InboxStatus
from operations.sync import inbox as shopify_inbox
from tests.webhooks.conftest import lease_ran_out, next_id, order_payload, rows


async def test_a_row_taken_over_while_waiting_in_a_batch_is_not_handled_twice(branchline, fast_inbox, change_settings):
    # The order of events is made by the handlers, not by how long they take: worker A claims all three
    # rows; while it handles the first, the last one's lease runs out; it renews and handles the second;
    # meanwhile worker B takes over the last one (only: the second was just renewed); then A reaches the
    # last row, finds it taken over and leaves it alone.
    change_settings(inbox={"lease_seconds": 0.3})
    ids = [next_id() for _ in range(3)]
    calls = []
    second_in_hand, taken_over = asyncio.Event(), asyncio.Event()

    async def handler(topic, payload, *, webhook_id=None):
        calls.append(payload["id"])
        if payload["id"] == ids[0]:
            await lease_ran_out(last_webhook_id)
        elif payload["id"] == ids[1]:
            second_in_hand.set()
            await taken_over.wait()

    for order in ids:
        await branchline.deliver("orders/create", order_payload(order, "2026-11-26T15:00:00+05:00"))
    last_webhook_id = (await rows())[-1].webhook_id
    with shopify_inbox.override_handlers({"orders/create": handler}):

        async def other_worker():
            await second_in_hand.wait()
            try:
                return await shopify_inbox.process_inbox()
            finally:
                taken_over.set()

        claimed, taken = await asyncio.gather(shopify_inbox.process_inbox(), other_worker())
    assert (claimed, taken) == (3, 1)
    assert sorted(calls) == sorted(ids)  # each handled once
    assert [r.status for r in await rows()] == [InboxStatus.DONE] * 3
