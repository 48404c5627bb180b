"""Exchange fixtures: those of fulfillment (a Branchline connected to the simulated Shopify over real HTTP,
orders placed in the simulator and taken in by webhook) plus a second variant at the same branch."""

from models.branches import Branch
from models.catalog import Variant
from models.stock import StockLevel
from tests.fulfillment.conftest import (  # noqa: F401  (fixtures and helpers)
    assert_agree,
    confirm_cod,
    connected,
    deliver,
    key,
    level_of,
    settle,
    shop,
    sim,
    sim_shop,
    stocked,
    take_order,
    use_workflow,
    webhook_receiver,
)


async def another_variant(branch: Branch, variant: Variant, min_units: int = 1) -> tuple[Variant, StockLevel]:
    """A second variant on Shopify, stocked at the same branch with at least `min_units` free."""
    for level in await StockLevel.filter(branch_id=branch.id).exclude(variant_id=variant.id).order_by("id"):
        other = await Variant.get(id=level.variant_id)
        if level.on_hand - level.reserved >= min_units and other.shopify_variant_id:
            return other, level
    raise AssertionError("no second stocked variant at the branch")


async def leave_free(handle, branch: Branch, variant: Variant, units: int) -> StockLevel:
    """A correction at the counter leaves exactly `units` free of `variant` at the branch (pushed to Shopify)."""
    from operations.kernel.transactions import transaction
    from operations.stock import ledger

    level = await level_of(branch.id, variant.id)
    change = units - (level.on_hand - level.reserved)
    if change:
        async with transaction() as tx:
            posting = ledger.Posting(key("adj"), "correction")
            await ledger.apply(tx, posting, [ledger.Movement(branch.id, variant.id, change)])
        await settle(handle)
    return await level_of(branch.id, variant.id)


def sim_order(handle, order):
    return handle.shop.orders[numeric(order.shopify_order_id)]


def sim_lines(handle, order) -> dict[int, int]:
    """Shopify's current quantity per Shopify variant id (numeric) on the order."""
    out: dict[int, int] = {}
    for li in sim_order(handle, order).line_items:
        out[li.variant_id] = out.get(li.variant_id, 0) + li.current_quantity
    return out


def numeric(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])
