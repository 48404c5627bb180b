"""Branches and counters: queries and mutations."""

from strawberry import relay
from strawberry.types import Info

from models import branches as models
from operations.directory import NewBranch, NewCounter, OnlineSettings, set_online_settings
from operations.directory import create_branch as ops_create_branch
from operations.directory import create_counter as ops_create_counter
from operations.kernel import visible_branches
from resolvers.mutations import payload
from schema import ids
from schema.inputs import CreateBranchInput, CreateCounterInput, SetBranchOnlineSettingsInput
from schema.pagination import decode_cursor, keyset_page
from schema.payloads import CreateBranchPayload, CreateCounterPayload, SetBranchOnlineSettingsPayload
from schema.types import Branch, Counter


async def branches(info: Info, first: int, after: str | None = None) -> relay.Connection[Branch]:
    """The branches the caller works at (all of them for owners and admins)."""
    visible = visible_branches(info.context.actor)
    queryset = models.Branch.all() if visible is None else models.Branch.filter(id__in=visible)
    return await keyset_page(queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Branch.from_model)


async def create_branch(info: Info, input: CreateBranchInput) -> CreateBranchPayload:
    async def run():
        new = NewBranch(input.code, input.name, input.timezone, input.allow_negative_stock)
        branch, _ = await ops_create_branch(info.context.actor, new, input.idempotency_key)
        return {"branch": Branch.from_model(branch)}

    return await payload(CreateBranchPayload, run)


async def create_counter(info: Info, input: CreateCounterInput) -> CreateCounterPayload:
    async def run():
        branch_id = ids.decode(input.branch_id, "Branch", "branchId")
        new = NewCounter(branch_id, input.code, input.name)
        counter, _ = await ops_create_counter(info.context.actor, new, input.idempotency_key)
        return {"counter": Counter.from_model(counter)}

    return await payload(CreateCounterPayload, run)


async def set_branch_online_settings(info: Info, input: SetBranchOnlineSettingsInput) -> SetBranchOnlineSettingsPayload:
    async def run():
        branch_id = ids.decode(input.branch_id, "Branch", "branchId")
        workflow = input.fulfillment_workflow.value if input.fulfillment_workflow is not None else None
        settings = OnlineSettings(workflow, input.routing_priority, input.online_safety_stock)
        branch, _ = await set_online_settings(info.context.actor, branch_id, settings, input.idempotency_key)
        return {"branch": Branch.from_model(branch)}

    return await payload(SetBranchOnlineSettingsPayload, run)
