"""A Branchline connected to the simulated Shopify and imported from it, for the inventory push tests."""

import pytest

from models.branches import Branch
from models.catalog import Variant
from models.stock import StockLevel
from operations.kernel.access import SYSTEM
from operations.stock.adjustments import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from operations.sync import push as shopify_push
from tests.conftest import settings_changed
from tests.factories import key
from tests.shopify.conftest import sim, sim_shop  # noqa: F401  (fixtures)


@pytest.fixture
async def connected(db, bus, sim):  # noqa: F811
    """Connected and imported: every simulated location is a branch, every variant is mapped."""
    # A short client timeout, so a test can make Shopify answer too late without waiting long.
    with settings_changed(
        shopify={"public_url": "http://127.0.0.1:9", "base_url": sim.url, "timeout": 1.0},
        push={"lease_seconds": 30.0, "max_attempts": 10, "backoff_base": 0.01, "backoff_cap": 0.05},
    ):
        await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
        job, _ = await shopify_import.start_import(SYSTEM)
        job = await shopify_import.run_job(job.id)
        assert job.status.value == "completed", job.error
        try:
            yield sim
        finally:
            await shopify_push.close_clients()


async def adjust(branch_id: int, variant_id: int, quantity: int, reason=AdjustmentReason.CORRECTION):
    return await adjust_stock(
        Adjustment(branch_id, reason, [AdjustmentLine(variant_id, quantity)], idempotency_key=key("t"))
    )


async def mapped_levels() -> list[tuple[Branch, Variant, StockLevel]]:
    """Every level at a branch on Shopify of a variant on Shopify."""
    branches = {b.id: b for b in await Branch.filter(shopify_location_id__isnull=False)}
    variants = {v.id: v for v in await Variant.filter(shopify_inventory_item_id__isnull=False)}
    return [
        (branches[lv.branch_id], variants[lv.variant_id], lv)
        for lv in await StockLevel.all().order_by("id")
        if lv.branch_id in branches and lv.variant_id in variants
    ]


def shopify_quantities(shop, variant: Variant, branch: Branch) -> dict[str, int]:
    try:
        return shop.quantities(variant.shopify_inventory_item_id, branch.shopify_location_id)
    except KeyError:
        return {"available": 0, "damaged": 0, "on_hand": 0}


async def assert_shopify_agrees(shop) -> None:
    """Shopify's available equals Branchline's on hand (no online orders here) and damaged equals damaged."""
    differences = []
    for branch, variant, level in await mapped_levels():
        q = shopify_quantities(shop, variant, branch)
        if (q["available"], q["damaged"]) != (level.on_hand, level.damaged):
            differences.append((branch.code, variant.sku, q, level.on_hand, level.damaged))
    assert not differences, differences


def answered_calls(shop, since: int = 0) -> list[dict]:
    """Calls Shopify answered (200) after the first `since` calls. Our client sends no operationName,
    so tests count calls around the push rather than by name."""
    return [c for c in shop.calls[since:] if c["status"] == 200]
