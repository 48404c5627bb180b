"""Transfers between branches: the transfer, its lines and discrepancies; inputs and payloads."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import transfers as models
from operations.kernel import Actor, Permission
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION, VariantRefInput
from schema.staff import Staff, actor_field
from schema.types import Branch, Variant

TransferStatus = mirrored(
    models.TransferStatus,
    "TransferStatus",
    (
        "DRAFT → REQUESTED → APPROVED → IN_TRANSIT → PARTIALLY_RECEIVED → RECEIVED → CLOSED; "
        "CANCELLED only before dispatch."
    ),
)
DiscrepancyKind = mirrored(
    models.DiscrepancyKind,
    "DiscrepancyKind",
    "MISSING: dispatched, never arrived. DAMAGED: arrived unsellable, in the destination's damaged bucket.",
)
_IN_TRANSIT = (models.TransferStatus.IN_TRANSIT, models.TransferStatus.PARTIALLY_RECEIVED)


def _sees(actor: Actor, transfer: models.Transfer) -> bool:
    """node(id:): anyone who may see stock at either end."""
    return actor.can(Permission.VIEW_STOCK, transfer.source_branch_id) or actor.can(
        Permission.VIEW_STOCK, transfer.destination_branch_id
    )


def _numeric(node_ids: Iterable[str]) -> list[int]:
    return [int(i) for i in node_ids if i.isdigit()]


async def _with_transfers(info: Info, rows: list) -> tuple[dict, dict]:
    """Lines or discrepancies by id, and the transfers they belong to (whose ends say who sees them)."""
    found = {r.id: r for r in rows if r is not None}
    transfers = await info.context.loaders.transfer.load_many(sorted({r.transfer_id for r in found.values()}))
    return found, {t.id: t for t in transfers if t is not None}


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@strawberry.type(description="One variant on a transfer: what was asked for, sent, and how it arrived.")
class TransferLine(relay.Node):
    id: relay.NodeID[int]
    quantity_requested: int
    quantity_dispatched: int
    quantity_received: int = strawberry.field(description="Arrived sellable: in the destination's on hand.")
    quantity_damaged: int
    quantity_missing: int
    outstanding: int = strawberry.field(description="Dispatched, not yet received, damaged or missing: in transit.")
    variant_pk: strawberry.Private[int]
    transfer_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.TransferLine) -> Self:
        return cls(
            id=m.id,
            quantity_requested=m.quantity_requested,
            quantity_dispatched=m.quantity_dispatched,
            quantity_received=m.quantity_received,
            quantity_damaged=m.quantity_damaged,
            quantity_missing=m.quantity_missing,
            outstanding=m.outstanding,
            variant_pk=m.variant_id,
            transfer_pk=m.transfer_id,
        )

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = _numeric(node_ids)
        rows, transfers = await _with_transfers(info, await info.context.loaders.transfer_line.load_many(wanted))
        actor = info.context.actor
        return [
            cls.from_model(rows[i]) if i in rows and _sees(actor, transfers[rows[i].transfer_id]) else None
            for i in wanted
        ]


@strawberry.type(description="Units of a line that did not arrive sellable, and why; returned to stock once at most.")
class TransferDiscrepancy(relay.Node):
    id: relay.NodeID[int]
    kind: DiscrepancyKind  # type: ignore[valid-type]
    quantity: int
    reason: str = strawberry.field(description="In the receiver's words.")
    recorded_by: Staff | None = actor_field(lambda d: d.model.recorded_by)
    created_at: datetime
    returned_to_stock_at: datetime | None
    returned_to_stock_by: Staff | None = actor_field(lambda d: d.model.returned_to_stock_by)
    line_pk: strawberry.Private[int]
    transfer_pk: strawberry.Private[int]
    model: strawberry.Private[models.TransferDiscrepancy]

    @classmethod
    def from_model(cls, m: models.TransferDiscrepancy) -> Self:
        return cls(
            id=m.id,
            kind=DiscrepancyKind(m.kind.value),
            quantity=m.quantity,
            reason=m.reason,
            created_at=m.created_at,
            returned_to_stock_at=m.returned_to_stock_at,
            line_pk=m.line_id,
            transfer_pk=m.transfer_id,
            model=m,
        )

    @strawberry.field
    async def line(self, info: Info) -> TransferLine:
        return TransferLine.from_model(await info.context.loaders.transfer_line.load(self.line_pk))

    @strawberry.field
    async def transfer(self, info: Info) -> "Transfer":
        return Transfer.from_model(await info.context.loaders.transfer.load(self.transfer_pk))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = _numeric(node_ids)
        found = await info.context.loaders.transfer_discrepancy.load_many(wanted)
        rows, transfers = await _with_transfers(info, found)
        actor = info.context.actor
        return [
            cls.from_model(rows[i]) if i in rows and _sees(actor, transfers[rows[i].transfer_id]) else None
            for i in wanted
        ]


@strawberry.type(description="Stock moving from one branch to another, with who did each step and when.")
class Transfer(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="TR- and a number that runs per deployment, e.g. TR-000123.")
    status: TransferStatus  # type: ignore[valid-type]
    note: str | None
    requested_by: Staff | None = actor_field(lambda t: t.model.requested_by, "Who drafted or requested it.")
    requested_at: datetime | None = strawberry.field(description="When it was submitted (null while a draft).")
    approved_by: Staff | None = actor_field(lambda t: t.model.approved_by)
    approved_at: datetime | None
    dispatched_by: Staff | None = actor_field(lambda t: t.model.dispatched_by)
    dispatched_at: datetime | None
    received_by: Staff | None = actor_field(lambda t: t.model.received_by, "Who took the latest receipt.")
    received_at: datetime | None
    closed_by: Staff | None = actor_field(lambda t: t.model.closed_by)
    closed_at: datetime | None
    cancelled_by: Staff | None = actor_field(lambda t: t.model.cancelled_by)
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    source_pk: strawberry.Private[int]
    destination_pk: strawberry.Private[int]
    model: strawberry.Private[models.Transfer]

    @classmethod
    def from_model(cls, m: models.Transfer) -> Self:
        return cls(
            id=m.id,
            number=m.number,
            status=TransferStatus(m.status.value),
            note=m.note,
            requested_at=m.requested_at,
            approved_at=m.approved_at,
            dispatched_at=m.dispatched_at,
            received_at=m.received_at,
            closed_at=m.closed_at,
            cancelled_at=m.cancelled_at,
            created_at=m.created_at,
            updated_at=m.updated_at,
            source_pk=m.source_branch_id,
            destination_pk=m.destination_branch_id,
            model=m,
        )

    @strawberry.field(description="The branch the stock leaves.")
    async def source_branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.source_pk))

    @strawberry.field(description="The branch the stock goes to.")
    async def destination_branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.destination_pk))

    @strawberry.field(description="When it was dispatched, while units are still on the way (else null).")
    def in_transit_since(self) -> datetime | None:
        return self.dispatched_at if self.model.status in _IN_TRANSIT else None

    @strawberry.field(
        description="Hours since dispatch while on the way; once received or closed, how long it took. "
        "Null before dispatch."
    )
    def age_hours(self) -> float | None:
        if self.dispatched_at is None:
            return None
        status = self.model.status
        if status in _IN_TRANSIT:
            end = datetime.now(UTC)
        else:
            end = self.received_at or self.closed_at or datetime.now(UTC)
        return round((_as_utc(end) - _as_utc(self.dispatched_at)).total_seconds() / 3600, 2)

    @strawberry.field
    async def lines(self, info: Info) -> list[TransferLine]:
        return [TransferLine.from_model(line) for line in await info.context.loaders.lines_of_transfer.load(self.id)]

    @strawberry.field
    async def discrepancies(self, info: Info) -> list[TransferDiscrepancy]:
        rows = await info.context.loaders.discrepancies_of_transfer.load(self.id)
        return [TransferDiscrepancy.from_model(d) for d in rows]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = _numeric(node_ids)
        rows = {r.id: r for r in await info.context.loaders.transfer.load_many(wanted) if r is not None}
        actor = info.context.actor
        return [cls.from_model(rows[i]) if i in rows and _sees(actor, rows[i]) else None for i in wanted]


# --- inputs --------------------------------------------------------------------------------------


@strawberry.input(description="A variant and how many.")
class TransferRequestLineInput:
    variant: VariantRefInput
    quantity: int


@strawberry.input
class CreateTransferInput:
    source_branch_id: strawberry.ID
    destination_branch_id: strawberry.ID
    lines: list[TransferRequestLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    note: str | None = None
    submit: bool = strawberry.field(default=False, description="Request it now (REQUESTED) instead of a DRAFT.")


@strawberry.input
class SubmitTransferInput:
    transfer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class ApproveTransferInput:
    transfer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="A line by exactly one of lineId and variantId.")
class DispatchLineInput:
    quantity: int = strawberry.field(description="0 to what was requested.")
    line_id: strawberry.ID | None = None
    variant_id: strawberry.ID | None = None


@strawberry.input
class DispatchTransferInput:
    transfer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    lines: list[DispatchLineInput] | None = strawberry.field(
        default=None,
        description="What goes in the box. Omitted: every line as requested. Given: exactly these (a line not "
        "listed sends nothing).",
    )


@strawberry.input(description="A line by exactly one of lineId and variantId, and how its units arrived.")
class ReceiveLineInput:
    line_id: strawberry.ID | None = None
    variant_id: strawberry.ID | None = None
    received: int = strawberry.field(default=0, description="Sellable: into the destination's on hand.")
    damaged: int = strawberry.field(default=0, description="Into the destination's damaged bucket.")
    missing: int = strawberry.field(default=0, description="Did not arrive.")
    reason: str | None = strawberry.field(default=None, description="Why damaged or missing: required for those.")


@strawberry.input
class ReceiveTransferInput:
    transfer_id: strawberry.ID
    lines: list[ReceiveLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    note: str | None = None


@strawberry.input
class CloseTransferInput:
    transfer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    reason: str | None = strawberry.field(default=None, description="Recorded on units closed as missing.")


@strawberry.input
class CancelTransferInput:
    transfer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    reason: str | None = None


@strawberry.input
class ReturnDiscrepancyToStockInput:
    discrepancy_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


# --- payloads ------------------------------------------------------------------------------------


@strawberry.type
class CreateTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApproveTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DispatchTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CloseTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelTransferPayload:
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReturnDiscrepancyToStockPayload:
    discrepancy: TransferDiscrepancy | None = None
    transfer: Transfer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
