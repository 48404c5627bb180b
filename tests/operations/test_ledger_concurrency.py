"""Concurrent callers of the ledger: no oversell, no deadlock, no half-applied batch, no double apply.

On PostgreSQL the callers really race on separate pooled connections; on SQLite they interleave
on the single connection between statements and transactions.
"""

import asyncio
import random

from models.stock import StockLevel, StockMovement
from operations.kernel.errors import OperationError
from operations.stock import ledger
from operations.stock.adjustments import check_ledger
from tests.factories import deduct, make_branch, make_variants, stock


async def test_fifty_sellers_of_one_unit_against_ten_in_stock(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)

    results = await asyncio.gather(
        *(deduct([(branch.id, v.id, 1)], key=f"seller:{i}") for i in range(50)), return_exceptions=True
    )

    sold = [r for r in results if isinstance(r, ledger.PostingResult)]
    refused = [r for r in results if isinstance(r, ledger.InsufficientStock)]
    assert (len(sold), len(refused)) == (10, 40), [r for r in results if isinstance(r, Exception)][:3]
    lvl = await StockLevel.get(branch_id=branch.id, variant_id=v.id)
    assert lvl.on_hand == 0
    assert await StockMovement.filter(branch_id=branch.id, delta=-1).count() == 10
    # Each successful seller saw a distinct resulting level: 9, 8, ..., 0.
    assert sorted(r.movements[0].on_hand for r in sold) == list(range(10))
    assert await check_ledger() == ([], [])


async def test_mixed_multi_line_batches_never_deadlock_or_half_apply(db):
    branch_a = await make_branch()
    branch_b = await make_branch()
    variants = await make_variants(6)
    for b in (branch_a, branch_b):
        for v in variants:
            await stock(b.id, v.id, 8)
    rng = random.Random(7)
    batches = []
    for _ in range(60):
        lines = rng.sample([(b.id, v.id) for b in (branch_a, branch_b) for v in variants], k=rng.randint(1, 4))
        rng.shuffle(lines)  # callers list lines in any order; the ledger locks in a fixed order
        batches.append([(b, v, rng.randint(1, 3)) for b, v in lines])

    results = await asyncio.wait_for(
        asyncio.gather(*(deduct(lines, key=f"batch:{i}") for i, lines in enumerate(batches)), return_exceptions=True),
        timeout=60,
    )

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, ledger.InsufficientStock)]
    assert not unexpected, unexpected[:3]
    taken: dict[tuple[int, int], int] = {}
    for lines, result in zip(batches, results, strict=True):
        if isinstance(result, ledger.PostingResult):
            assert len(result.movements) == len(lines)  # whole batch or nothing
            for b, v, q in lines:
                taken[(b, v)] = taken.get((b, v), 0) + q
    for lvl in await StockLevel.all():
        assert lvl.on_hand == 8 - taken.get((lvl.branch_id, lvl.variant_id), 0)
        assert lvl.on_hand >= 0
    assert await check_ledger() == ([], [])


async def test_same_key_sent_concurrently_applies_once_and_all_get_the_same_result(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)

    results = await asyncio.gather(*(deduct([(branch.id, v.id, 3)], key="retry-storm") for _ in range(20)))

    assert sum(not r.replayed for r in results) == 1
    assert len({tuple(r.movements) for r in results}) == 1
    assert (await StockLevel.get(branch_id=branch.id, variant_id=v.id)).on_hand == 7
    assert await StockMovement.filter(branch_id=branch.id, delta=-3).count() == 1


async def test_sequences_follow_commit_order_under_concurrency(db):
    branch = await make_branch()
    variants = await make_variants(5)
    for v in variants:
        await stock(branch.id, v.id, 1000)

    async def seller(i: int):
        v = variants[i % len(variants)]
        return await deduct([(branch.id, v.id, 1)], key=f"seq:{i}")

    await asyncio.gather(*(seller(i) for i in range(100)))
    sequences = await StockMovement.filter(branch_id=branch.id).order_by("sequence").values_list("sequence", flat=True)
    assert list(sequences) == list(range(1, 106))
    assert await check_ledger() == ([], [])


async def test_a_failed_batch_leaves_no_sequence_hole(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 1)
    outcomes = await asyncio.gather(*(deduct([(branch.id, v.id, 1)]) for _ in range(5)), return_exceptions=True)
    assert sum(isinstance(o, OperationError) for o in outcomes) == 4
    await stock(branch.id, v.id, 1)
    sequences = await StockMovement.filter(branch_id=branch.id).order_by("sequence").values_list("sequence", flat=True)
    assert list(sequences) == [1, 2, 3]


async def test_callers_cancelled_at_any_point_never_wedge_the_database_or_half_post(db):
    """A request cancelled mid-transaction (client gone, worker stopping, timeout) must roll back whole and
    leave the connection usable. Tortoise alone leaks its lock when the cancel lands while BEGIN runs: SQLite
    then waits for ever, PostgreSQL loses a pooled connection each time (found by this test)."""
    branch = await make_branch()
    variants = await make_variants(3)
    for v in variants:
        await stock(branch.id, v.id, 1000)
    rng = random.Random(7)
    for i in range(120):
        lines = [(branch.id, v.id, 1) for v in variants]
        task = asyncio.create_task(deduct(lines, key=f"cancelled:{i}"))
        for _ in range(rng.randint(0, 30)):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # The next caller gets through at once (a wedged connection would hang here).
        await asyncio.wait_for(deduct(lines, key=f"after:{i}"), timeout=10)
    for v in variants:  # every posting applied whole or not at all
        level = await StockLevel.get(branch_id=branch.id, variant_id=v.id)
        moved = await StockMovement.filter(branch_id=branch.id, variant_id=v.id).count()
        assert level.on_hand == 1000 - (moved - 1)
    counts = {await StockMovement.filter(branch_id=branch.id, variant_id=v.id).count() for v in variants}
    assert len(counts) == 1, counts
    assert await check_ledger() == ([], [])
