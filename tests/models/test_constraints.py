"""The database itself refuses impossible rows, on SQLite and PostgreSQL alike (migration 0002)."""

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from tests.factories import make_branch, make_variants, stock

IMPOSSIBLE = [
    "UPDATE stock_level SET reserved = -1",
    "UPDATE stock_level SET in_transit = -1",
    "UPDATE stock_level SET damaged = -1",
    "UPDATE stock_movement SET delta = 0",
    "UPDATE stock_movement SET sequence = 0",
    "UPDATE variant SET price = -5",
    "UPDATE variant SET tax_rate = 150",
    # Unique: a second level row for the same (branch, variant), a reused sequence, a reused key.
    "INSERT INTO stock_level (branch_id, variant_id, on_hand, reserved, in_transit, damaged, reorder_point, version,"
    " updated_at) SELECT branch_id, variant_id, 0, 0, 0, 0, 0, 0, updated_at FROM stock_level",
    "INSERT INTO stock_movement (posting_id, branch_id, variant_id, sequence, bucket, delta, reason, shopify_effect,"
    " on_hand_after, reserved_after, in_transit_after, damaged_after, occurred_at) SELECT posting_id, branch_id,"
    " variant_id, sequence, bucket, delta, reason, shopify_effect, on_hand_after, reserved_after, in_transit_after,"
    " damaged_after, occurred_at FROM stock_movement",
    "INSERT INTO stock_posting (idempotency_key, request_hash, reason, actor, occurred_at, created_at)"
    " SELECT idempotency_key, request_hash, reason, actor, occurred_at, created_at FROM stock_posting",
]


@pytest.mark.parametrize("sql", IMPOSSIBLE)
async def test_constraint_refuses(db, sql):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 3)
    with pytest.raises(IntegrityError):
        await Tortoise.get_connection("default").execute_script(sql)
