"""Transfers: decode the input, call operations/transfers/requests.py or transfer_stock.py, shape the payload."""

from datetime import UTC, datetime, timedelta

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Q

from models import transfers as models
from operations.kernel import OperationError, Permission, require
from operations.transfers import IN_TRANSIT, DispatchLine, LineRef, NewTransfer, Receipt, ReceiveLine, RequestLine
from operations.transfers import approve_transfer as ops_approve_transfer
from operations.transfers import cancel_transfer as ops_cancel_transfer
from operations.transfers import close_transfer as ops_close_transfer
from operations.transfers import create_transfer as ops_create_transfer
from operations.transfers import dispatch_transfer as ops_dispatch_transfer
from operations.transfers import receive_transfer as ops_receive_transfer
from operations.transfers import return_discrepancy_to_stock as ops_return_discrepancy_to_stock
from operations.transfers import submit_transfer as ops_submit_transfer
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.pagination import decode_cursor, keyset_page
from schema.transfers import (
    ApproveTransferInput,
    ApproveTransferPayload,
    CancelTransferInput,
    CancelTransferPayload,
    CloseTransferInput,
    CloseTransferPayload,
    CreateTransferInput,
    CreateTransferPayload,
    DispatchTransferInput,
    DispatchTransferPayload,
    ReceiveTransferInput,
    ReceiveTransferPayload,
    ReturnDiscrepancyToStockInput,
    SubmitTransferInput,
    SubmitTransferPayload,
    Transfer,
    TransferDiscrepancy,
    TransferStatus,
)
from schema.transfers import ReturnDiscrepancyToStockPayload as ReturnPayload

MAX_AGE_HOURS = 24 * 366


# --- queries -------------------------------------------------------------------------------------


async def transfers(
    info: Info,
    first: int,
    after: str | None = None,
    branch_id: strawberry.ID | None = None,
    status: TransferStatus | None = None,  # type: ignore[valid-type]
    in_transit_longer_than_hours: int | None = None,
) -> relay.Connection[Transfer]:
    """Transfers into or out of `branchId` (else every branch the caller sees), oldest first.
    `inTransitLongerThanHours`: only those dispatched at least that long ago and still on the way
    (the ageing report)."""
    actor = info.context.actor
    require(actor, Permission.VIEW_STOCK)
    queryset = models.Transfer.all()
    if branch_id is not None:
        try:
            pk = ids.decode(branch_id, "Branch", "branchId")
        except OperationError as error:
            raise BadRequest(str(error), field="branchId") from None
        require(actor, Permission.VIEW_STOCK, pk)
        queryset = queryset.filter(Q(source_branch_id=pk) | Q(destination_branch_id=pk))
    elif actor.branch_ids is not None:
        seen = list(actor.branch_ids)
        queryset = queryset.filter(Q(source_branch_id__in=seen) | Q(destination_branch_id__in=seen))
    if status is not None:
        queryset = queryset.filter(status=models.TransferStatus(status.value))
    if in_transit_longer_than_hours is not None:
        if not 0 <= in_transit_longer_than_hours <= MAX_AGE_HOURS:
            raise BadRequest(f"inTransitLongerThanHours must be 0–{MAX_AGE_HOURS}", field="inTransitLongerThanHours")
        since = datetime.now(UTC) - timedelta(hours=in_transit_longer_than_hours)
        queryset = queryset.filter(status__in=list(IN_TRANSIT), dispatched_at__lte=since)
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Transfer.from_model
    )


# --- mutations -----------------------------------------------------------------------------------


def _transfer_pk(value) -> int:
    return ids.decode(value, "Transfer", "transferId")


def _line_ref(line, i: int) -> LineRef:
    return LineRef(
        line_id=ids.decode(line.line_id, "TransferLine", f"lines.{i}.lineId") if line.line_id else None,
        variant_id=ids.decode(line.variant_id, "Variant", f"lines.{i}.variantId") if line.variant_id else None,
    )


def _done(transfer: models.Transfer) -> dict:
    return {"transfer": Transfer.from_model(transfer)}


async def create_transfer(info: Info, input: CreateTransferInput) -> CreateTransferPayload:
    async def run():
        lines = [
            RequestLine(line.variant.ref(f"lines.{i}.variant"), line.quantity) for i, line in enumerate(input.lines)
        ]
        new = NewTransfer(
            source_branch_id=ids.decode(input.source_branch_id, "Branch", "sourceBranchId"),
            destination_branch_id=ids.decode(input.destination_branch_id, "Branch", "destinationBranchId"),
            lines=lines,
            idempotency_key=input.idempotency_key,
            note=input.note,
            submit=input.submit,
        )
        transfer, _ = await ops_create_transfer(info.context.actor, new)
        return _done(transfer)

    return await payload(CreateTransferPayload, run)


async def submit_transfer(info: Info, input: SubmitTransferInput) -> SubmitTransferPayload:
    async def run():
        transfer, _ = await ops_submit_transfer(
            info.context.actor, _transfer_pk(input.transfer_id), input.idempotency_key
        )
        return _done(transfer)

    return await payload(SubmitTransferPayload, run)


async def approve_transfer(info: Info, input: ApproveTransferInput) -> ApproveTransferPayload:
    async def run():
        pk = _transfer_pk(input.transfer_id)
        transfer, _ = await ops_approve_transfer(info.context.actor, pk, input.idempotency_key)
        return _done(transfer)

    return await payload(ApproveTransferPayload, run)


async def dispatch_transfer(info: Info, input: DispatchTransferInput) -> DispatchTransferPayload:
    async def run():
        lines = None
        if input.lines is not None:
            lines = [DispatchLine(_line_ref(line, i), line.quantity) for i, line in enumerate(input.lines)]
        pk = _transfer_pk(input.transfer_id)
        transfer, _ = await ops_dispatch_transfer(info.context.actor, pk, input.idempotency_key, lines)
        return _done(transfer)

    return await payload(DispatchTransferPayload, run)


async def receive_transfer(info: Info, input: ReceiveTransferInput) -> ReceiveTransferPayload:
    async def run():
        lines = [
            ReceiveLine(_line_ref(line, i), line.received, line.damaged, line.missing, line.reason)
            for i, line in enumerate(input.lines)
        ]
        receipt = Receipt(_transfer_pk(input.transfer_id), lines, input.idempotency_key, input.note)
        transfer, _ = await ops_receive_transfer(info.context.actor, receipt)
        return _done(transfer)

    return await payload(ReceiveTransferPayload, run)


async def close_transfer(info: Info, input: CloseTransferInput) -> CloseTransferPayload:
    async def run():
        pk = _transfer_pk(input.transfer_id)
        transfer, _ = await ops_close_transfer(info.context.actor, pk, input.idempotency_key, input.reason)
        return _done(transfer)

    return await payload(CloseTransferPayload, run)


async def cancel_transfer(info: Info, input: CancelTransferInput) -> CancelTransferPayload:
    async def run():
        pk = _transfer_pk(input.transfer_id)
        transfer, _ = await ops_cancel_transfer(info.context.actor, pk, input.idempotency_key, input.reason)
        return _done(transfer)

    return await payload(CancelTransferPayload, run)


async def return_discrepancy_to_stock(info: Info, input: ReturnDiscrepancyToStockInput) -> ReturnPayload:
    async def run():
        pk = ids.decode(input.discrepancy_id, "TransferDiscrepancy", "discrepancyId")
        discrepancy, _ = await ops_return_discrepancy_to_stock(info.context.actor, pk, input.idempotency_key)
        transfer = await models.Transfer.get(id=discrepancy.transfer_id)
        return {"discrepancy": TransferDiscrepancy.from_model(discrepancy), "transfer": Transfer.from_model(transfer)}

    return await payload(ReturnPayload, run)
