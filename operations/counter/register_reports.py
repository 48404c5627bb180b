"""X and Z register reports: what one register took, by shift and tender, and its drawer's cash.

The X report is read while the register is open (the drawer as it stands now); the Z report once
it is closed (with the expected cash, count and over/short the close recorded). Read-only: one
transaction of aggregate queries, summed in whole paisa like the drawer (see operations/counter/registers.py).

Split from operations/counter/registers.py, which keeps the writes (open, shifts, cash in/out, close) and
the cash arithmetic both modules share (`drawer_cash`, `paisa_sum`, `rupees`), so that neither
module grows past the project's ~400-line guideline.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from models.registers import RegisterStatus, Shift
from models.sales import SaleStatus, TenderType
from models.staff import Staff
from operations.counter.registers import IN_CASH_SALES, drawer_cash, get_register, paisa_sum, rupees
from operations.kernel import Actor, Permission, fetch, require, transaction

VOIDED = f"status = '{SaleStatus.VOIDED.value}'"


@dataclass(frozen=True)
class ShiftLine:
    shift_id: int
    cashier_id: int
    cashier_name: str
    started_at: datetime
    ended_at: datetime | None
    sales_count: int
    sales_total: Decimal


@dataclass(frozen=True)
class RegisterReport:
    """The X report while the register is open; the Z report (`final`) once it is closed."""

    final: bool
    register_id: int
    counter_id: int
    branch_id: int
    opened_at: datetime
    opened_by: tuple[int, str]  # (staff id, name)
    closed_at: datetime | None
    closed_by: tuple[int, str] | None
    opening_float: Decimal
    sales_count: int  # placed, updated or refunded; voided sales are counted apart
    gross_sales: Decimal  # before discounts
    discounts: Decimal
    tax: Decimal
    sales_total: Decimal  # what customers were charged
    voided_count: int
    voided_total: Decimal
    returns_count: int
    refunded_total: Decimal
    sales_by_tender: dict[TenderType, Decimal]  # tendered, so cash includes the change handed back
    refunds_by_tender: dict[TenderType, Decimal]
    cash_sales: Decimal  # cash kept after change
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal
    expected_cash: Decimal
    counted_cash: Decimal | None
    over_short: Decimal | None
    shifts: list[ShiftLine]


_SALES_BY_SHIFT = (
    f"SELECT shift_id, SUM(CASE WHEN {IN_CASH_SALES} THEN 1 ELSE 0 END) AS sales,"
    f" {paisa_sum('subtotal', IN_CASH_SALES)} AS gross, {paisa_sum('discount_total', IN_CASH_SALES)} AS discounts,"
    f" {paisa_sum('tax_total', IN_CASH_SALES)} AS tax, {paisa_sum('total', IN_CASH_SALES)} AS total,"
    f" SUM(CASE WHEN {VOIDED} THEN 1 ELSE 0 END) AS voided, {paisa_sum('total', VOIDED)} AS voided_total"
    " FROM sale WHERE register_id = ? GROUP BY shift_id"
)
_TENDERS = (
    f"SELECT 'sale' AS side, t.type AS type, {paisa_sum('t.amount')} AS amount FROM tender t"
    f" JOIN sale s ON s.id = t.sale_id WHERE s.register_id = ? AND s.{IN_CASH_SALES} GROUP BY t.type"
    f" UNION ALL SELECT 'return' AS side, t.type AS type, {paisa_sum('t.amount')} AS amount FROM tender t"
    " JOIN sale_return r ON r.id = t.sale_return_id WHERE r.register_id = ? GROUP BY t.type"
)


async def register_report(actor: Actor, register_id: int) -> RegisterReport:
    register = await get_register(register_id)
    if not any(actor.can(p, register.branch_id) for p in (Permission.VIEW_SALES, Permission.VIEW_REPORTS)):
        require(actor, Permission.VIEW_REPORTS, register.branch_id)  # raises, with the right code
    async with transaction() as tx:
        by_shift = {row["shift_id"]: row for row in await fetch(tx.conn, _SALES_BY_SHIFT, [register_id])}
        [returns] = await fetch(
            tx.conn,
            f"SELECT COUNT(*) AS n, {paisa_sum('total')} AS total FROM sale_return WHERE register_id = ?",
            [register_id],
        )
        tenders = await fetch(tx.conn, _TENDERS, [register_id, register_id])
        cash = await drawer_cash(tx.conn, register)
        shifts = await Shift.filter(register_id=register_id).order_by("id")
        people = {register.opened_by_id, register.closed_by_id, *(s.cashier_id for s in shifts)}
        names = dict(await Staff.filter(id__in=[p for p in people if p]).values_list("id", "name"))

    def total(column: str) -> Decimal:
        return rupees(sum(int(row[column]) for row in by_shift.values()))

    by_tender = {side: dict.fromkeys(TenderType, Decimal("0.00")) for side in ("sale", "return")}
    for row in tenders:
        by_tender[row["side"]][TenderType(row["type"])] = rupees(row["amount"])
    final = register.status == RegisterStatus.CLOSED
    return RegisterReport(
        final=final,
        register_id=register.id,
        counter_id=register.counter_id,
        branch_id=register.branch_id,
        opened_at=register.opened_at,
        opened_by=(register.opened_by_id, names.get(register.opened_by_id, "")),
        closed_at=register.closed_at,
        closed_by=(register.closed_by_id, names.get(register.closed_by_id, "")) if register.closed_by_id else None,
        opening_float=register.opening_float,
        sales_count=sum(int(row["sales"]) for row in by_shift.values()),
        gross_sales=total("gross"),
        discounts=total("discounts"),
        tax=total("tax"),
        sales_total=total("total"),
        voided_count=sum(int(row["voided"]) for row in by_shift.values()),
        voided_total=total("voided_total"),
        returns_count=int(returns["n"]),
        refunded_total=rupees(returns["total"]),
        sales_by_tender=by_tender["sale"],
        refunds_by_tender=by_tender["return"],
        cash_sales=cash.cash_sales,
        cash_refunds=cash.cash_refunds,
        cash_in=cash.cash_in,
        cash_out=cash.cash_out,
        # The Z report shows the figure the close recorded; the X report the drawer right now.
        expected_cash=register.expected_cash if final else cash.expected,
        counted_cash=register.counted_cash,
        over_short=register.over_short,
        shifts=[
            ShiftLine(
                shift_id=s.id,
                cashier_id=s.cashier_id,
                cashier_name=names.get(s.cashier_id, ""),
                started_at=s.started_at,
                ended_at=s.ended_at,
                sales_count=int(by_shift.get(s.id, {}).get("sales", 0)),
                sales_total=rupees(by_shift.get(s.id, {}).get("total", 0)),
            )
            for s in shifts
        ],
    )
