"""Branches and counters: queries and mutations."""

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import branches as models
from operations.directory import CounterChange, NewBranch, NewCounter, OnlineSettings, set_online_settings
from operations.directory import create_branch as ops_create_branch
from operations.directory import create_counter as ops_create_counter
from operations.directory import deactivate_counter as ops_deactivate_counter
from operations.directory import update_counter as ops_update_counter
from operations.kernel import AccessDenied, OperationError, visible_branches
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.inputs import (
    CreateBranchInput,
    CreateCounterInput,
    DeactivateCounterInput,
    SetBranchOnlineSettingsInput,
    UpdateCounterInput,
)
from schema.pagination import decode_cursor, keyset_page
from schema.payloads import (
    CreateBranchPayload,
    CreateCounterPayload,
    DeactivateCounterPayload,
    SetBranchOnlineSettingsPayload,
    UpdateCounterPayload,
)
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


async def counters(
    info: Info, branch_id: strawberry.ID, first: int, after: str | None = None, active: bool | None = None
) -> relay.Connection[Counter]:
    """A branch's counters, for whoever may see the branch."""
    try:
        branch_pk = ids.decode(branch_id, "Branch", "branchId")
    except OperationError:
        raise BadRequest(f"not a valid Branch ID: {branch_id!r}", field="branchId") from None
    visible = visible_branches(info.context.actor)
    if visible is not None and branch_pk not in visible:
        raise AccessDenied(f"{info.context.actor.label} may not see branch {branch_pk}")
    queryset = models.Counter.filter(branch_id=branch_pk)
    if active is not None:
        queryset = queryset.filter(active=active)
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Counter.from_model
    )


async def update_counter(info: Info, input: UpdateCounterInput) -> UpdateCounterPayload:
    async def run():
        counter_id = ids.decode(input.counter_id, "Counter", "counterId")
        change = CounterChange(code=input.code, name=input.name)
        counter, _ = await ops_update_counter(info.context.actor, counter_id, change, input.idempotency_key)
        return {"counter": Counter.from_model(counter)}

    return await payload(UpdateCounterPayload, run)


async def deactivate_counter(info: Info, input: DeactivateCounterInput) -> DeactivateCounterPayload:
    async def run():
        counter_id = ids.decode(input.counter_id, "Counter", "counterId")
        counter, _ = await ops_deactivate_counter(info.context.actor, counter_id, input.idempotency_key)
        return {"counter": Counter.from_model(counter)}

    return await payload(DeactivateCounterPayload, run)
