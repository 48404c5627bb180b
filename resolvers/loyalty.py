"""Loyalty points: a manager's adjustment and a branch's earn rate."""

from strawberry.types import Info

from models.customers import Customer as CustomerRow
from operations.directory import adjust_points, set_loyalty_earn_rate
from resolvers.mutations import payload
from schema import ids
from schema.customers import Customer
from schema.loyalty import (
    AdjustLoyaltyPointsInput,
    AdjustLoyaltyPointsPayload,
    LoyaltyEntry,
    SetBranchLoyaltySettingsInput,
    SetBranchLoyaltySettingsPayload,
)
from schema.types import Branch


async def adjust_loyalty_points(info: Info, input: AdjustLoyaltyPointsInput) -> AdjustLoyaltyPointsPayload:
    async def run():
        customer_pk = ids.decode(input.customer_id, "Customer", "customerId")
        branch_pk = None if input.branch_id is None else ids.decode(input.branch_id, "Branch", "branchId")
        entry, _, _ = await adjust_points(
            info.context.actor, customer_pk, input.points, input.reason, input.idempotency_key, branch_pk
        )
        customer = await CustomerRow.get(id=customer_pk)
        return {"entry": LoyaltyEntry.from_model(entry), "customer": Customer.from_model(customer)}

    return await payload(AdjustLoyaltyPointsPayload, run)


async def set_branch_loyalty_settings(
    info: Info, input: SetBranchLoyaltySettingsInput
) -> SetBranchLoyaltySettingsPayload:
    async def run():
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId")
        branch, _ = await set_loyalty_earn_rate(
            info.context.actor, branch_pk, input.points_per_100_pkr, input.idempotency_key
        )
        return {"branch": Branch.from_model(branch)}

    return await payload(SetBranchLoyaltySettingsPayload, run)
