"""Transfers between branches: request, approve, cancel — and the rules every step shares.

A transfer goes DRAFT → REQUESTED → APPROVED → IN_TRANSIT → (PARTIALLY_RECEIVED →) RECEIVED →
CLOSED, or CANCELLED before it leaves. The steps that move stock (dispatch, receive, close,
returning a discrepancy) are in operations/transfers/movement.py; this module holds the paperwork
steps and the pieces both use:

- every step is one transaction that first claims the client's idempotency key (a retry returns
  the first result), then takes the transfer's row with a guarded UPDATE that also checks its
  state (`... WHERE id = ? AND status IN (...)`). On PostgreSQL that UPDATE holds the row lock
  until commit, so two dispatches or two receipts of one transfer take turns and the second sees
  the first's outcome; on SQLite the write takes the database's write lock, which serialises them
  the same way. Nothing reads a state and writes it back.
- who may do what, where (checked here, so GraphQL and any other caller share it):
  requesting or cancelling needs ADJUST_STOCK at the source or the destination, approving needs
  APPROVE at the source (its branch manager, an owner or an admin), dispatching needs
  ADJUST_STOCK at the source, receiving and returning discrepancies ADJUST_STOCK at the
  destination.
"""

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from models.branches import Branch
from models.transfers import Transfer, TransferLine, TransferStatus
from operations.directory import VariantRef, resolve_distinct_variants
from operations.kernel import (
    AccessDenied,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    Problems,
    Transaction,
    db_time,
    fetch,
    record_audit,
    require,
    require_signed_in,
    run_once,
    transaction,
)
from operations.stock import MAX_UNITS_PER_MOVEMENT

# Receiving a line posts up to three movements; the ledger takes 500 per posting.
MAX_LINES = 150
MAX_NOTE = 1000
MAX_REASON = 200
MAX_UNITS = MAX_UNITS_PER_MOVEMENT

NOT_YET_DISPATCHED = (TransferStatus.DRAFT, TransferStatus.REQUESTED, TransferStatus.APPROVED)
IN_TRANSIT = (TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class RequestLine:
    variant: VariantRef
    quantity: int


@dataclass(frozen=True)
class NewTransfer:
    source_branch_id: int
    destination_branch_id: int
    lines: list[RequestLine]
    idempotency_key: str
    note: str | None = None
    submit: bool = False  # straight to REQUESTED instead of a DRAFT


# --- shared by every step ----------------------------------------------------------------------


def is_units(value: Any, minimum: int = 1) -> bool:
    """A whole number of units (not a bool) in minimum..MAX_UNITS."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_UNITS


def check_text(problems: Problems, value: str | None, limit: int, field: str) -> None:
    if value is not None and len(value) > limit:
        problems.add(ErrorCode.INVALID, f"{field} must be at most {limit} characters", field)


def require_any(actor: Actor, *options: tuple[Permission, int], what: str) -> None:
    """Allowed when any (permission, branch) pair is; the refusal names the first."""
    require_signed_in(actor)
    if not any(actor.can(permission, branch_id) for permission, branch_id in options):
        permission, branch_id = options[0]
        try:
            require(actor, permission, branch_id)
        except AccessDenied as denied:
            raise AccessDenied(f"{actor.label} may not {what} (needs {permission.value} at branch {branch_id})") from (
                denied
            )


async def load(transfer_id: int) -> Transfer:
    transfer = await Transfer.get_or_none(id=transfer_id)
    if transfer is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such transfer", "transferId")
    return transfer


async def take(tx: Transaction, transfer: Transfer, allowed: tuple[TransferStatus, ...], **changes: Any) -> None:
    """Lock the transfer row if it is in one of `allowed` states, applying `changes` in the same
    statement; otherwise WRONG_STATE (with the state it is really in)."""
    now = datetime.now(UTC)
    columns = {"version": None, "updated_at": now, **changes}
    sets, values = [], []
    for column, value in columns.items():
        if column == "version":
            sets.append("version = version + 1")
            continue
        sets.append(f"{column} = ?")
        values.append(db_time(tx.conn, value) if isinstance(value, datetime) else _plain(value))
    states = ", ".join("?" for _ in allowed)
    rows = await fetch(
        tx.conn,
        f"UPDATE transfer SET {', '.join(sets)} WHERE id = ? AND status IN ({states}) RETURNING id",
        [*values, transfer.id, *(s.value for s in allowed)],
    )
    if not rows:
        current = await Transfer.get(id=transfer.id)
        wanted = " or ".join(s.value.upper() for s in allowed)
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"transfer {current.number} is {current.status.value.upper()}; this needs it {wanted}",
            "transferId",
        )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, TransferStatus) else value


async def step(
    operation: str,
    key: str,
    request: dict,
    work: Callable[[Transaction], Awaitable[Any]],
    reload: Callable[[int], Awaitable[Any]] | None = None,
) -> tuple[Any, bool]:
    """One idempotent step: the key is claimed first, so a retry (even a concurrent one, which
    waits on the key's unique index) gets the first result instead of doing it again."""
    reload = reload or (lambda pk: Transfer.get(id=pk))
    async with transaction() as tx:
        result, replayed = await run_once(tx, operation, key, request, lambda: work(tx), reload)
    return await reload(result.id), replayed


def label_fields(actor: Actor, prefix: str, now: datetime, *, staff_id: bool = True) -> dict[str, Any]:
    out = {f"{prefix}_by": actor.label[:120], f"{prefix}_at": now}
    if staff_id:
        out[f"{prefix}_by_staff_id"] = actor.staff_id
    return out


def remap_fields(error: OperationError, fields: dict[str, str]) -> OperationError:
    """The ledger names the movement it could not post; the client knows its own input lines."""
    return OperationError([Problem(p.code, p.message, fields.get(p.field, p.field)) for p in error.problems])


# --- request, submit, approve, cancel ----------------------------------------------------------


async def create_transfer(actor: Actor, new: NewTransfer) -> tuple[Transfer, bool]:
    """Returns (transfer, replayed). The requester works at either end: a branch asking for stock,
    or one offering it."""
    src, dst = new.source_branch_id, new.destination_branch_id
    require_any(actor, (Permission.ADJUST_STOCK, dst), (Permission.ADJUST_STOCK, src), what="request a transfer")
    _validate(new)
    found = set(await Branch.filter(id__in=[src, dst]).values_list("id", flat=True))
    problems = Problems()
    for branch_id, field in ((src, "sourceBranchId"), (dst, "destinationBranchId")):
        if branch_id not in found:
            problems.add(ErrorCode.NOT_FOUND, f"branch {branch_id} does not exist", field)
    problems.raise_if_any()
    variant_ids = await resolve_distinct_variants([line.variant for line in new.lines])

    async def write(tx: Transaction) -> Transfer:
        now = datetime.now(UTC)
        transfer = await Transfer.create(
            number=await _next_number(tx),
            source_branch_id=src,
            destination_branch_id=dst,
            status=TransferStatus.REQUESTED if new.submit else TransferStatus.DRAFT,
            note=new.note,
            requested_by=actor.label[:120],
            requested_by_staff_id=actor.staff_id,
            requested_at=now if new.submit else None,
        )
        await TransferLine.bulk_create(
            [
                TransferLine(transfer_id=transfer.id, variant_id=variant_id, quantity_requested=line.quantity)
                for variant_id, line in zip(variant_ids, new.lines, strict=True)
            ]
        )
        await record_audit(
            actor,
            "transfer.requested" if new.submit else "transfer.drafted",
            branch_id=dst,
            target=("transfer", transfer.id),
            source_branch_id=src,
            lines=len(new.lines),
        )
        return transfer

    return await step("createTransfer", new.idempotency_key, asdict(new), write)


def _validate(new: NewTransfer) -> None:
    problems = Problems()
    problems.check_key(new.idempotency_key)
    check_text(problems, new.note, MAX_NOTE, "note")
    if new.source_branch_id == new.destination_branch_id:
        problems.add(ErrorCode.INVALID, "a transfer goes to another branch", "destinationBranchId")
    if not new.lines:
        problems.add(ErrorCode.INVALID, "a transfer needs at least one line", "lines")
    if len(new.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines per transfer", "lines")
    for i, line in enumerate(new.lines):
        if not is_units(line.quantity):
            problems.add(ErrorCode.INVALID, f"quantity must be a whole number 1–{MAX_UNITS:,}", f"lines.{i}.quantity")
    problems.raise_if_any()


async def _next_number(tx: Transaction) -> str:
    """TR-000123: one run per deployment, taken inside the creating transaction (no holes on rollback)."""
    sql = "UPDATE transfer_number_sequence SET last_number = last_number + 1 WHERE id = 1 RETURNING last_number"
    rows = await fetch(tx.conn, sql)
    if not rows:
        await fetch(
            tx.conn,
            "INSERT INTO transfer_number_sequence (id, last_number) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        )
        rows = await fetch(tx.conn, sql)
    return f"TR-{rows[0]['last_number']:06d}"


async def submit_transfer(actor: Actor, transfer_id: int, key: str) -> tuple[Transfer, bool]:
    """A draft becomes a request the source's manager sees."""
    transfer = await load(transfer_id)
    src, dst = transfer.source_branch_id, transfer.destination_branch_id
    require_any(actor, (Permission.ADJUST_STOCK, dst), (Permission.ADJUST_STOCK, src), what="request a transfer")
    _key_only(key)

    async def work(tx: Transaction) -> Transfer:
        now = datetime.now(UTC)
        await take(tx, transfer, (TransferStatus.DRAFT,), status=TransferStatus.REQUESTED, requested_at=now)
        await record_audit(actor, "transfer.requested", branch_id=dst, target=("transfer", transfer.id))
        return transfer

    return await step("submitTransfer", key, {"transfer": transfer_id}, work)


async def approve_transfer(actor: Actor, transfer_id: int, key: str) -> tuple[Transfer, bool]:
    """The source gives the stock away, so the source's manager (or an owner/admin) approves."""
    transfer = await load(transfer_id)
    require(actor, Permission.APPROVE, transfer.source_branch_id)
    _key_only(key)

    async def work(tx: Transaction) -> Transfer:
        changes = label_fields(actor, "approved", datetime.now(UTC))
        await take(tx, transfer, (TransferStatus.REQUESTED,), status=TransferStatus.APPROVED, **changes)
        await record_audit(
            actor, "transfer.approved", branch_id=transfer.source_branch_id, target=("transfer", transfer.id)
        )
        return transfer

    return await step("approveTransfer", key, {"transfer": transfer_id}, work)


async def cancel_transfer(actor: Actor, transfer_id: int, key: str, reason: str | None = None) -> tuple[Transfer, bool]:
    """Only before dispatch: once units have left, the way out is receiving (or closing) them."""
    transfer = await load(transfer_id)
    src, dst = transfer.source_branch_id, transfer.destination_branch_id
    require_any(
        actor,
        (Permission.ADJUST_STOCK, dst),
        (Permission.ADJUST_STOCK, src),
        (Permission.APPROVE, src),
        what="cancel a transfer",
    )
    problems = Problems()
    problems.check_key(key)
    check_text(problems, reason, MAX_REASON, "reason")
    problems.raise_if_any()

    async def work(tx: Transaction) -> Transfer:
        changes = label_fields(actor, "cancelled", datetime.now(UTC), staff_id=False)
        await take(tx, transfer, NOT_YET_DISPATCHED, status=TransferStatus.CANCELLED, **changes)
        await record_audit(actor, "transfer.cancelled", branch_id=dst, target=("transfer", transfer.id), reason=reason)
        return transfer

    return await step("cancelTransfer", key, {"transfer": transfer_id, "reason": reason}, work)


def _key_only(key: str) -> None:
    problems = Problems()
    problems.check_key(key)
    problems.raise_if_any()
