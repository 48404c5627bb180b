"""A transfer end to end against the simulated Shopify: after the outbox drains, Shopify agrees
with Branchline at both branches' locations (available = on hand, damaged = damaged)."""

import pytest

from models.branches import Branch
from models.catalog import Variant
from models.stock import StockLevel
from models.transfers import DiscrepancyKind, TransferDiscrepancy
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from operations.stock.adjustments import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from operations.sync import push as shopify_push
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from tests.conftest import settings_changed
from tests.factories import key


@pytest.fixture
async def imported(db, bus, sim):
    """Branchline connected to the simulator and imported from it: its locations are branches."""
    with settings_changed(
        shopify={"public_url": "http://127.0.0.1:9", "base_url": sim.url, "timeout": 5.0},
        push={"backoff_base": 0.01, "backoff_cap": 0.05},
    ):
        await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
        job, _ = await shopify_import.start_import(SYSTEM)
        job = await shopify_import.run_job(job.id)
        assert job.status.value == "completed", job.error
        try:
            yield sim
        finally:
            await shopify_push.close_clients()


async def branchline(branch: Branch, variant: Variant) -> tuple[int, int]:
    level = await StockLevel.get_or_none(branch_id=branch.id, variant_id=variant.id)
    return (level.on_hand, level.damaged) if level else (0, 0)


def shopify(shop, branch: Branch, variant: Variant) -> tuple[int, int]:
    try:
        q = shop.quantities(variant.shopify_inventory_item_id, branch.shopify_location_id)
    except KeyError:  # not stocked there yet
        return (0, 0)
    return (q["available"], q["damaged"])


async def assert_agree(shop, branches: list[Branch], variant: Variant) -> None:
    for branch in branches:
        assert shopify(shop, branch, variant) == await branchline(branch, variant), branch.code


async def test_shopify_agrees_at_both_locations_after_a_transfer_with_discrepancies(imported):
    source, destination = await Branch.filter(shopify_location_id__isnull=False).order_by("id").limit(2)
    variant = await Variant.filter(shopify_inventory_item_id__isnull=False).order_by("id").first()
    # Make sure the source has 10 to send, whatever the seeded shop held.
    await adjust_stock(
        Adjustment(source.id, AdjustmentReason.FOUND, [AdjustmentLine(variant.id, 12)], idempotency_key=key("top-up"))
    )
    await shopify_push.drain_outbox(10)
    await assert_agree(imported.shop, [source, destination], variant)
    src_before, dst_before = await branchline(source, variant), await branchline(destination, variant)

    new = transfers.NewTransfer(
        source.id, destination.id, [transfers.RequestLine(VariantRef(id=variant.id), 10)], key("create"), submit=True
    )
    t, _ = await transfers.create_transfer(SYSTEM, new)
    await transfers.approve_transfer(SYSTEM, t.id, key("approve"))
    await moves.dispatch_transfer(SYSTEM, t.id, key("dispatch"))
    await shopify_push.drain_outbox(10)
    # In transit: gone from the source on both sides, not yet anywhere else.
    await assert_agree(imported.shop, [source, destination], variant)

    line = moves.LineRef(variant_id=variant.id)
    receipt = moves.Receipt(t.id, [moves.ReceiveLine(line, 8, 1, 1, "carton crushed, one short")], key("receive"))
    await moves.receive_transfer(SYSTEM, receipt)
    missing = await TransferDiscrepancy.get(transfer_id=t.id, kind=DiscrepancyKind.MISSING)
    await moves.return_discrepancy_to_stock(SYSTEM, missing.id, key("found"))
    await shopify_push.drain_outbox(10)

    assert await branchline(source, variant) == (src_before[0] - 10, src_before[1])
    assert await branchline(destination, variant) == (dst_before[0] + 9, dst_before[1] + 1)
    await assert_agree(imported.shop, [source, destination], variant)
