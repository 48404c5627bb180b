"""Salesperson commission: flat percent rates with history, and what each salesperson earned.

A rate is a row from `effective_from` on (models/reports.py); a new rate is a new row, so the past keeps the
rate it was sold at. A sale line earns, on what the customer paid for it (the line's total), the newest rate in
effect when it was sold, the most specific first: the salesperson's rate for the product's type, else the
salesperson's own rate, else the product type's rate, else nothing. A return takes back the same percent of what
it refunded for the line, in the period of the return (a sale last month, a refund this month: this month's
commission is smaller).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from models.reports import CommissionRate
from models.staff import Staff, StaffBranch
from operations.kernel import (
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    fetch,
    is_sqlite,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.reports.periods import in_scope, scope_for

PKR = Decimal("0.01")
MAX_PERCENT = Decimal("100")
SOLD = "('placed', 'updated', 'refunded')"


@dataclass(frozen=True)
class NewRate:
    percent: Decimal
    staff_id: int | None = None
    product_type: str | None = None
    effective_from: datetime | None = None  # None: now


async def set_commission_rate(actor, new: NewRate, idempotency_key: str) -> tuple[CommissionRate, bool]:
    """A new rate from `effective_from` on. A salesperson's rate is set by whoever manages staff at every branch
    they work at; a product type's rate for everyone only by those who manage the branches (owners, admins)."""
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    if new.staff_id is None and not (new.product_type or "").strip():
        problems.add(ErrorCode.INVALID, "name a staff member, a product type, or both", "staffId")
    if not Decimal(0) <= new.percent <= MAX_PERCENT or new.percent != new.percent.quantize(PKR):
        problems.add(ErrorCode.INVALID, "percent must be 0–100 with at most 2 decimals", "percent")
    if new.product_type is not None and len(new.product_type) > 120:
        problems.add(ErrorCode.INVALID, "product type is at most 120 characters", "productType")
    problems.raise_if_any()
    if new.staff_id is None:
        require(actor, Permission.MANAGE_BRANCHES)
    else:
        member = await Staff.get_or_none(id=new.staff_id)
        if member is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such staff member", "staffId")
        branches = await StaffBranch.filter(staff_id=member.id).values_list("branch_id", flat=True)
        require(actor, Permission.MANAGE_STAFF)
        for branch_id in branches:
            require(actor, Permission.MANAGE_STAFF, branch_id)
    effective_from = (new.effective_from or datetime.now(UTC)).astimezone(UTC)
    product_type = new.product_type.strip() if new.product_type else None
    request = {
        "percent": str(new.percent),
        "staff": new.staff_id,
        "productType": product_type,
        "from": new.effective_from.isoformat() if new.effective_from else None,
    }

    async def create() -> CommissionRate:
        rate = await CommissionRate.create(
            staff_id=new.staff_id,
            product_type=product_type,
            percent=new.percent,
            effective_from=effective_from,
            set_by=actor.label,
        )
        await record_audit(
            actor,
            "commission.rate_set",
            target=("commission_rate", rate.id),
            staff_id=new.staff_id,
            product_type=product_type,
            percent=str(new.percent),
            effective_from=effective_from.isoformat(),
        )
        return rate

    async with transaction() as tx:
        return await run_once(
            tx, "setCommissionRate", idempotency_key, request, create, lambda pk: CommissionRate.get(id=pk)
        )


def _rate(conn, staff: str, product_type: str, when: str) -> str:
    """SQL for the percent a line earns (see the module docstring)."""

    def newest(where: str) -> str:
        return (
            f"(SELECT c.percent FROM commission_rate c WHERE {where} AND c.effective_from <= {when}"
            " ORDER BY c.effective_from DESC, c.id DESC LIMIT 1)"
        )

    return (
        "COALESCE("
        + newest(f"c.staff_id = {staff} AND c.product_type = {product_type}")
        + ", "
        + newest(f"c.staff_id = {staff} AND c.product_type IS NULL")
        + ", "
        + newest(f"c.staff_id IS NULL AND c.product_type = {product_type}")
        + ", 0)"
    )


def _share(conn, amount: str, percent: str) -> str:
    """A line's commission in whole paisa (SQLite) or rupees (PostgreSQL), rounded per line."""
    if is_sqlite(conn):
        return f"CAST(ROUND({amount} * {percent}) AS INTEGER)"
    return f"ROUND({amount} * {percent} / 100, 2)"


@dataclass(frozen=True)
class CommissionRow:
    rank: int
    salesperson_id: int
    sales: Decimal  # what customers paid for the lines they sold
    refunds: Decimal  # refunded for their lines in the period
    commission: Decimal  # earned less taken back


async def commission_report(actor, first: date, last: date, branch_ids=None) -> list[CommissionRow]:
    """Each salesperson's commission over some local days, highest first: the leaderboard."""
    scope = await scope_for(actor, first, last, branch_ids, Permission.VIEW_REPORTS)
    if not scope.zones:
        return []
    async with transaction() as tx:
        conn = tx.conn
        sale_where, sale_values = in_scope(scope, conn, "s.occurred_at", "s.branch_id")
        return_where, return_values = in_scope(scope, conn, "r.created_at", "r.branch_id")
        rate = _rate(conn, "s.salesperson_id", "p.product_type", "s.occurred_at")
        money = (lambda e: f"CAST(ROUND({e} * 100) AS INTEGER)") if is_sqlite(conn) else (lambda e: e)
        zero = "0" if is_sqlite(conn) else "CAST(0 AS NUMERIC)"
        lines = " JOIN variant v ON v.id = l.variant_id JOIN product p ON p.id = v.product_id"
        rows = await fetch(
            conn,
            "SELECT salesperson_id, SUM(sales) AS sales, SUM(refunds) AS refunds, SUM(earned) AS earned FROM ("
            f"SELECT s.salesperson_id, {money('l.total')} AS sales, {zero} AS refunds,"
            f" {_share(conn, 'l.total', rate)} AS earned"
            f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{lines}"
            f" WHERE s.salesperson_id IS NOT NULL AND s.status IN {SOLD} AND {sale_where}"
            f" UNION ALL SELECT s.salesperson_id, {zero}, {money('rl.total')}, -{_share(conn, 'rl.total', rate)}"
            " FROM return_line rl JOIN sale_return r ON r.id = rl.sale_return_id"
            f" JOIN sale_line l ON l.id = rl.sale_line_id JOIN sale s ON s.id = l.sale_id{lines}"
            f" WHERE s.salesperson_id IS NOT NULL AND {return_where}"
            ") x GROUP BY salesperson_id",
            sale_values + return_values,
        )

    def read(value) -> Decimal:
        if is_sqlite(conn):
            return (Decimal(int(value or 0)) / 100).quantize(PKR)
        return Decimal(value or 0).quantize(PKR)

    figures = sorted(
        ((r["salesperson_id"], read(r["sales"]), read(r["refunds"]), read(r["earned"])) for r in rows),
        key=lambda f: (-f[3], -f[1], f[0]),
    )
    return [CommissionRow(i + 1, *f) for i, f in enumerate(figures)]
