"""Stock counts: the count and its lines, and the inputs and payloads of its mutations."""

from collections.abc import Iterable
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import counts as models
from operations.counts import CountMode as OperationMode
from operations.counts import LineFigures, as_seen, totals_as_seen
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION, VariantRefInput
from schema.pagination import check_first, decode_cursor, encode_cursor
from schema.staff import Staff, actor_field
from schema.types import Branch, StockMovement, Variant, _by_ids, _sees_stock

CountKind = mirrored(
    models.CountKind,
    "CountKind",
    "FULL: everything at the branch (and anything else found). CYCLE: chosen variants or a product type.",
)
CountStatus = mirrored(
    models.CountStatus,
    "CountStatus",
    (
        "OPEN: counting. REVIEW: submitted, waiting for a manager. APPROVED: variances posted. "
        "ABANDONED: called off, stock untouched."
    ),
)
CountMode = mirrored(
    OperationMode, "CountMode", "ADD: a scan, added to what was counted so far. SET: a recount, replaces it."
)


@strawberry.type(description="One variant in a count. Expected, movements and variance are null when hidden (blind).")
class StockCountLine:
    variant_pk: strawberry.Private[int]
    sku: str
    counted: int | None = strawberry.field(description="Null until someone counts it.")
    counted_at: datetime | None
    expected_at_start: int | None = strawberry.field(description="On hand when the count opened.")
    movements_since_start: int | None = strawberry.field(
        description="On-hand movements at the branch after the count opened, up to when this line was counted "
        "(sales during the count are here)."
    )
    variance: int | None = strawberry.field(description="counted − (expectedAtStart + movementsSinceStart).")

    @classmethod
    def from_figures(cls, f: LineFigures) -> Self:
        return cls(
            variant_pk=f.variant_id,
            sku=f.sku,
            counted=f.counted,
            counted_at=f.counted_at,
            expected_at_start=f.expected_at_start,
            movements_since_start=f.movements_since_start,
            variance=f.variance,
        )

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type(description="How far counting got.")
class StockCountTotals:
    lines: int
    counted: int
    variance_units: int | None = strawberry.field(description="Units off over counted lines; null when blind.")


@strawberry.type(description="A count of (part of) a branch's stock; approval posts the variances once.")
class StockCount(relay.Node):
    id: relay.NodeID[int]
    kind: CountKind  # type: ignore[valid-type]
    status: CountStatus  # type: ignore[valid-type]
    blind: bool
    product_type: str | None
    start_sequence: int = strawberry.field(description="The branch's stock sequence when the count opened.")
    zero_uncounted: bool = strawberry.field(description="Submitted with lines nobody counted taken as 0.")
    note: str | None
    opened_by: Staff | None = actor_field(lambda c: c.model.opened_by)
    created_at: datetime
    submitted_by: Staff | None = actor_field(lambda c: c.model.submitted_by)
    submitted_at: datetime | None
    approved_by: Staff | None = actor_field(lambda c: c.model.approved_by)
    approved_at: datetime | None
    abandoned_by: Staff | None = actor_field(lambda c: c.model.abandoned_by)
    abandoned_at: datetime | None
    model: strawberry.Private[models.StockCount]

    @classmethod
    def from_model(cls, m: models.StockCount) -> Self:
        return cls(
            id=m.id,
            kind=CountKind(m.kind.value),
            status=CountStatus(m.status.value),
            blind=m.blind,
            product_type=m.product_type,
            start_sequence=m.start_sequence,
            zero_uncounted=m.zero_uncounted,
            note=m.note,
            created_at=m.created_at,
            submitted_at=m.submitted_at,
            approved_at=m.approved_at,
            abandoned_at=m.abandoned_at,
            model=m,
        )

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.model.branch_id))

    @strawberry.field(description="The lines in order; `first` is capped at 100.")
    async def lines(self, info: Info, first: int = 100, after: str | None = None) -> relay.Connection[StockCountLine]:
        check_first(first)
        after_id = decode_cursor(after)
        page = await info.context.loaders.lines_of_count.load((self.id, first + 1, after_id))
        figures = as_seen(info.context.actor, self.model, page)
        edges = [
            relay.Edge(cursor=encode_cursor(f.line_id), node=StockCountLine.from_figures(f)) for f in figures[:first]
        ]
        return relay.Connection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=len(figures) > first,
                has_previous_page=after_id is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def totals(self, info: Info) -> StockCountTotals:
        found = await info.context.loaders.totals_of_count.load(self.id)
        t = totals_as_seen(info.context.actor, self.model, found)
        return StockCountTotals(lines=t.lines, counted=t.counted, variance_units=t.variance_units)

    @strawberry.field(description="The ledger entries the approval posted (reason count); empty before approval.")
    async def adjustment(self, info: Info) -> list[StockMovement]:
        if self.model.posting_id is None:
            return []
        rows = await info.context.loaders.movements_of_posting.load(self.model.posting_id)
        return [StockMovement.from_model(r) for r in rows]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        loader = info.context.loaders.stock_count
        return await _by_ids(loader, "StockCount", info, node_ids, required, cls.from_model, _sees_stock)


@strawberry.input
class OpenStockCountInput:
    branch_id: strawberry.ID
    kind: CountKind  # type: ignore[valid-type]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    variant_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="A cycle count's variants.")
    product_type: str | None = strawberry.field(default=None, description="A cycle count's category.")
    blind: bool = strawberry.field(default=False, description="Hide expected quantities from the counters.")
    note: str | None = None


@strawberry.input(description="A counted variant and how many were found.")
class CountedQuantityInput:
    variant: VariantRefInput
    counted: int
    mode: CountMode = CountMode.ADD  # type: ignore[valid-type]


@strawberry.input
class RecordCountedQuantitiesInput:
    count_id: strawberry.ID
    lines: list[CountedQuantityInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class SubmitStockCountInput:
    count_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    zero_uncounted: bool = strawberry.field(
        default=False,
        description="Take every line nobody counted as counted 0. Without it, uncounted lines are not adjusted.",
    )


@strawberry.input(description="Posts the variances once: approving an approved count returns it as it is.")
class ApproveStockCountInput:
    count_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="Nothing is posted; abandoning an abandoned count returns it as it is.")
class AbandonStockCountInput:
    count_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class OpenStockCountPayload:
    stock_count: StockCount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordCountedQuantitiesPayload:
    stock_count: StockCount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitStockCountPayload:
    stock_count: StockCount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApproveStockCountPayload:
    stock_count: StockCount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AbandonStockCountPayload:
    stock_count: StockCount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
