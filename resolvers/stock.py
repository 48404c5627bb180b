"""Stock levels, the movement ledger, and stock adjustments."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import F

from models import branches as branch_models
from models import stock as models
from operations.directory import resolve_variant_refs
from operations.kernel import ErrorCode, OperationError, Permission, require
from operations.stock import Adjustment, AdjustmentLine, AdjustmentReason, ReorderLevel, set_reorder_levels
from operations.stock import adjust_stock as ops_adjust_stock
from resolvers.days import within_days
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.inputs import AdjustStockInput, SetReorderPointsInput
from schema.pagination import decode_cursor, keyset_page
from schema.payloads import AdjustStockPayload, SetReorderPointsPayload
from schema.types import StockLevel, StockMovement

MAX_FILTER_IDS = 100


def _decode_query_id(value: str, type_name: str, field: str) -> int:
    try:
        return ids.decode(value, type_name, field)
    except OperationError as error:
        raise BadRequest(str(error), field=field) from None


def _decode_variant_filter(variant_ids: list[str] | None) -> list[int] | None:
    if variant_ids is None:
        return None
    if len(variant_ids) > MAX_FILTER_IDS:
        raise BadRequest(f"at most {MAX_FILTER_IDS} variantIds", field="variantIds")
    return [_decode_query_id(v, "Variant", "variantIds") for v in variant_ids]


async def _branch_pk(info: Info, branch_id: str) -> int:
    """A branch the caller may see stock at; an unknown one and a forbidden one look alike."""
    pk = _decode_query_id(branch_id, "Branch", "branchId")
    require(info.context.actor, Permission.VIEW_STOCK, pk)
    if not await branch_models.Branch.exists(id=pk):
        raise BadRequest(f"branch {branch_id} does not exist", code="NOT_FOUND", field="branchId")
    return pk


async def stock_levels(
    info: Info,
    branch_id: strawberry.ID,
    first: int,
    after: str | None = None,
    variant_ids: list[strawberry.ID] | None = None,
    low_stock: bool = False,
) -> relay.Connection[StockLevel]:
    """`lowStock`: available at or below the reorder point (out of stock included)."""
    queryset = models.StockLevel.filter(branch_id=await _branch_pk(info, branch_id))
    variant_pks = _decode_variant_filter(variant_ids)
    if variant_pks is not None:
        queryset = queryset.filter(variant_id__in=variant_pks)
    if low_stock:
        queryset = queryset.annotate(available_now=F("on_hand") - F("reserved")).filter(
            available_now__lte=F("reorder_point")
        )
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=StockLevel.from_model
    )


async def stock_movements(
    info: Info,
    branch_id: strawberry.ID,
    first: int,
    after: str | None = None,
    variant_ids: list[strawberry.ID] | None = None,
    reasons: Annotated[
        list[str] | None, strawberry.argument(description="Only movements written for these reasons (e.g. sale).")
    ] = None,
    reference_type: Annotated[
        str | None, strawberry.argument(description="Only movements of this kind of document (sale, transfer…).")
    ] = None,
    reference_id: Annotated[str | None, strawberry.argument(description="With referenceType: one document.")] = None,
    actor: Annotated[
        str | None, strawberry.argument(description='Who moved the stock, as `actor` shows it ("staff:12 (…)").')
    ] = None,
    from_: Annotated[
        date | None, strawberry.argument(name="from", description="From this day on, in the branch's calendar.")
    ] = None,
    to: Annotated[date | None, strawberry.argument(description="Up to this day, included.")] = None,
) -> relay.Connection[StockMovement]:
    """The branch's ledger in sequence order; `after` is a page's `endCursor`, which is the last sequence
    the client saw (a client resuming a live stream passes that sequence as a string). The filters narrow the
    movement history: reasons, the document it was written for, who moved it, and the days it happened on."""
    branch_pk = await _branch_pk(info, branch_id)
    queryset = models.StockMovement.filter(branch_id=branch_pk)
    variant_pks = _decode_variant_filter(variant_ids)
    if variant_pks is not None:
        queryset = queryset.filter(variant_id__in=variant_pks)
    if reasons is not None:
        queryset = queryset.filter(reason__in=reasons[:50])
    if reference_type is not None:
        queryset = queryset.filter(posting__reference_type=reference_type)
    if reference_id is not None:
        queryset = queryset.filter(posting__reference_id=reference_id)
    if actor is not None:
        queryset = queryset.filter(posting__actor=actor)
    queryset = await within_days(queryset, from_, to, branch_ids=[branch_pk], at="occurred_at")
    if after is not None and not (after.isdigit() and len(after) <= 18):
        raise BadRequest("after is an endCursor: the last sequence seen (0 or more)", field="after")
    return await keyset_page(
        queryset,
        first=first,
        after_key=int(after) if after is not None else None,
        key="sequence",
        to_node=StockMovement.from_model,
        cursor=lambda row: str(row.sequence),
    )


async def _branch_and_variants(info: Info, branch_id: str, lines: list) -> tuple[int, list[int]]:
    """The branch and each line's variant (by ID, SKU or barcode), as typed errors if unknown.

    Access is checked first, so a caller without rights learns nothing from validation errors."""
    branch_pk = ids.decode(branch_id, "Branch", "branchId")
    require(info.context.actor, Permission.ADJUST_STOCK, branch_pk)
    refs = [line.variant.ref(f"lines.{i}.variant") for i, line in enumerate(lines)]
    if not await branch_models.Branch.exists(id=branch_pk):
        raise OperationError.single(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")
    return branch_pk, await resolve_variant_refs(refs)


async def adjust_stock(info: Info, input: AdjustStockInput) -> AdjustStockPayload:
    async def run():
        branch_pk, variant_pks = await _branch_and_variants(info, input.branch_id, input.lines)
        result = await ops_adjust_stock(
            Adjustment(
                branch_id=branch_pk,
                reason=AdjustmentReason(input.reason.value),
                lines=[
                    AdjustmentLine(pk, line.quantity, line.counted_quantity)
                    for pk, line in zip(variant_pks, input.lines, strict=True)
                ],
                idempotency_key=input.idempotency_key,
                note=input.note,
                actor=info.context.actor,
                manager_pin=input.manager_pin,
            )
        )
        return {"movements": [StockMovement.from_applied(m) for m in result.movements]}

    return await payload(AdjustStockPayload, run)


async def set_reorder_points(info: Info, input: SetReorderPointsInput) -> SetReorderPointsPayload:
    async def run():
        branch_pk, variant_pks = await _branch_and_variants(info, input.branch_id, input.lines)
        levels = [
            ReorderLevel(pk, line.reorder_point, line.reorder_quantity)
            for pk, line in zip(variant_pks, input.lines, strict=True)
        ]
        await set_reorder_levels(info.context.actor, branch_pk, levels, input.idempotency_key)
        levels = await models.StockLevel.filter(branch_id=branch_pk, variant_id__in=variant_pks).order_by("variant_id")
        return {"levels": [StockLevel.from_model(level) for level in levels]}

    return await payload(SetReorderPointsPayload, run)
