"""Registers and cash: open a register at a counter, cashier shifts, cash in/out, close with a count.

"One open register per counter" is a database fact: Register.open_counter_id is UNIQUE and set to
NULL on close, so two tills racing to open the same counter cannot both win.

Every write that needs the register open (a sale via `shift_for`, a cash movement, the close) first
runs a guarded UPDATE on the register row (`_hold_open`). On PostgreSQL that row lock orders it
against a concurrent close: the close waits for a sale still committing and then counts it, and a
sale that comes after the close finds the register closed. SQLite runs one transaction at a time.

Expected cash = opening float + Σ sale.cash_taken (placed, updated or refunded sales; a voided sale
gave its cash back) − Σ return.cash_paid_out + cash in − cash out. cash_taken already nets off the
change given. Sums are taken in whole paisa in SQL, so SQLite (which keeps decimals as text) and
PostgreSQL give the same exact answer.

The X/Z reports, which read these figures, are in operations/counter/register_reports.py.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.branches import Counter
from models.registers import CashMovement, CashMovementKind, Register, RegisterStatus, Shift
from models.sales import SaleStatus
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)

PKR = Decimal("0.01")
MAX_CASH = Decimal("10000000")  # one float or cash movement; anything bigger is a typing slip
MAX_COUNTED = Decimal("999999999999.99")  # what the register's columns hold
DENOMINATIONS = (5000, 1000, 500, 100, 50, 20, 10, 5, 2, 1)  # PKR notes and coins in circulation
MAX_PIECES = 1_000_000  # of one note or coin in one drawer
MAX_REASON = 200
# Sales whose cash is in the drawer. Drafts took none; a voided sale handed it back.
CASH_SALE_STATUSES = (SaleStatus.PLACED, SaleStatus.UPDATED, SaleStatus.REFUNDED)
IN_CASH_SALES = "status IN (" + ", ".join(f"'{s.value}'" for s in CASH_SALE_STATUSES) + ")"
CASH_IN = f"kind = '{CashMovementKind.CASH_IN.value}'"
CASH_OUT = f"kind = '{CashMovementKind.CASH_OUT.value}'"


def paisa_sum(column: str, when: str = "1 = 1") -> str:
    """SQL summing a money column exactly, in whole paisa (see the module docstring)."""
    return f"COALESCE(SUM(CASE WHEN {when} THEN CAST(ROUND(CAST({column} AS NUMERIC) * 100) AS BIGINT) ELSE 0 END), 0)"


def rupees(paisa) -> Decimal:
    return (Decimal(int(paisa or 0)) / 100).quantize(PKR)


@dataclass(frozen=True)
class DrawerCash:
    opening_float: Decimal
    cash_sales: Decimal
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal

    @property
    def expected(self) -> Decimal:
        return self.opening_float + self.cash_sales - self.cash_refunds + self.cash_in - self.cash_out


async def drawer_cash(conn, register: Register) -> DrawerCash:
    """What should be in the drawer now, from one aggregate query."""
    [row] = await fetch(
        conn,
        f"SELECT (SELECT {paisa_sum('cash_taken', IN_CASH_SALES)} FROM sale WHERE register_id = ?) AS cash_sales,"
        f" (SELECT {paisa_sum('cash_paid_out')} FROM sale_return WHERE register_id = ?) AS cash_refunds,"
        f" (SELECT {paisa_sum('amount', CASH_IN)} FROM cash_movement WHERE register_id = ?) AS cash_in,"
        f" (SELECT {paisa_sum('amount', CASH_OUT)} FROM cash_movement WHERE register_id = ?) AS cash_out",
        [register.id] * 4,
    )
    sums = (rupees(row[k]) for k in ("cash_sales", "cash_refunds", "cash_in", "cash_out"))
    return DrawerCash(register.opening_float, *sums)


def _amount(problems: Problems, value, field: str, *, maximum: Decimal, positive: bool) -> Decimal:
    """A rupee amount with at most 2 decimals (10.50 yes, 10.505 no), within bounds."""
    try:
        value = Decimal(value)
        exact = value.is_finite() and value == value.quantize(PKR)
    except (InvalidOperation, TypeError, ValueError):
        exact = False
    if not exact:
        problems.add(ErrorCode.INVALID, f"{field} must be an amount in rupees with at most 2 decimals", field)
        return Decimal(0)
    if value < 0 or (positive and value == 0) or value > maximum:
        lowest = "more than 0" if positive else "0 or more"
        problems.add(ErrorCode.INVALID, f"{field} must be {lowest} and at most {maximum:,}", field)
    return value.quantize(PKR)


def _check_staff(problems: Problems, actor: Actor, doing: str) -> None:
    # Registers, shifts and cash logs name the person responsible; the system is nobody's till.
    if actor.staff_id is None:
        problems.add(ErrorCode.INVALID, f"{doing} must be done by a signed-in member of staff")


def _key_reused(what: str) -> OperationError:
    message = f"this idempotencyKey was already used for a different {what}"
    return OperationError.single(ErrorCode.IDEMPOTENCY_KEY_REUSED, message, "idempotencyKey")


async def get_register(register_id: int) -> Register:
    """The register, or NOT_FOUND on registerId."""
    register = await Register.get_or_none(id=register_id)
    if register is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "register does not exist", "registerId")
    return register


async def _hold_open(register_id: int) -> None:
    """Lock the register row for the rest of the transaction, or fail if it is closed.

    A no-op UPDATE guarded by status: it takes PostgreSQL's row lock (see the module docstring)
    and, unlike a read, cannot be fooled by a close that commits in between."""
    if not await Register.filter(id=register_id, status=RegisterStatus.OPEN).update(status=RegisterStatus.OPEN):
        raise OperationError.single(ErrorCode.REGISTER_CLOSED, f"register #{register_id} is closed", "registerId")


async def current_register(counter_id: int) -> Register | None:
    """The open register at this counter, if any."""
    return await Register.get_or_none(open_counter_id=counter_id)


async def shift_for(register: Register, staff_id: int) -> Shift:
    """This cashier's open shift in the register, starting one if none (a cashier who signs in at a
    counter mid-day simply gets a shift). Call it inside the sale's transaction: it holds the
    register open until that transaction ends, and raises REGISTER_CLOSED once it is closed."""
    await _hold_open(register.id)
    shift = await Shift.filter(register_id=register.id, cashier_id=staff_id, ended_at=None).order_by("id").first()
    return shift or await Shift.create(register_id=register.id, cashier_id=staff_id)


@dataclass(frozen=True)
class Held:
    """The counter's open register, held open until the transaction ends, and the cashier's shift in it."""

    register_id: int
    shift_id: int


async def hold_counter_register(tx, counter_id: int, staff_id: int) -> Held | None:
    """`current_register` + `shift_for` in one statement, for a sale's transaction: the counter's open register
    row locked as `_hold_open` locks it (a close waits for the sale; a sale after a close finds none), with this
    cashier's open shift, which is started if there is none. None when the counter has no open register."""
    rows = await fetch(
        tx.conn,
        "UPDATE register SET status = status WHERE open_counter_id = ? AND status = 'open'"
        " RETURNING id, (SELECT s.id FROM shift s WHERE s.register_id = register.id AND s.cashier_id = ?"
        " AND s.ended_at IS NULL ORDER BY s.id LIMIT 1) AS shift_id",
        [counter_id, staff_id],
    )
    if not rows:
        return None
    register_id, shift_id = rows[0]["id"], rows[0]["shift_id"]
    if shift_id is None:
        shift_id = (await Shift.create(register_id=register_id, cashier_id=staff_id)).id
    return Held(register_id, shift_id)


async def open_register(
    actor: Actor, counter_id: int, opening_float: Decimal, idempotency_key: str | None = None
) -> Register:
    """Open the counter's register with the float counted into the drawer; starts the opener's shift."""
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.SELL, counter.branch_id)
    problems = Problems()
    opening_float = _amount(problems, opening_float, "openingFloat", maximum=MAX_CASH, positive=False)
    problems.check_key(idempotency_key, required=False)
    _check_staff(problems, actor, "opening a register")
    if not counter.active:
        problems.add(ErrorCode.WRONG_STATE, "this counter is out of use", "counterId")
    problems.raise_if_any()

    async def earlier() -> Register | None:
        register = await Register.get_or_none(idempotency_key=idempotency_key) if idempotency_key else None
        if register is not None and (register.counter_id, register.opening_float) != (counter_id, opening_float):
            raise _key_reused("openRegister request")
        return register

    async with transaction():
        if first := await earlier():
            return first
        # Holds the counter's row to the commit: a deactivateCounter waits for this register, or came first.
        if not await Counter.filter(id=counter_id, active=True).update(active=True):
            raise OperationError.single(ErrorCode.WRONG_STATE, "this counter is out of use", "counterId")
        try:
            async with in_transaction():  # savepoint: a unique violation must not abort PostgreSQL's transaction
                register = await Register.create(
                    counter_id=counter_id,
                    branch_id=counter.branch_id,
                    open_counter_id=counter_id,
                    opening_float=opening_float,
                    opened_by_id=actor.staff_id,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            if first := await earlier():  # the same request, sent twice at once: the first one won
                return first
            other = await current_register(counter_id)
            which = f" (#{other.id})" if other else ""
            raise OperationError.single(
                ErrorCode.DUPLICATE, f"counter {counter.code} already has an open register{which}", "counterId"
            ) from None
        await Shift.create(register_id=register.id, cashier_id=actor.staff_id)
        await record_audit(
            actor,
            "register.opened",
            branch_id=counter.branch_id,
            target=("register", register.id),
            counter_id=counter_id,
            opening_float=opening_float,
        )
        return register


async def end_shift(actor: Actor, register_id: int, idempotency_key: str | None = None) -> Shift:
    """The caller stops working this register (the register stays open for the next cashier).

    With a key, a retry returns the shift ended the first time and ends nothing else (not a shift the
    cashier started since); the key is the caller's: another cashier's request under it is refused."""
    register = await get_register(register_id)
    require(actor, Permission.SELL, register.branch_id)
    problems = Problems()
    problems.check_key(idempotency_key, required=False)
    _check_staff(problems, actor, "ending a shift")
    problems.raise_if_any()

    async def end() -> Shift:
        ended = await Shift.filter(register_id=register_id, cashier_id=actor.staff_id, ended_at=None).update(
            ended_at=datetime.now(UTC)
        )
        if not ended:
            raise OperationError.single(ErrorCode.NOT_FOUND, "you have no open shift in this register", "registerId")
        return await Shift.filter(register_id=register_id, cashier_id=actor.staff_id).order_by("-id").first()

    async with transaction() as tx:
        request = {"registerId": register_id, "cashier": actor.staff_id}
        shift, _ = await run_once(tx, "endShift", idempotency_key, request, end, lambda pk: Shift.get(id=pk))
        return shift


async def record_cash(
    actor: Actor,
    register_id: int,
    kind: CashMovementKind,
    amount: Decimal,
    reason: str,
    idempotency_key: str | None = None,
) -> CashMovement:
    """Cash put into or taken out of the drawer outside a sale, with the reason written down."""
    register = await get_register(register_id)
    require(actor, Permission.SELL, register.branch_id)
    kind = CashMovementKind(kind)
    problems = Problems()
    amount = _amount(problems, amount, "amount", maximum=MAX_CASH, positive=True)
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= MAX_REASON:
        problems.add(ErrorCode.INVALID, f"reason must be 1–{MAX_REASON} characters", "reason")
    problems.check_key(idempotency_key, required=False)
    _check_staff(problems, actor, "recording cash")
    problems.raise_if_any()

    async def earlier() -> CashMovement | None:
        movement = await CashMovement.get_or_none(idempotency_key=idempotency_key) if idempotency_key else None
        request = (register_id, kind, amount, reason)
        if movement is not None and (movement.register_id, movement.kind, movement.amount, movement.reason) != request:
            raise _key_reused("cash movement")
        return movement

    async with transaction() as tx:
        # Looked up before and after taking the register: a retry finds its original even once the
        # register is closed, and a retry that waited on the lock finds the one that just committed.
        if first := await earlier():
            return first
        await _hold_open(register_id)
        if first := await earlier():
            return first
        if kind is CashMovementKind.CASH_OUT:
            in_drawer = (await drawer_cash(tx.conn, register)).expected
            if amount > in_drawer:
                raise OperationError.single(
                    ErrorCode.INVALID, f"only {in_drawer} is expected in the drawer; cannot take out {amount}", "amount"
                )
        shift = await Shift.filter(register_id=register_id, cashier_id=actor.staff_id, ended_at=None).first()
        try:
            async with in_transaction():  # savepoint, as in open_register
                movement = await CashMovement.create(
                    register_id=register_id,
                    shift_id=shift.id if shift else None,
                    kind=kind,
                    amount=amount,
                    reason=reason,
                    staff_id=actor.staff_id,
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            if first := await earlier():
                return first
            raise
        action = "cash.in" if kind is CashMovementKind.CASH_IN else "cash.out"
        await record_audit(
            actor, action, branch_id=register.branch_id, target=("register", register_id), amount=amount, reason=reason
        )
        return movement


def _counted(problems: Problems, total, denominations: dict[int, int] | None) -> tuple[Decimal, dict | None]:
    """The cash counted at close, from a total or from the count of each note and coin."""
    if (total is None) == (denominations is None):
        problems.add(ErrorCode.INVALID, "give either the total or the denominations, exactly one", "counted")
        return Decimal(0), None
    if total is not None:
        return _amount(problems, total, "counted.total", maximum=MAX_COUNTED, positive=False), None
    valid: dict[int, int] = {}
    for value, pieces in denominations.items():
        if value not in DENOMINATIONS:
            shown = ", ".join(map(str, DENOMINATIONS))
            problems.add(ErrorCode.INVALID, f"{value} is not a PKR note or coin ({shown})", "counted.denominations")
        elif isinstance(pieces, bool) or not isinstance(pieces, int) or not 0 <= pieces <= MAX_PIECES:
            problems.add(ErrorCode.INVALID, f"count of {value}s must be 0–{MAX_PIECES:,}", "counted.denominations")
        else:
            valid[value] = pieces
    counted = Decimal(sum(value * pieces for value, pieces in valid.items())).quantize(PKR)
    return counted, {str(value): valid[value] for value in sorted(valid, reverse=True)}


async def close_register(
    actor: Actor,
    register_id: int,
    *,
    counted_total: Decimal | None = None,
    denominations: dict[int, int] | None = None,
    idempotency_key: str | None = None,
) -> Register:
    """Close with the cash counted in the drawer; records expected cash and over/short, ends shifts."""
    register = await get_register(register_id)
    require(actor, Permission.SELL, register.branch_id)
    problems = Problems()
    counted, pieces = _counted(problems, counted_total, denominations)
    problems.check_key(idempotency_key, required=False)
    problems.raise_if_any()
    request = {"registerId": register_id, "counted": str(counted), "denominations": pieces}

    async def close() -> Register:
        now = datetime.now(UTC)
        # Guarded: of two concurrent closes only one matches status=open (PostgreSQL re-checks the
        # row after the first commits), and the row lock is taken before the cash is summed.
        closed = await Register.filter(id=register_id, status=RegisterStatus.OPEN).update(
            status=RegisterStatus.CLOSED, open_counter_id=None, closed_at=now, closed_by_id=actor.staff_id
        )
        if not closed:
            raise OperationError.single(
                ErrorCode.REGISTER_CLOSED, f"register #{register_id} is already closed", "registerId"
            )
        expected = (await drawer_cash(tx.conn, register)).expected
        over_short = counted - expected
        await Register.filter(id=register_id).update(
            expected_cash=expected, counted_cash=counted, over_short=over_short, counted_denominations=pieces
        )
        await Shift.filter(register_id=register_id, ended_at=None).update(ended_at=now)
        await record_audit(
            actor,
            "register.closed",
            branch_id=register.branch_id,
            target=("register", register_id),
            expected=expected,
            counted=counted,
            over_short=over_short,
        )
        return await Register.get(id=register_id)

    async with transaction() as tx:
        result, _ = await run_once(tx, "closeRegister", idempotency_key, request, close, lambda pk: Register.get(id=pk))
        return result
