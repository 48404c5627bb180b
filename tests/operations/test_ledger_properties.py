"""Property: for any sequence of adjustments, every level equals the sum of its movements, and
available never goes below zero where negatives are off."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.stock import Bucket, StockLevel
from operations.kernel.transactions import transaction
from operations.stock import ledger
from operations.stock.adjustments import check_ledger
from tests.conftest import truncate_all
from tests.factories import make_branch, make_variants

movement = st.tuples(
    st.integers(0, 1),  # branch index
    st.integers(0, 2),  # variant index
    st.sampled_from(list(Bucket)),
    st.integers(-6, 6).filter(bool),
)
batch = st.lists(movement, min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(batch, min_size=1, max_size=12), negative_ok=st.booleans())
async def test_levels_always_equal_the_sum_of_movements(db, batches, negative_ok):
    await _run(batches, negative_ok)


async def _run(batches, negative_ok):
    await truncate_all()
    branches = [await make_branch(allow_negative_stock=negative_ok) for _ in range(2)]
    variants = await make_variants(3)
    for i, lines in enumerate(batches):
        movements = [ledger.Movement(branches[b].id, variants[v].id, d, bucket) for b, v, bucket, d in lines]
        try:
            async with transaction() as tx:
                await ledger.apply(tx, ledger.Posting(f"p{i}", "correction"), movements)
        except ledger.InsufficientStock:
            pass
        for lvl in await StockLevel.all():
            assert min(lvl.reserved, lvl.in_transit, lvl.damaged) >= 0
            if not negative_ok:
                assert lvl.available >= 0
    assert await check_ledger() == ([], [])
