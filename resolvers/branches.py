"""Branches and counters: queries and mutations."""

from strawberry import relay
from strawberry.types import Info

from models import branches as models
from operations import branches as ops
from resolvers.mutations import payload
from schema import ids
from schema.inputs import CreateBranchInput, CreateCounterInput
from schema.pagination import decode_cursor, keyset_page
from schema.payloads import CreateBranchPayload, CreateCounterPayload
from schema.types import Branch, Counter


async def branches(info: Info, first: int, after: str | None = None) -> relay.Connection[Branch]:
    return await keyset_page(
        models.Branch.all(), first=first, after_key=decode_cursor(after), key="id", to_node=Branch.from_model
    )


async def create_branch(info: Info, input: CreateBranchInput) -> CreateBranchPayload:
    async def run():
        new = ops.NewBranch(input.code, input.name, input.timezone, input.allow_negative_stock)
        branch, _ = await ops.create_branch(new, input.idempotency_key)
        return {"branch": Branch.from_model(branch)}

    return await payload(CreateBranchPayload, run)


async def create_counter(info: Info, input: CreateCounterInput) -> CreateCounterPayload:
    async def run():
        branch_id = ids.decode(input.branch_id, "Branch", "branchId")
        counter, _ = await ops.create_counter(ops.NewCounter(branch_id, input.code, input.name), input.idempotency_key)
        return {"counter": Counter.from_model(counter)}

    return await payload(CreateCounterPayload, run)
