"""The stockChanged cursor: holes in the per-branch sequence are filled from the ledger. (A subscriber that
falls behind its bus queue is closed with 4801: tests/security/test_ws_bus_overflow.py, over a real socket.)"""

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
