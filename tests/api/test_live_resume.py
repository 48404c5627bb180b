"""The stockChanged cursor: holes in the per-branch sequence are filled from the ledger."""

from resolvers.live import _current_sequences, _Cursor
from tests.factories import deduct, make_branch, make_variants, stock


async def test_jump_in_sequence_is_backfilled_from_the_ledger_in_order(db):
    branch = await make_branch()
    a, b = await make_variants(2)
    await stock(branch.id, a.id, 10)
    start = await _current_sequences([branch.id])
    cursor = _Cursor(start, variants=None)
    lost = [await deduct([(branch.id, a.id, 1)]) for _ in range(3)]  # published, but never arrived
    last = await stock(branch.id, b.id, 2)
    delivered = await cursor.deliver([m.event() for m in last.movements])
    assert [e["sequence"] for e in delivered] == [2, 3, 4, 5]
    assert [e["onHand"] for e in delivered[:3]] == [m.movements[0].on_hand for m in lost]
    # A duplicate (or an event older than the subscription) is dropped.
    assert await cursor.deliver([m.event() for m in last.movements]) == []


async def test_gap_signal_catches_up_to_the_latest_and_filters_variants(db):
    branch = await make_branch()
    a, b = await make_variants(2)
    cursor = _Cursor(await _current_sequences([branch.id]), variants={b.id})
    await stock(branch.id, a.id, 3)
    await stock(branch.id, b.id, 4)
    caught_up = await cursor.after_gap(branch.id)
    assert [(e["sequence"], e["variantId"]) for e in caught_up] == [(2, b.id)]
    assert cursor.last[branch.id] == 2


class _Socket:
    def __init__(self):
        self.closed_with = None

    async def close(self, code: int, reason: str = ""):
        self.closed_with = (code, reason)


async def test_a_subscriber_that_falls_behind_is_closed_with_the_documented_code(db, broadcast_url):
    import asyncio
    from types import SimpleNamespace

    from operations.kernel.access import SYSTEM
    from resolvers.live import stock_changed
    from schema.ids import global_id
    from subscriptions import live
    from subscriptions.bus import SLOW_CONSUMER_CLOSE_CODE, Bus
    from subscriptions.channels import stock_channel
    from tests.security.live_sockets import until_subscribed

    bus = Bus(broadcast_url, queue_size=3)
    await bus.connect()
    live.install(bus)
    try:
        branch = await make_branch()
        [v] = await make_variants()
        socket = _Socket()
        info = SimpleNamespace(context=SimpleNamespace(response=socket, actor=SYSTEM))
        stream = stock_changed(info, [str(global_id("Branch", branch.id))])
        first = asyncio.create_task(anext(stream))
        await until_subscribed(bus, stock_channel(branch.id))
        for _ in range(10):  # the client stops reading after the first change
            await stock(branch.id, v.id, 1)
        assert (await asyncio.wait_for(first, 5)).sequence == 1
        await asyncio.sleep(0.3)
        leftover = []
        async for change in stream:
            leftover.append(change)
        assert socket.closed_with[0] == SLOW_CONSUMER_CLOSE_CODE == 4801
        assert "stockMovements" in socket.closed_with[1]
    finally:
        live.install(None)
        await bus.disconnect()
