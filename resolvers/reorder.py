"""Low-stock alerts (a filter over the gap-free `stockChanged` stream) and reorder suggestions."""

import time
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from models.stock import Bucket
from operations.kernel import fetch, transaction
from operations.stock import reorder_crossing
from operations.stock import reorder_suggestions as ops_reorder_suggestions
from resolvers import live
from schema import ids
from schema.errors import BadRequest
from schema.live import StockChange
from schema.reorder import LowStockAlert, LowStockCrossing, ReorderSuggestion, TransferSuggestion

# Reorder settings change rarely; a subscriber re-reads them at most this often.
SETTINGS_TTL = 30.0


class _ReorderSettings:
    """(branch, variant) -> (reorder point, reorder quantity), read on first need and kept a while."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], tuple[float, tuple[int, int]]] = {}

    async def get(self, branch_id: int, variant_id: int) -> tuple[int, int]:
        hit = self.cache.get((branch_id, variant_id))
        if hit is not None and time.monotonic() - hit[0] < SETTINGS_TTL:
            return hit[1]
        async with transaction() as tx:
            rows = await fetch(
                tx.conn,
                "SELECT reorder_point, reorder_quantity FROM stock_level WHERE branch_id = ? AND variant_id = ?",
                [branch_id, variant_id],
            )
        value = (rows[0]["reorder_point"], rows[0]["reorder_quantity"]) if rows else (0, 0)
        self.cache[(branch_id, variant_id)] = (time.monotonic(), value)
        return value


def _available_before(change: StockChange) -> int | None:
    bucket = change.bucket.value if hasattr(change.bucket, "value") else change.bucket
    if bucket == Bucket.ON_HAND.value:
        return change.available - change.delta
    if bucket == Bucket.RESERVED.value:
        return change.available + change.delta
    return None  # in transit and damaged do not change what can be sold


async def low_stock(
    info: Info, branch_ids: list[str], variant_ids: list[str] | None = None
) -> AsyncGenerator[LowStockAlert, None]:
    settings = _ReorderSettings()
    async for change in live.stock_changed(info, branch_ids, variant_ids):
        before = _available_before(change)
        if before is None:
            continue
        branch, variant = int(change.branch_id.node_id), int(change.variant_id.node_id)
        point, quantity = await settings.get(branch, variant)
        crossed = reorder_crossing(before, change.available, point)
        if crossed is None:
            continue
        yield LowStockAlert(
            crossing=LowStockCrossing(crossed.value),
            branch_pk=branch,
            variant_pk=variant,
            sku=change.sku,
            available=change.available,
            reorder_point=point,
            reorder_quantity=quantity,
            sequence=change.sequence,
            occurred_at=change.occurred_at,
        )


async def reorder_suggestions(info: Info, branch_id: strawberry.ID) -> list[ReorderSuggestion]:
    try:
        branch = ids.decode(branch_id, "Branch", "branchId")
    except Exception:
        raise BadRequest(f"not a valid Branch ID: {branch_id!r}", field="branchId") from None
    return [
        ReorderSuggestion(
            variant_pk=s.variant_id,
            sku=s.sku,
            available=s.available,
            reorder_point=s.reorder_point,
            reorder_quantity=s.reorder_quantity,
            need=s.need,
            transfers=[TransferSuggestion(quantity=q, from_branch_pk=b) for b, q in s.transfers],
            purchase=s.purchase,
        )
        for s in await ops_reorder_suggestions(info.context.actor, branch)
    ]
