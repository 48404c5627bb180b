"""Registers and cash: open, cash in/out, close with a count, end a shift; X/Z reports."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import UNSET, relay
from strawberry.types import Info

from models import registers as models
from models.branches import Counter
from operations.counter import close_register as ops_close_register
from operations.counter import current_register as ops_current_register
from operations.counter import end_shift as ops_end_shift
from operations.counter import open_register as ops_open_register
from operations.counter import record_cash
from operations.counter import register_report as ops_register_report
from operations.kernel import Actor, ErrorCode, OperationError, Permission, require, visible_branches
from resolvers.days import within_days
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.pagination import decode_cursor, keyset_page
from schema.registers import (
    CashMovement,
    CloseRegisterInput,
    CloseRegisterPayload,
    EndShiftInput,
    EndShiftPayload,
    OpenRegisterInput,
    OpenRegisterPayload,
    RecordCashMovementInput,
    RecordCashMovementPayload,
    Register,
    RegisterReport,
    Shift,
    may_view,
)


def _query_id(value: str, type_name: str, field: str) -> int:
    """Queries have no payload: a bad ID is a GraphQL error the client can read."""
    try:
        return ids.decode(value, type_name, field)
    except OperationError as error:
        raise BadRequest(str(error), field=field) from None


async def current_register(info: Info, counter_id: strawberry.ID) -> Register | None:
    """The open register at this counter, or null when it has to be opened first."""
    counter_pk = _query_id(counter_id, "Counter", "counterId")
    counter = await Counter.get_or_none(id=counter_pk)
    if counter is None:
        raise BadRequest(f"counter {counter_id} does not exist", code="NOT_FOUND", field="counterId")
    if not may_view(info.context.actor, counter.branch_id):
        require(info.context.actor, Permission.VIEW_SALES, counter.branch_id)  # raises, with the right code
    register = await ops_current_register(counter_pk)
    return Register.from_model(register) if register else None


async def register_report(info: Info, register_id: strawberry.ID) -> RegisterReport:
    """The X report of an open register (mid-shift), or the Z report of a closed one."""
    register_pk = _query_id(register_id, "Register", "registerId")
    try:
        report = await ops_register_report(info.context.actor, register_pk)
    except OperationError as error:
        raise BadRequest(str(error), code="NOT_FOUND", field="registerId") from None
    return RegisterReport.from_report(report)


async def cash_movements(
    info: Info,
    first: int,
    after: str | None = None,
    register_id: strawberry.ID | None = None,
    branch_id: strawberry.ID | None = None,
    from_: Annotated[
        date | None,
        strawberry.argument(name="from", description="From this day on, as each branch's calendar has it."),
    ] = None,
    to: Annotated[
        date | None, strawberry.argument(description="Up to and including this day, as each branch's calendar has it.")
    ] = None,
) -> relay.Connection[CashMovement]:
    """Cash put into or taken out of drawers, oldest first: one register's, one branch's, or at every branch
    where the caller may see registers (those who sell there or see its sales or reports)."""
    actor = info.context.actor
    visible = visible_branches(actor)
    queryset = models.CashMovement.all()
    branch_pks: list[int] | None = None if visible is None else [b for b in sorted(visible) if may_view(actor, b)]
    if register_id is not None:
        register = await models.Register.get_or_none(id=_query_id(register_id, "Register", "registerId"))
        if register is None:
            raise BadRequest(f"register {register_id} does not exist", code="NOT_FOUND", field="registerId")
        _require_view(actor, register.branch_id)
        queryset = queryset.filter(register_id=register.id)
        branch_pks = [register.branch_id]
    if branch_id is not None:
        branch_pk = _query_id(branch_id, "Branch", "branchId")
        _require_view(actor, branch_pk)
        branch_pks = [pk for pk in branch_pks if pk == branch_pk] if register_id is not None else [branch_pk]
    if register_id is None and branch_id is None:
        _require_view(actor, None)  # someone who may see no register anywhere is refused, not shown nothing
    if branch_pks is not None:
        queryset = queryset.filter(register__branch_id__in=branch_pks)
    queryset = await within_days(queryset, from_, to, branch_ids=branch_pks, at="at", branch="register__branch_id")
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=CashMovement.from_model
    )


def _require_view(actor: Actor, branch_id: int | None) -> None:
    if not may_view(actor, branch_id):
        require(actor, Permission.VIEW_SALES, branch_id)  # raises, with the right code


async def open_register(info: Info, input: OpenRegisterInput) -> OpenRegisterPayload:
    async def run():
        counter_pk = ids.decode(input.counter_id, "Counter", "counterId")
        register = await ops_open_register(info.context.actor, counter_pk, input.opening_float, input.idempotency_key)
        return {"register": Register.from_model(register)}

    return await payload(OpenRegisterPayload, run)


async def record_cash_movement(info: Info, input: RecordCashMovementInput) -> RecordCashMovementPayload:
    async def run():
        register_pk = ids.decode(input.register_id, "Register", "registerId")
        movement = await record_cash(
            info.context.actor,
            register_pk,
            models.CashMovementKind(input.kind.value),
            input.amount,
            input.reason,
            input.idempotency_key,
        )
        register = await models.Register.get(id=register_pk)
        return {"cash_movement": CashMovement.from_model(movement), "register": Register.from_model(register)}

    return await payload(RecordCashMovementPayload, run)


def _counted(input: CloseRegisterInput) -> tuple[Decimal | None, dict[int, int] | None]:
    """(total, pieces of each note and coin): the one given (CashCountInput is @oneOf)."""
    if input.counted.denominations is UNSET or input.counted.denominations is None:
        return (None if input.counted.total is UNSET else input.counted.total), None
    counts: dict[int, int] = {}
    for i, line in enumerate(input.counted.denominations):
        if line.value in counts:  # two lines for the 1000s: the cashier meant one, we cannot tell which
            field = f"counted.denominations.{i}.value"
            raise OperationError.single(ErrorCode.INVALID, f"{line.value} is listed twice", field)
        counts[line.value] = line.count
    return None, counts


async def close_register(info: Info, input: CloseRegisterInput) -> CloseRegisterPayload:
    async def run():
        register_pk = ids.decode(input.register_id, "Register", "registerId")
        total, denominations = _counted(input)
        register = await ops_close_register(
            info.context.actor,
            register_pk,
            counted_total=total,
            denominations=denominations,
            idempotency_key=input.idempotency_key,
        )
        return {"register": Register.from_model(register)}

    return await payload(CloseRegisterPayload, run)


async def end_shift(info: Info, input: EndShiftInput) -> EndShiftPayload:
    async def run():
        register_pk = ids.decode(input.register_id, "Register", "registerId")
        shift = await ops_end_shift(info.context.actor, register_pk, input.idempotency_key)
        return {"shift": Shift.from_model(shift)}

    return await payload(EndShiftPayload, run)
