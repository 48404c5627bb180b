"""Stock counts over GraphQL: decode IDs and natural keys, check access first, call operations/."""

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import counts as models
from models.branches import Branch
from operations.counts import CountedLine, CountMode, NewCount, load_count, record_counted, visible_count
from operations.counts import abandon_stock_count as ops_abandon_stock_count
from operations.counts import approve_stock_count as ops_approve_stock_count
from operations.counts import open_stock_count as ops_open_stock_count
from operations.counts import submit_stock_count as ops_submit_stock_count
from operations.directory import resolve_variant_refs
from operations.kernel import ErrorCode, OperationError, Permission, require
from resolvers.mutations import payload
from schema import ids
from schema.counts import (
    AbandonStockCountInput,
    AbandonStockCountPayload,
    ApproveStockCountInput,
    ApproveStockCountPayload,
    CountStatus,
    OpenStockCountInput,
    OpenStockCountPayload,
    RecordCountedQuantitiesInput,
    RecordCountedQuantitiesPayload,
    StockCount,
    SubmitStockCountInput,
    SubmitStockCountPayload,
)
from schema.errors import BadRequest
from schema.pagination import decode_cursor, keyset_page


def _count_pk(count_id: str) -> int:
    return ids.decode(count_id, "StockCount", "countId")


def _done(count: models.StockCount) -> dict:
    return {"stock_count": StockCount.from_model(count)}


async def open_stock_count(info: Info, input: OpenStockCountInput) -> OpenStockCountPayload:
    async def run():
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId")
        # Access first, so a caller without rights learns nothing from validation errors.
        require(info.context.actor, Permission.ADJUST_STOCK, branch_pk)
        variant_pks = [ids.decode(v, "Variant", f"variantIds.{i}") for i, v in enumerate(input.variant_ids or [])]
        count, _ = await ops_open_stock_count(
            info.context.actor,
            NewCount(
                branch_id=branch_pk,
                kind=models.CountKind(input.kind.value),
                idempotency_key=input.idempotency_key,
                variant_ids=variant_pks,
                product_type=input.product_type,
                blind=input.blind,
                note=input.note,
            ),
        )
        return _done(count)

    return await payload(OpenStockCountPayload, run)


async def record_counted_quantities(info: Info, input: RecordCountedQuantitiesInput) -> RecordCountedQuantitiesPayload:
    async def run():
        count = await load_count(_count_pk(input.count_id))
        require(info.context.actor, Permission.ADJUST_STOCK, count.branch_id)
        refs = [line.variant.ref(f"lines.{i}.variant") for i, line in enumerate(input.lines)]
        variant_pks = await resolve_variant_refs(refs)
        lines = [
            CountedLine(pk, line.counted, CountMode(line.mode.value))
            for pk, line in zip(variant_pks, input.lines, strict=True)
        ]
        count, _ = await record_counted(info.context.actor, count.id, lines, input.idempotency_key)
        return _done(count)

    return await payload(RecordCountedQuantitiesPayload, run)


async def submit_stock_count(info: Info, input: SubmitStockCountInput) -> SubmitStockCountPayload:
    async def run():
        count, _ = await ops_submit_stock_count(
            info.context.actor, _count_pk(input.count_id), input.zero_uncounted, input.idempotency_key
        )
        return _done(count)

    return await payload(SubmitStockCountPayload, run)


async def approve_stock_count(info: Info, input: ApproveStockCountInput) -> ApproveStockCountPayload:
    async def run():
        pk = _count_pk(input.count_id)
        count, _ = await ops_approve_stock_count(info.context.actor, pk, input.idempotency_key)
        return _done(count)

    return await payload(ApproveStockCountPayload, run)


async def abandon_stock_count(info: Info, input: AbandonStockCountInput) -> AbandonStockCountPayload:
    async def run():
        pk = _count_pk(input.count_id)
        count, _ = await ops_abandon_stock_count(info.context.actor, pk, input.idempotency_key)
        return _done(count)

    return await payload(AbandonStockCountPayload, run)


def _query_pk(value: str, type_name: str, field: str) -> int:
    try:
        return ids.decode(value, type_name, field)
    except OperationError as error:
        raise BadRequest(str(error), field=field) from None


async def stock_count(info: Info, id: strawberry.ID) -> StockCount | None:
    """Null when there is no such count; a count at a branch outside the caller's scope is refused."""
    try:
        count = await visible_count(info.context.actor, _query_pk(id, "StockCount", "id"))
    except OperationError as error:
        if error.problems[0].code is ErrorCode.NOT_FOUND:
            return None
        raise
    return StockCount.from_model(count)


async def stock_counts(
    info: Info,
    branch_id: strawberry.ID,
    first: int,
    after: str | None = None,
    status: CountStatus | None = None,  # type: ignore[valid-type]
) -> relay.Connection[StockCount]:
    """A branch's counts, oldest first (keyset on id)."""
    branch_pk = _query_pk(branch_id, "Branch", "branchId")
    require(info.context.actor, Permission.VIEW_STOCK, branch_pk)
    if not await Branch.exists(id=branch_pk):
        raise BadRequest(f"branch {branch_id} does not exist", code="NOT_FOUND", field="branchId")
    queryset = models.StockCount.filter(branch_id=branch_pk)
    if status is not None:
        queryset = queryset.filter(status=models.CountStatus(status.value))
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=StockCount.from_model
    )
