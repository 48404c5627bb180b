"""Mutations through ShopifyClient: @idempotent keys survive retries, userErrors become ShopifyUserErrors."""

import uuid

import pytest

from shopify.client import payload
from shopify.errors import ShopifyGraphQLError, ShopifyUnavailable, ShopifyUserErrors
from tests.shopify.test_client_support import client_for, counted_sim

__all__ = ["counted_sim"]  # fixture imported for use here

ADJUST = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""


@pytest.fixture
def stocked(sim_shop):
    """One variant stocked with 10 available at one location; returns (item_gid, location_gid, available)."""
    shop = sim_shop
    location = shop.add_location("Saddar")
    product = shop.add_product("Lawn suit", variants=[{"sku": "LAWN-1", "price": 2500}])
    variant = shop.variants[product.variant_ids[0]]
    shop.stock(variant, location, available=10)
    item_gid = f"gid://shopify/InventoryItem/{variant.inventory_item_id}"
    location_gid = f"gid://shopify/Location/{location.id}"

    def available() -> int:
        return shop.quantities(item_gid, location_gid)["available"]

    return item_gid, location_gid, available


def adjust_input(item_gid: str, location_gid: str, delta: int, change_from: int | None) -> dict:
    return {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://branchline/Sale/S-1",
            "changes": [
                {
                    "inventoryItemId": item_gid,
                    "locationId": location_gid,
                    "delta": delta,
                    "changeFromQuantity": change_from,
                }
            ],
        }
    }


async def test_idempotent_retry_after_the_server_applied_it(counted_sim, stocked):
    item, location, available = stocked
    key = str(uuid.uuid4())
    # The simulator applies a delayed mutation before delaying, so the client times out not knowing
    # whether the write happened, and resends with the same key.
    counted_sim.shop.faults.delay_next(1, seconds=1.0)
    async with client_for(counted_sim, timeout=0.3) as shopify:
        data = await shopify.mutate(ADJUST, adjust_input(item, location, -2, 10), idempotency_key=key)
    result = payload(data, "inventoryAdjustQuantities")
    assert result["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == 8
    assert counted_sim.graphql_requests() == 2
    assert available() == 8  # applied exactly once


async def test_keyless_mutation_can_refuse_to_resend_after_a_timeout(counted_sim, stocked):
    item, location, available = stocked
    counted_sim.shop.faults.delay_next(1, seconds=1.0)
    async with client_for(counted_sim, timeout=0.3, api_version="2026-01") as shopify:  # key optional there
        with pytest.raises(ShopifyUnavailable) as info:
            await shopify.mutate(ADJUST, adjust_input(item, location, -2, 10), retry_ambiguous=False)
    assert info.value.maybe_applied
    assert counted_sim.graphql_requests() == 1
    assert available() == 8  # it was applied: resending would have made it 6


async def test_keyless_mutation_is_resent_by_default_and_the_server_refuses_the_repeat(counted_sim, stocked):
    # Why a keyless resend is the default: with changeFromQuantity the repeat fails the compare-and-swap
    # instead of applying twice, and the caller sees the conflict.
    item, location, available = stocked
    counted_sim.shop.faults.delay_next(1, seconds=1.0)
    async with client_for(counted_sim, timeout=0.3, api_version="2026-01") as shopify:
        data = await shopify.mutate(ADJUST, adjust_input(item, location, -2, 10))
    with pytest.raises(ShopifyUserErrors) as info:
        payload(data, "inventoryAdjustQuantities")
    assert info.value.codes == ["CHANGE_FROM_QUANTITY_STALE"]
    assert counted_sim.graphql_requests() == 2
    assert available() == 8


async def test_same_key_twice_is_applied_once(sim, stocked):
    item, location, available = stocked
    key = str(uuid.uuid4())
    variables = adjust_input(item, location, -3, 10)
    async with client_for(sim) as shopify:
        first = payload(await shopify.mutate(ADJUST, variables, idempotency_key=key), "inventoryAdjustQuantities")
        second = payload(await shopify.mutate(ADJUST, variables, idempotency_key=key), "inventoryAdjustQuantities")
    assert first["inventoryAdjustmentGroup"]["id"] == second["inventoryAdjustmentGroup"]["id"]
    assert available() == 7


async def test_idempotent_mutation_is_retried_after_503(counted_sim, stocked):
    item, location, available = stocked
    counted_sim.shop.faults.fail_next(1, status=503)
    async with client_for(counted_sim) as shopify:
        data = await shopify.mutate(ADJUST, adjust_input(item, location, 5, 10), idempotency_key=str(uuid.uuid4()))
    payload(data, "inventoryAdjustQuantities")
    assert counted_sim.graphql_requests() == 2
    assert available() == 15


async def test_different_keys_are_different_operations(sim, stocked):
    item, location, available = stocked
    async with client_for(sim) as shopify:
        for change_from in (10, 9):
            data = await shopify.mutate(
                ADJUST, adjust_input(item, location, -1, change_from), idempotency_key=str(uuid.uuid4())
            )
            payload(data, "inventoryAdjustQuantities")
    assert available() == 8


async def test_missing_key_surfaces_the_servers_error(sim, stocked):
    item, location, available = stocked
    async with client_for(sim) as shopify:
        with pytest.raises((ShopifyGraphQLError, ShopifyUserErrors)) as info:
            payload(await shopify.mutate(ADJUST, adjust_input(item, location, -1, 10)), "inventoryAdjustQuantities")
    assert "idempot" in str(info.value).lower()
    assert available() == 10


async def test_stale_change_from_quantity_is_a_user_error(sim, stocked):
    item, location, available = stocked
    async with client_for(sim) as shopify:
        data = await shopify.mutate(ADJUST, adjust_input(item, location, -1, 4), idempotency_key=str(uuid.uuid4()))
    with pytest.raises(ShopifyUserErrors) as info:
        payload(data, "inventoryAdjustQuantities")
    assert "CHANGE_FROM_QUANTITY_STALE" in info.value.codes
    assert info.value.errors[0].field
    assert available() == 10


async def test_key_reused_with_other_variables_is_rejected(sim, stocked):
    item, location, available = stocked
    key = str(uuid.uuid4())
    async with client_for(sim) as shopify:
        first = await shopify.mutate(ADJUST, adjust_input(item, location, -1, 10), idempotency_key=key)
        payload(first, "inventoryAdjustQuantities")
        data = await shopify.mutate(ADJUST, adjust_input(item, location, -2, 9), idempotency_key=key)
    with pytest.raises(ShopifyUserErrors) as info:
        payload(data, "inventoryAdjustQuantities")
    assert "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" in info.value.codes
    assert available() == 9
