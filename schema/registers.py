"""Registers and cash: the Register node, X/Z reports, and the register mutations' inputs and payloads."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import registers as models
from models.sales import TenderType
from operations.counter import RegisterReport as ops_RegisterReport
from operations.counter import register_report
from operations.kernel import Actor, Permission
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.staff import Staff, staff_member
from schema.types import Branch, Counter, Money

RegisterStatus = mirrored(models.RegisterStatus, "RegisterStatus")
CashMovementKind = mirrored(
    models.CashMovementKind,
    "CashMovementKind",
    "CASH_IN: e.g. change brought from the bank. CASH_OUT: e.g. paid the tea boy, banked the takings.",
)


def may_view(actor: Actor, branch_id: int | None) -> bool:
    """Who may see a register's figures: those who sell at the branch or see its sales/reports (branch None:
    at some branch)."""
    return any(actor.can(p, branch_id) for p in (Permission.SELL, Permission.VIEW_SALES, Permission.VIEW_REPORTS))


def _money(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money(amount=amount)


@strawberry.type(description="Cash sold, refunded or tendered, split by how it was paid.")
class TenderTotals:
    cash: Money
    card: Money
    bank: Money = strawberry.field(description="Bank transfer, Raast, JazzCash, Easypaisa.")
    loyalty: Money = strawberry.field(description="Loyalty points, at the value they were paid or given back at.")

    @classmethod
    def from_totals(cls, totals: dict[TenderType, Decimal]) -> Self:
        return cls(**{t.value: Money(amount=totals[t]) for t in TenderType})


@strawberry.type(description="One cashier's shift in the register and what they sold.")
class ShiftSummary:
    cashier_name: str = strawberry.field(
        description="The cashier's name as the report prints it, for whoever may read the report "
        "(`cashier` is shown only to those who may see staff)."
    )
    started_at: datetime
    ended_at: datetime | None
    sales_count: int
    sales_total: Money
    cashier_pk: strawberry.Private[int]

    @strawberry.field(description="Null when the caller may not see this member of staff.")
    async def cashier(self, info: Info) -> Staff | None:
        return await staff_member(info, self.cashier_pk)


_REPORT_AMOUNTS = (
    *("opening_float", "gross_sales", "discounts", "tax", "sales_total", "voided_total", "refunded_total"),
    *("cash_sales", "cash_refunds", "cash_in", "cash_out", "expected_cash"),
)


@strawberry.type(
    description="The X report while the register is open (final = false), the Z report once it is closed. "
    "expectedCash = openingFloat + cashSales - cashRefunds + cashIn - cashOut; overShort = countedCash - expectedCash."
)
class RegisterReport:
    final: bool
    opened_at: datetime
    opened_by_name: str = strawberry.field(description="As the report prints it.")
    closed_at: datetime | None
    closed_by_name: str | None = strawberry.field(description="As the report prints it.")
    opening_float: Money
    sales_count: int = strawberry.field(description="Placed, updated or refunded sales (voided ones apart).")
    gross_sales: Money = strawberry.field(description="Before discounts.")
    discounts: Money
    tax: Money
    sales_total: Money = strawberry.field(description="What customers were charged.")
    voided_count: int
    voided_total: Money
    returns_count: int
    refunded_total: Money
    sales_by_tender: TenderTotals = strawberry.field(description="As tendered: cash includes change handed back.")
    refunds_by_tender: TenderTotals
    cash_sales: Money = strawberry.field(description="Cash kept from sales, after change.")
    cash_refunds: Money
    cash_in: Money
    cash_out: Money
    expected_cash: Money
    counted_cash: Money | None
    over_short: Money | None = strawberry.field(description="Negative: the drawer is short.")
    shifts: list[ShiftSummary]
    register_pk: strawberry.Private[int]
    counter_pk: strawberry.Private[int]
    branch_pk: strawberry.Private[int]
    opened_by_pk: strawberry.Private[int]
    closed_by_pk: strawberry.Private[int | None]

    @classmethod
    def from_report(cls, r: ops_RegisterReport) -> Self:
        money = {name: Money(amount=getattr(r, name)) for name in _REPORT_AMOUNTS}
        return cls(
            final=r.final,
            register_pk=r.register_id,
            counter_pk=r.counter_id,
            branch_pk=r.branch_id,
            opened_at=r.opened_at,
            opened_by_name=r.opened_by[1],
            opened_by_pk=r.opened_by[0],
            closed_at=r.closed_at,
            closed_by_name=r.closed_by[1] if r.closed_by else None,
            closed_by_pk=r.closed_by[0] if r.closed_by else None,
            sales_count=r.sales_count,
            voided_count=r.voided_count,
            returns_count=r.returns_count,
            sales_by_tender=TenderTotals.from_totals(r.sales_by_tender),
            refunds_by_tender=TenderTotals.from_totals(r.refunds_by_tender),
            counted_cash=_money(r.counted_cash),
            over_short=_money(r.over_short),
            shifts=[
                ShiftSummary(
                    cashier_pk=s.cashier_id,
                    cashier_name=s.cashier_name,
                    started_at=s.started_at,
                    ended_at=s.ended_at,
                    sales_count=s.sales_count,
                    sales_total=Money(amount=s.sales_total),
                )
                for s in r.shifts
            ],
            **money,
        )

    @strawberry.field
    async def register(self, info: Info) -> "Register":
        return Register.from_model(await info.context.loaders.register.load(self.register_pk))

    @strawberry.field
    async def counter(self, info: Info) -> Counter:
        return Counter.from_model(await info.context.loaders.counter.load(self.counter_pk))

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))

    @strawberry.field(description="Who opened the register; null when the caller may not see this member of staff.")
    async def opened_by(self, info: Info) -> Staff | None:
        return await staff_member(info, self.opened_by_pk)

    @strawberry.field(description="Who closed it; null while open, or when the caller may not see them.")
    async def closed_by(self, info: Info) -> Staff | None:
        return await staff_member(info, self.closed_by_pk)


@strawberry.type(description="A counter's cash drawer from opening to close; one open register per counter.")
class Register(relay.Node):
    id: relay.NodeID[int]
    status: RegisterStatus  # type: ignore[valid-type]
    opening_float: Money
    opened_at: datetime
    closed_at: datetime | None
    expected_cash: Money | None = strawberry.field(description="Recorded at close.")
    counted_cash: Money | None
    over_short: Money | None = strawberry.field(description="countedCash - expectedCash; negative: short.")
    counter_pk: strawberry.Private[int]
    branch_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.Register) -> Self:
        return cls(
            id=m.id,
            status=RegisterStatus(m.status.value if hasattr(m.status, "value") else m.status),
            opening_float=Money(amount=m.opening_float),
            opened_at=m.opened_at,
            closed_at=m.closed_at,
            expected_cash=_money(m.expected_cash),
            counted_cash=_money(m.counted_cash),
            over_short=_money(m.over_short),
            counter_pk=m.counter_id,
            branch_pk=m.branch_id,
        )

    @strawberry.field
    async def counter(self, info: Info) -> Counter:
        return Counter.from_model(await info.context.loaders.counter.load(self.counter_pk))

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))

    @strawberry.field(description="The X report now, or the Z report once closed.")
    async def report(self, info: Info) -> RegisterReport:
        return RegisterReport.from_report(await register_report(info.context.actor, self.id))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        wanted = [int(i) if i.isdigit() else None for i in node_ids]
        found = await info.context.loaders.register.load_many([i for i in wanted if i is not None])
        rows = {r.id: r for r in found if r is not None}
        actor = info.context.actor
        return [cls.from_model(rows[i]) if i in rows and may_view(actor, rows[i].branch_id) else None for i in wanted]


@strawberry.type(description="A cashier's time at a register.")
class Shift:
    started_at: datetime
    ended_at: datetime | None
    register_pk: strawberry.Private[int]
    cashier_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.Shift) -> Self:
        return cls(started_at=m.started_at, ended_at=m.ended_at, register_pk=m.register_id, cashier_pk=m.cashier_id)

    @strawberry.field
    async def register(self, info: Info) -> Register:
        return Register.from_model(await info.context.loaders.register.load(self.register_pk))

    @strawberry.field(description="Null when the caller may not see this member of staff.")
    async def cashier(self, info: Info) -> Staff | None:
        return await staff_member(info, self.cashier_pk)


@strawberry.type(description="Cash put into or taken out of the drawer outside a sale.")
class CashMovement(relay.Node):
    id: relay.NodeID[int]
    kind: CashMovementKind  # type: ignore[valid-type]
    amount: Money
    reason: str = strawberry.field(description="Free text, as the cashier wrote it down.")
    at: datetime
    staff_pk: strawberry.Private[int]
    register_pk: strawberry.Private[int]
    shift_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.CashMovement) -> Self:
        return cls(
            id=m.id,
            kind=CashMovementKind(m.kind.value if hasattr(m.kind, "value") else m.kind),
            amount=Money(amount=m.amount),
            reason=m.reason,
            at=m.at,
            staff_pk=m.staff_id,
            register_pk=m.register_id,
            shift_pk=m.shift_id,
        )

    @strawberry.field(description="Who moved the cash; null when the caller may not see this member of staff.")
    async def staff(self, info: Info) -> Staff | None:
        return await staff_member(info, self.staff_pk)

    @strawberry.field(description="The drawer the cash went into or came out of.")
    async def register(self, info: Info) -> Register:
        return Register.from_model(await info.context.loaders.register.load(self.register_pk))

    @strawberry.field(description="The shift it was moved in.")
    async def shift(self, info: Info) -> Shift | None:
        return await shift_of(info, self.shift_pk)

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by those who may see the register's figures (`may_view` at its branch)."""
        loaders = info.context.loaders
        wanted = [int(i) if i.isdigit() else None for i in node_ids]
        found = await loaders.cash_movement.load_many([i for i in wanted if i is not None])
        rows = {m.id: m for m in found if m is not None}
        registers = await loaders.register.load_many(sorted({m.register_id for m in rows.values()}))
        branch_of = {r.id: r.branch_id for r in registers if r is not None}
        actor = info.context.actor
        return [
            cls.from_model(rows[i]) if i in rows and may_view(actor, branch_of[rows[i].register_id]) else None
            for i in wanted
        ]


async def register_of(info: Info, register_id: int | None) -> Register | None:
    """A document's register (a sale's, a return's), through the request's loader."""
    return None if register_id is None else Register.from_model(await info.context.loaders.register.load(register_id))


async def shift_of(info: Info, shift_id: int | None) -> Shift | None:
    """A document's shift, through the request's loader."""
    return None if shift_id is None else Shift.from_model(await info.context.loaders.shift.load(shift_id))


@strawberry.input
class OpenRegisterInput:
    counter_id: strawberry.ID
    opening_float: Decimal = strawberry.field(description='Cash put in the drawer to give change, e.g. "5000.00".')
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class RecordCashMovementInput:
    register_id: strawberry.ID
    kind: CashMovementKind  # type: ignore[valid-type]
    amount: Decimal
    reason: str
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="How many of one PKR note or coin: 5000, 1000, 500, 100, 50, 20, 10, 5, 2 or 1.")
class DenominationCountInput:
    value: int
    count: int


@strawberry.input(
    one_of=True, description="The cash counted in the drawer by exactly one of: its total, each note and coin."
)
class CashCountInput:
    total: Decimal | None = strawberry.UNSET
    denominations: list[DenominationCountInput] | None = strawberry.UNSET


@strawberry.input
class CloseRegisterInput:
    register_id: strawberry.ID
    counted: CashCountInput
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class OpenRegisterPayload:
    register: Register | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordCashMovementPayload:
    cash_movement: CashMovement | None = None
    register: Register | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CloseRegisterPayload:
    register: Register | None = strawberry.field(default=None, description="Ask for `report` for the Z report.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EndShiftPayload:
    shift: Shift | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="The register whose cashier's shift ends.")
class EndShiftInput:
    register_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
