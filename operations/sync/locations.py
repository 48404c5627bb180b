"""Which branch each Shopify location is: set by the import or by the owner (mapLocation)."""

from models.branches import Branch
from models.shopify import ShopifyLocation
from operations.kernel import Actor, ErrorCode, OperationError, Permission, record_audit, require, run_once, transaction


async def map_location(
    actor: Actor,
    shopify_location_id: str,
    branch_id: int | None,
    ignore: bool = False,
    idempotency_key: str | None = None,
) -> ShopifyLocation:
    """Point a location at a branch (or mark it ignored). A repeat under the same key returns the location and
    maps nothing again."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    if (branch_id is None) == (not ignore):
        raise OperationError.single(ErrorCode.INVALID, "give either branchId or ignore: true", "branchId")
    request = {"location": shopify_location_id, "branch": branch_id, "ignore": ignore}

    async def load(pk: int) -> ShopifyLocation:
        return await ShopifyLocation.get(id=pk)

    async with transaction() as tx:
        location, _ = await run_once(
            tx,
            "mapLocation",
            idempotency_key,
            request,
            lambda: _map(actor, shopify_location_id, branch_id, ignore),
            load,
        )
    return location


async def _map(actor: Actor, shopify_location_id: str, branch_id: int | None, ignore: bool) -> ShopifyLocation:
    location = await ShopifyLocation.get_or_none(shopify_location_id=shopify_location_id)
    if location is None:
        raise OperationError.single(
            ErrorCode.NOT_FOUND,
            f"no Shopify location {shopify_location_id!r} is known yet: run an import first",
            "shopifyLocationId",
        )
    # A location is one branch: whichever branch held it lets go.
    await Branch.filter(shopify_location_id=shopify_location_id).update(shopify_location_id=None)
    if ignore:
        location.ignored = True
        await location.save(update_fields=["ignored", "updated_at"])
        await record_audit(actor, "shopify.location_ignored", target=("shopify_location", shopify_location_id))
        return location
    branch = await Branch.get_or_none(id=branch_id)
    if branch is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")
    if branch.shopify_location_id not in (None, shopify_location_id):
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"branch {branch.code} is already Shopify location {branch.shopify_location_id}; unmap it first",
            "branchId",
        )
    branch.shopify_location_id = shopify_location_id
    await branch.save(update_fields=["shopify_location_id"])
    location.ignored = False
    await location.save(update_fields=["ignored", "updated_at"])
    await record_audit(
        actor, "shopify.location_mapped", branch_id=branch.id, target=("shopify_location", shopify_location_id)
    )
    return location


async def shopify_locations() -> list[ShopifyLocation]:
    """Every Shopify location the imports have seen (each one's branch: Branch.shopify_location_id)."""
    return await ShopifyLocation.all().order_by("id")
