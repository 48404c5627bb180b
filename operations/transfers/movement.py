"""The transfer steps that move stock: dispatch, receive, close, and returning a discrepancy.

Each is one transaction: idempotency key, the transfer's row (operations/transfers/requests.py `take`),
the lines with guarded UPDATEs, the discrepancy records, the audit entry, and last one
`apply_to_ledger` — so units never leave twice, arrive twice, or arrive more than left.

Where the units are in the ledger (the source keeps them as IN_TRANSIT until accounted for):

| step | source | destination | Shopify |
|---|---|---|---|
| dispatch q | ON_HAND −q, IN_TRANSIT +q | | on hand −q at the source (PUSH); in transit is Branchline's own |
| receive r, d, m | IN_TRANSIT −(r+d+m) | ON_HAND +r, DAMAGED +d | available +r, damaged +d (PUSH) |
| close (u unaccounted) | IN_TRANSIT −u | | nothing: the units were already off Shopify |
| missing unit found | | ON_HAND +q | available +q (PUSH) |
| damaged unit restored | | DAMAGED −q, ON_HAND +q | damaged −q, available +q (PUSH) |

Damaged units are pushed, as operations/stock/adjustments.py pushes a DAMAGED adjustment and returns push a
damaged restock: they are physically at the destination, and Shopify's own `damaged` state is
the same idea (counted in its on hand, never sold). Missing units went nowhere Shopify knows.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from models.stock import Bucket, ShopifyEffect
from models.transfers import DiscrepancyKind, Transfer, TransferDiscrepancy, TransferLine, TransferStatus
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    db_time,
    fetch,
    fingerprint,
    record_audit,
    require,
)
from operations.stock import Movement, Posting, apply_to_ledger
from operations.transfers.requests import (
    IN_TRANSIT,
    MAX_LINES,
    MAX_REASON,
    check_text,
    is_units,
    label_fields,
    load,
    remap_fields,
    require_any,
    step,
    take,
)

CLOSED_WITHOUT_RECEIPT = "not received by the time the transfer was closed"


@dataclass(frozen=True)
class LineRef:
    """A transfer line by its id, or by its variant (each variant is on a transfer once)."""

    line_id: int | None = None
    variant_id: int | None = None


@dataclass(frozen=True)
class DispatchLine:
    line: LineRef
    quantity: int  # 0 to what was requested: the packer may send fewer


@dataclass(frozen=True)
class ReceiveLine:
    line: LineRef
    received: int = 0  # sellable: into the destination's on hand
    damaged: int = 0  # arrived unsellable: into the destination's damaged bucket
    missing: int = 0  # did not arrive
    reason: str | None = None  # why damaged or missing: required when either is given


@dataclass(frozen=True)
class Receipt:
    transfer_id: int
    lines: list[ReceiveLine]
    idempotency_key: str
    note: str | None = None


async def _lines_by_ref(transfer: Transfer, refs: list[LineRef]) -> list[TransferLine]:
    lines = await TransferLine.filter(transfer_id=transfer.id).order_by("id")
    by_id = {line.id: line for line in lines}
    by_variant = {line.variant_id: line for line in lines}
    problems = Problems()
    found: list[TransferLine] = []
    for i, ref in enumerate(refs):
        if (ref.line_id is None) == (ref.variant_id is None):
            problems.add(ErrorCode.INVALID, "give exactly one of lineId and variantId", f"lines.{i}.lineId")
            continue
        line = by_id.get(ref.line_id) if ref.line_id is not None else by_variant.get(ref.variant_id)
        if line is None:
            name = "lineId" if ref.line_id is not None else "variantId"
            problems.add(ErrorCode.NOT_FOUND, f"transfer {transfer.number} has no such line", f"lines.{i}.{name}")
            continue
        if any(f.id == line.id for f in found):
            problems.add(ErrorCode.DUPLICATE, "the same line appears twice", f"lines.{i}")
        found.append(line)
    problems.raise_if_any()
    return found


def _posting(key: str, reason: str, actor: Actor, transfer: Transfer, note: str | None = None) -> Posting:
    return Posting(key, reason, actor.label, "transfer", str(transfer.id), note=note)


# --- dispatch ----------------------------------------------------------------------------------


async def dispatch_transfer(
    actor: Actor, transfer_id: int, key: str, lines: list[DispatchLine] | None = None
) -> tuple[Transfer, bool]:
    """Units leave the source: on hand drops, in transit grows. Without `lines` every line goes as
    requested; with them, exactly those quantities go (a line not listed sends nothing)."""
    transfer = await load(transfer_id)
    require(actor, Permission.ADJUST_STOCK, transfer.source_branch_id)
    problems = Problems()
    problems.check_key(key)
    for i, line in enumerate(lines or []):
        if not is_units(line.quantity, minimum=0):
            problems.add(ErrorCode.INVALID, "quantity must be a whole number, 0 or more", f"lines.{i}.quantity")
    problems.raise_if_any()
    chosen = await _lines_by_ref(transfer, [line.line for line in lines]) if lines is not None else None

    async def work(tx: Transaction) -> Transfer:
        changes = label_fields(actor, "dispatched", datetime.now(UTC))
        await take(tx, transfer, (TransferStatus.APPROVED,), status=TransferStatus.IN_TRANSIT, **changes)
        all_lines = await TransferLine.filter(transfer_id=transfer.id).order_by("id")
        if chosen is None:
            sending = [(i, line, line.quantity_requested) for i, line in enumerate(all_lines)]
        else:
            sending = [(i, line, d.quantity) for i, (line, d) in enumerate(zip(chosen, lines, strict=True))]
        problems = Problems()
        for i, line, q in sending:
            if q > line.quantity_requested:
                problems.add(ErrorCode.INVALID, f"only {line.quantity_requested} were requested", f"lines.{i}.quantity")
        if not any(q for _, _, q in sending):
            problems.add(ErrorCode.INVALID, "dispatch at least one unit", "lines")
        problems.raise_if_any()
        movements, fields = [], {}
        src = transfer.source_branch_id
        for i, line, q in sending:
            await TransferLine.filter(id=line.id).update(quantity_dispatched=q)
            if q:
                fields[f"lines.{len(movements)}.quantity"] = f"lines.{i}.quantity"
                movements += [
                    Movement(src, line.variant_id, -q, Bucket.ON_HAND, "transfer_out", ShopifyEffect.PUSH),
                    Movement(src, line.variant_id, q, Bucket.IN_TRANSIT, "transfer_out", ShopifyEffect.NOT_SYNCED),
                ]
        units = sum(q for _, _, q in sending)
        await record_audit(actor, "transfer.dispatched", branch_id=src, target=("transfer", transfer.id), units=units)
        try:
            # One dispatch per transfer, ever: the ledger key says so too.
            await apply_to_ledger(
                tx, _posting(f"transfer:{transfer.id}:dispatch", "transfer_out", actor, transfer), movements
            )
        except OperationError as error:
            raise remap_fields(error, fields) from None
        return transfer

    request = {"transfer": transfer_id, "lines": [asdict(d) for d in lines] if lines is not None else None}
    return await step("dispatchTransfer", key, request, work)


# --- receive -----------------------------------------------------------------------------------


def _validate_receipt(r: Receipt) -> None:
    problems = Problems()
    problems.check_key(r.idempotency_key)
    check_text(problems, r.note, 1000, "note")
    if not r.lines:
        problems.add(ErrorCode.INVALID, "receive at least one line", "lines")
    if len(r.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", "lines")
    for i, line in enumerate(r.lines):
        counts = {"received": line.received, "damaged": line.damaged, "missing": line.missing}
        bad = [name for name, value in counts.items() if not is_units(value, minimum=0)]
        for name in bad:
            problems.add(ErrorCode.INVALID, f"{name} must be a whole number, 0 or more", f"lines.{i}.{name}")
        if not bad and not sum(counts.values()):
            problems.add(ErrorCode.INVALID, "account for at least one unit", f"lines.{i}.received")
        if not bad and (line.damaged or line.missing) and not (line.reason and line.reason.strip()):
            problems.add(ErrorCode.INVALID, "say why units are damaged or missing", f"lines.{i}.reason")
        check_text(problems, line.reason, MAX_REASON, f"lines.{i}.reason")
    problems.raise_if_any()


async def receive_transfer(actor: Actor, r: Receipt) -> tuple[Transfer, bool]:
    """Some or all of what was dispatched is accounted for at the destination. Several receipts
    may follow one another; together they never account for more than was dispatched."""
    transfer = await load(r.transfer_id)
    require(actor, Permission.ADJUST_STOCK, transfer.destination_branch_id)
    _validate_receipt(r)
    lines = await _lines_by_ref(transfer, [line.line for line in r.lines])

    async def work(tx: Transaction) -> Transfer:
        await take(tx, transfer, IN_TRANSIT)
        src, dst = transfer.source_branch_id, transfer.destination_branch_id
        problems, movements, discrepancies = Problems(), [], []
        for i, (line, got) in enumerate(zip(lines, r.lines, strict=True)):
            total = got.received + got.damaged + got.missing
            rows = await fetch(
                tx.conn,
                "UPDATE transfer_line SET quantity_received = quantity_received + ?,"
                " quantity_damaged = quantity_damaged + ?, quantity_missing = quantity_missing + ?"
                " WHERE id = ? AND quantity_received + quantity_damaged + quantity_missing + ? <= quantity_dispatched"
                " RETURNING id",
                [got.received, got.damaged, got.missing, line.id, total],
            )
            if not rows:
                now_line = await TransferLine.get(id=line.id)
                problems.add(
                    ErrorCode.INVALID,
                    f"only {now_line.outstanding} of this line are still to be received ({total} given)",
                    f"lines.{i}.received",
                )
                continue
            v = line.variant_id
            movements.append(Movement(src, v, -total, Bucket.IN_TRANSIT, "transfer_in", ShopifyEffect.NOT_SYNCED))
            if got.received:
                movements.append(Movement(dst, v, got.received, Bucket.ON_HAND, "transfer_in"))
            if got.damaged:
                movements.append(Movement(dst, v, got.damaged, Bucket.DAMAGED, "transfer_damaged"))
            for kind, q in ((DiscrepancyKind.DAMAGED, got.damaged), (DiscrepancyKind.MISSING, got.missing)):
                if q:
                    discrepancies.append(_discrepancy(actor, line, kind, q, got.reason.strip()))
        problems.raise_if_any()
        await TransferDiscrepancy.bulk_create(discrepancies)
        await _set_received_state(tx, transfer, actor)
        await record_audit(
            actor,
            "transfer.received",
            branch_id=dst,
            target=("transfer", transfer.id),
            received=sum(x.received for x in r.lines),
            damaged=sum(x.damaged for x in r.lines),
            missing=sum(x.missing for x in r.lines),
        )
        posting_key = f"transfer:{transfer.id}:receipt:{fingerprint(r.idempotency_key)[:32]}"
        await apply_to_ledger(tx, _posting(posting_key, "transfer_in", actor, transfer, r.note), movements)
        return transfer

    return await step("receiveTransfer", r.idempotency_key, asdict(r), work)


def _discrepancy(actor: Actor, line: TransferLine, kind: DiscrepancyKind, q: int, reason: str) -> TransferDiscrepancy:
    return TransferDiscrepancy(
        transfer_id=line.transfer_id, line_id=line.id, kind=kind, quantity=q, reason=reason, recorded_by=actor.label
    )


async def _set_received_state(tx: Transaction, transfer: Transfer, actor: Actor) -> None:
    """RECEIVED once every dispatched unit is accounted for; read under the transfer's row lock,
    so no other receipt of this transfer is between the line updates and this."""
    [row] = await fetch(
        tx.conn,
        "SELECT COUNT(*) AS n FROM transfer_line WHERE transfer_id = ?"
        " AND quantity_received + quantity_damaged + quantity_missing < quantity_dispatched",
        [transfer.id],
    )
    status = TransferStatus.PARTIALLY_RECEIVED if int(row["n"]) else TransferStatus.RECEIVED
    changes = label_fields(actor, "received", datetime.now(UTC))
    await Transfer.filter(id=transfer.id).update(status=status, **changes)


# --- close -------------------------------------------------------------------------------------


async def close_transfer(actor: Actor, transfer_id: int, key: str, reason: str | None = None) -> tuple[Transfer, bool]:
    """Finish a transfer. Units still unaccounted for are recorded as MISSING (they leave in
    transit and go nowhere until found) so the books close with nothing in limbo."""
    transfer = await load(transfer_id)
    src, dst = transfer.source_branch_id, transfer.destination_branch_id
    require_any(actor, (Permission.ADJUST_STOCK, dst), (Permission.APPROVE, src), what="close a transfer")
    problems = Problems()
    problems.check_key(key)
    check_text(problems, reason, MAX_REASON, "reason")
    problems.raise_if_any()

    async def work(tx: Transaction) -> Transfer:
        changes = label_fields(actor, "closed", datetime.now(UTC), staff_id=False)
        await take(tx, transfer, (*IN_TRANSIT, TransferStatus.RECEIVED), status=TransferStatus.CLOSED, **changes)
        # Under the transfer's row lock: every writer of these lines takes it first.
        open_lines = [line for line in await TransferLine.filter(transfer_id=transfer.id) if line.outstanding > 0]
        movements, discrepancies = [], []
        for line in sorted(open_lines, key=lambda x: x.id):
            q = line.outstanding
            await fetch(
                tx.conn,
                "UPDATE transfer_line SET quantity_missing = quantity_dispatched - quantity_received - quantity_damaged"
                " WHERE id = ?",
                [line.id],
            )
            discrepancies.append(
                _discrepancy(actor, line, DiscrepancyKind.MISSING, q, reason or CLOSED_WITHOUT_RECEIPT)
            )
            movements.append(
                Movement(src, line.variant_id, -q, Bucket.IN_TRANSIT, "transfer_missing", ShopifyEffect.NOT_SYNCED)
            )
        await TransferDiscrepancy.bulk_create(discrepancies)
        missing = sum(-m.delta for m in movements)
        await record_audit(actor, "transfer.closed", branch_id=dst, target=("transfer", transfer.id), missing=missing)
        if movements:
            await apply_to_ledger(
                tx, _posting(f"transfer:{transfer.id}:close", "transfer_missing", actor, transfer), movements
            )
        return transfer

    return await step("closeTransfer", key, {"transfer": transfer_id, "reason": reason}, work)


# --- discrepancies back to stock ---------------------------------------------------------------


async def return_discrepancy_to_stock(actor: Actor, discrepancy_id: int, key: str) -> tuple[TransferDiscrepancy, bool]:
    """Missing units that turn up, or damaged ones found sellable, go onto the destination's shelf.
    Once only: a second attempt (with another key) is refused with ALREADY_RETURNED."""
    found = await TransferDiscrepancy.get_or_none(id=discrepancy_id).prefetch_related("line", "transfer")
    if found is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such discrepancy", "discrepancyId")
    transfer: Transfer = found.transfer
    dst = transfer.destination_branch_id
    require(actor, Permission.ADJUST_STOCK, dst)
    problems = Problems()
    problems.check_key(key)
    problems.raise_if_any()

    async def work(tx: Transaction) -> TransferDiscrepancy:
        now = datetime.now(UTC)
        rows = await fetch(
            tx.conn,
            "UPDATE transfer_discrepancy SET returned_to_stock_at = ?, returned_to_stock_by = ?"
            " WHERE id = ? AND returned_to_stock_at IS NULL RETURNING id",
            [db_time(tx.conn, now), actor.label[:120], found.id],
        )
        if not rows:
            earlier = await TransferDiscrepancy.get(id=found.id)
            raise OperationError.single(
                ErrorCode.ALREADY_RETURNED,
                f"already returned to stock by {earlier.returned_to_stock_by} at {earlier.returned_to_stock_at}",
                "discrepancyId",
            )
        v, q = found.line.variant_id, found.quantity
        if found.kind is DiscrepancyKind.MISSING:
            movements = [Movement(dst, v, q, Bucket.ON_HAND, "transfer_found")]
        else:
            movements = [
                Movement(dst, v, -q, Bucket.DAMAGED, "transfer_restored"),
                Movement(dst, v, q, Bucket.ON_HAND, "transfer_restored"),
            ]
        await record_audit(
            actor,
            "transfer.discrepancy_returned",
            branch_id=dst,
            target=("transfer_discrepancy", found.id),
            kind=found.kind.value,
            quantity=q,
        )
        posting = _posting(f"transfer-discrepancy:{found.id}:return", movements[-1].reason, actor, transfer)
        try:
            await apply_to_ledger(tx, posting, movements)
        except OperationError as error:
            raise remap_fields(error, {"lines.0.quantity": "discrepancyId"}) from None
        return found

    async def reload(pk: int) -> TransferDiscrepancy:
        return await TransferDiscrepancy.get(id=pk)

    return await step("returnDiscrepancyToStock", key, {"discrepancy": discrepancy_id}, work, reload)
