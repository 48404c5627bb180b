"""The sales report: what was sold and what came back, grouped by any of day, week, month, branch, counter,
cashier, salesperson, tender type, product, product type or variant.

One SQL statement with GROUP BY on both dialects: the sale lines of placed, updated and refunded sales (drafts
and voided sales left out, as the register's X/Z reports leave them, operations/counter/register_reports.py),
dated by `sale.occurred_at` — when the sale happened at the counter, so an offline sale counts on the day it was
rung up, not the day it was uploaded — and the return lines, dated when the return was made and counted at the
branch, counter and cashier that took the goods back (the salesperson, product and variant are the sold line's).
Refunds are their own columns, never subtracted from the sales columns.

Cost of goods is the sold line's `unit_cost` (the variant's weighted average cost when it was sold); a returned
unit gives its cost back. Margin = net after refunds − cost of goods. Lines sold without a cost count in
`uncosted_units` and add nothing to the cost.

Money is summed exactly: PostgreSQL's numeric as it is; SQLite keeps decimals as text, so each row becomes
whole paisa (an integer) before it is summed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from models.sales import SaleStatus
from operations.kernel import ErrorCode, OperationError, Permission, fetch, is_sqlite, transaction
from operations.reports.periods import Scope, as_date, in_scope, local_time_sql, period_sql, scope_for

PKR = Decimal("0.01")
MAX_ROWS = 5000  # rows a report answers with; more is an export's job
SOLD = "(" + ", ".join(f"'{s.value}'" for s in (SaleStatus.PLACED, SaleStatus.UPDATED, SaleStatus.REFUNDED)) + ")"


class SalesGroup(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    BRANCH = "branch"
    COUNTER = "counter"
    CASHIER = "cashier"
    SALESPERSON = "salesperson"
    TENDER_TYPE = "tender_type"
    PRODUCT = "product"
    PRODUCT_TYPE = "product_type"
    VARIANT = "variant"


NO_ID = "CAST(NULL AS INTEGER)"  # typed, so PostgreSQL can match it with an id in the UNION's other half
CASH = "'cash'"
# What an exchange's return credited towards its new sale: paid for the new lines without money changing hands.
EXCHANGE_CREDIT = "exchange_credit"
CREDIT = f"'{EXCHANGE_CREDIT}'"
SALE_CREDIT = "s.total + s.change_due - COALESCE((SELECT SUM(t.amount) FROM tender t WHERE t.sale_id = s.id), 0)"
PERIODS = (SalesGroup.DAY, SalesGroup.WEEK, SalesGroup.MONTH)
LINE_GROUPS = (SalesGroup.PRODUCT, SalesGroup.PRODUCT_TYPE, SalesGroup.VARIANT)


@dataclass(frozen=True)
class SalesFilter:
    first: date
    last: date
    branch_ids: tuple[int, ...] | None = None
    group_by: tuple[SalesGroup, ...] = ()


@dataclass
class SalesRow:
    """One group's figures; `key` holds a value per grouping (an id, a date, a tender type or a product type)."""

    key: dict[SalesGroup, Any] = field(default_factory=dict)
    gross: Decimal | None = None  # before discounts, in the sale's price basis
    discounts: Decimal | None = None
    net: Decimal | None = None  # after discounts, without tax
    tax: Decimal | None = None
    total: Decimal = Decimal("0.00")  # what customers were charged (tender rows: what each tender took)
    units: int | None = None
    sales_count: int = 0
    returns_count: int = 0
    returned_units: int | None = None
    refunds: Decimal = Decimal("0.00")  # paid back, tax included
    refunded_net: Decimal | None = None
    cost_of_goods: Decimal | None = None  # of the units sold, less those returned
    uncosted_units: int | None = None

    @property
    def average_basket(self) -> Decimal | None:
        return (self.total / self.sales_count).quantize(PKR) if self.sales_count else None

    @property
    def total_after_refunds(self) -> Decimal:
        return self.total - self.refunds

    @property
    def margin(self) -> Decimal | None:
        if self.net is None or self.cost_of_goods is None or self.refunded_net is None:
            return None
        return self.net - self.refunded_net - self.cost_of_goods


def _money(conn, expr: str) -> str:
    """A row's money as the database sums it exactly: numeric on PostgreSQL, whole paisa on SQLite."""
    return f"CAST(ROUND(({expr}) * 100) AS INTEGER)" if is_sqlite(conn) else f"ROUND({expr}, 2)"


def _read_money(conn, value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return (Decimal(int(value)) / 100).quantize(PKR) if is_sqlite(conn) else Decimal(value).quantize(PKR)


def _keys(groups: Iterable[SalesGroup], scope: Scope, conn, side: str) -> list[str]:
    """Each grouping's SQL on one side of the report: sale lines (`sale`) or return lines (`return`)."""
    sale = side == "sale"
    doc = "s" if sale else "r"
    when = "s.occurred_at" if sale else "r.created_at"
    out = []
    for g in groups:
        if g in PERIODS:
            out.append(period_sql(g.value, local_time_sql(scope, conn, when, f"{doc}.branch_id"), conn))
        else:
            out.append(
                {
                    SalesGroup.BRANCH: f"{doc}.branch_id",
                    SalesGroup.COUNTER: f"{doc}.counter_id",
                    SalesGroup.CASHIER: f"{doc}.cashier_id",
                    SalesGroup.SALESPERSON: "s.salesperson_id",
                    SalesGroup.TENDER_TYPE: "t.type",
                    SalesGroup.PRODUCT: "v.product_id",
                    SalesGroup.PRODUCT_TYPE: "p.product_type",
                    SalesGroup.VARIANT: "l.variant_id",
                }[g]
            )
    return out


def _lines_sql(scope: Scope, conn, groups: tuple[SalesGroup, ...]) -> tuple[str, list]:
    """Each side (sale lines, return lines) grouped on its own, as a hand-written GROUP BY would be, then the two
    sides' groups added together: a group holds its sales' distinct count from the one side and its returns' from
    the other, so the outer sums are exact."""
    joins = ""
    if SalesGroup.PRODUCT in groups or SalesGroup.PRODUCT_TYPE in groups:
        joins += " JOIN variant v ON v.id = l.variant_id"
    if SalesGroup.PRODUCT_TYPE in groups:
        joins += " JOIN product p ON p.id = v.product_id"
    sale_where, sale_values = in_scope(scope, conn, "s.occurred_at", "s.branch_id")
    return_where, return_values = in_scope(scope, conn, "r.created_at", "r.branch_id")
    names = [f"k{i}" for i in range(len(groups))]
    sale_keys = _keys(groups, scope, conn, "sale")
    return_keys = _keys(groups, scope, conn, "return")

    def select(keys: list[str]) -> str:
        return "".join(f"{sql} AS {n}, " for sql, n in zip(keys, names, strict=True))

    def grouped(keys: list[str]) -> str:
        return f" GROUP BY {', '.join(keys)}" if keys else ""

    total, zero = _sum(conn), "0"
    sql = (
        f"SELECT {select(sale_keys)}COUNT(DISTINCT s.id) AS sales_count, 0 AS returns_count,"
        " SUM(l.quantity) AS units, 0 AS returned_units,"
        f" {total('l.unit_price * l.quantity')} AS gross, {total('l.line_discount + l.order_discount')} AS discounts,"
        f" {total('l.net')} AS net, {total('l.tax')} AS tax, {total('l.total')} AS total,"
        f" {zero} AS refunds, {zero} AS refunded_net,"
        f" COALESCE({total('l.unit_cost * l.quantity', cost=True)}, 0) AS cost,"
        " SUM(CASE WHEN l.unit_cost IS NULL THEN l.quantity ELSE 0 END) AS uncosted"
        f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{joins}"
        f" WHERE s.status IN {SOLD} AND {sale_where}{grouped(sale_keys)}"
        " UNION ALL"
        f" SELECT {select(return_keys)}0, COUNT(DISTINCT r.id), 0, SUM(rl.quantity), {zero}, {zero}, {zero}, {zero},"
        f" {zero}, {total('rl.total')}, {total('rl.net')},"
        f" -COALESCE({total('l.unit_cost * rl.quantity', cost=True)}, 0),"
        " -SUM(CASE WHEN l.unit_cost IS NULL THEN rl.quantity ELSE 0 END)"
        " FROM return_line rl JOIN sale_return r ON r.id = rl.sale_return_id"
        f" JOIN sale_line l ON l.id = rl.sale_line_id JOIN sale s ON s.id = l.sale_id{joins}"
        f" WHERE {return_where}{grouped(return_keys)}"
    )
    key_list = ", ".join(names)
    lead = key_list + ", " if names else ""
    figures = ", ".join(
        f"SUM({f}) AS {f}"
        for f in (
            "sales_count",
            "returns_count",
            "units",
            "returned_units",
            "gross",
            "discounts",
            "net",
            "tax",
            "total",
            "refunds",
            "refunded_net",
            "cost",
            "uncosted",
        )
    )
    outer = f"SELECT {lead}{figures} FROM ({sql}) x" + (f" GROUP BY {key_list} ORDER BY {key_list}" if names else "")
    return outer, sale_values + return_values


def _sum(conn):
    """SQL summing a money expression exactly: whole paisa on SQLite (which keeps decimals as text), numeric on
    PostgreSQL; a cost (4 decimals × units) is rounded to the paisa per line on both."""

    def total(expr: str, cost: bool = False) -> str:
        if is_sqlite(conn):
            return f"SUM(CAST(ROUND(({expr}) * 100) AS INTEGER))"
        return f"SUM(ROUND({expr}, 2))" if cost else f"SUM({expr})"

    return total


def _tenders_sql(scope: Scope, conn, groups: tuple[SalesGroup, ...]) -> tuple[str, list]:
    """By tender: what each tender took (change handed back comes off cash) and what each paid back; an
    exchange's credit is a tender of its own (`exchange_credit`), so the tenders add up to the sales' total and
    the refunds'."""
    sale_where, sale_values = in_scope(scope, conn, "s.occurred_at", "s.branch_id")
    return_where, return_values = in_scope(scope, conn, "r.created_at", "r.branch_id")
    names = [f"k{i}" for i in range(len(groups))]

    def keys(side: str, tender: str) -> str:
        sqls = _keys(groups, scope, conn, side)
        return ", ".join(
            (tender if g == SalesGroup.TENDER_TYPE else sql) + f" AS {n}"
            for g, sql, n in zip(groups, sqls, names, strict=True)
        )

    zero = "0" if is_sqlite(conn) else "CAST(0 AS NUMERIC)"
    sql = (
        f"SELECT {keys('sale', 't.type')}, s.id AS sale_id, {NO_ID} AS return_id, {_money(conn, 't.amount')} AS total,"
        f" {zero} AS refunds FROM tender t JOIN sale s ON s.id = t.sale_id"
        f" WHERE s.status IN {SOLD} AND {sale_where}"
        f" UNION ALL SELECT {keys('sale', CASH)}, s.id, NULL, -{_money(conn, 's.change_due')}, {zero}"
        f" FROM sale s WHERE s.change_due > 0 AND s.status IN {SOLD} AND {sale_where}"
        f" UNION ALL SELECT {keys('sale', CREDIT)}, s.id, NULL, {_money(conn, SALE_CREDIT)}, {zero}"
        f" FROM sale s WHERE s.id IN (SELECT exchange_sale_id FROM sale_return) AND s.status IN {SOLD} AND {sale_where}"
        f" UNION ALL SELECT {keys('return', 't.type')}, NULL, r.id, {zero}, {_money(conn, 't.amount')}"
        " FROM tender t JOIN sale_return r ON r.id = t.sale_return_id JOIN sale s ON s.id = r.sale_id"
        f" WHERE {return_where}"
        f" UNION ALL SELECT {keys('return', CREDIT)}, NULL, r.id, {zero},"
        f" {_money(conn, 'r.total - COALESCE((SELECT SUM(t.amount) FROM tender t WHERE t.sale_return_id = r.id), 0)')}"
        " FROM sale_return r JOIN sale s ON s.id = r.sale_id"
        f" WHERE r.exchange_sale_id IS NOT NULL AND {return_where}"
    )
    key_list = ", ".join(names)
    outer = (
        f"SELECT {key_list}, COUNT(DISTINCT sale_id) AS sales_count, COUNT(DISTINCT return_id) AS returns_count,"
        f" SUM(total) AS total, SUM(refunds) AS refunds FROM ({sql}) x GROUP BY {key_list} ORDER BY {key_list}"
    )
    return outer, sale_values * 3 + return_values * 2


def check_groups(groups: tuple[SalesGroup, ...]) -> None:
    if len(set(groups)) != len(groups):
        raise OperationError.single(ErrorCode.INVALID, "a grouping is named twice", "groupBy")
    if SalesGroup.TENDER_TYPE in groups and any(g in LINE_GROUPS for g in groups):
        raise OperationError.single(
            ErrorCode.INVALID, "tender type cannot be combined with product, product type or variant", "groupBy"
        )


def sales_sql(scope: Scope, conn, groups: tuple[SalesGroup, ...]) -> tuple[str, list]:
    """The report's statement and its values (exports stream its rows, operations/reports/exports.py)."""
    return (_tenders_sql if SalesGroup.TENDER_TYPE in groups else _lines_sql)(scope, conn, groups)


async def sales_scope(actor, f: SalesFilter) -> Scope:
    check_groups(f.group_by)
    return await scope_for(actor, f.first, f.last, f.branch_ids, Permission.VIEW_REPORTS)


async def sales_report(actor, f: SalesFilter, *, limit: int = MAX_ROWS) -> list[SalesRow]:
    """The report's rows in key order; with no grouping, one row of totals. More than `limit` rows is TOO_MANY:
    such a report is for an export."""
    scope = await sales_scope(actor, f)
    async with transaction() as tx:  # one snapshot
        sql, values = sales_sql(scope, tx.conn, f.group_by)
        rows = await fetch(tx.conn, f"{sql} LIMIT {int(limit) + 1}", values) if scope.zones else []
        if len(rows) > limit:
            raise OperationError.single(
                ErrorCode.TOO_MANY, f"more than {limit} rows: group by less, or export the report", "groupBy"
            )
        return sales_rows(tx.conn, f.group_by, rows)


def sales_rows(conn, groups: tuple[SalesGroup, ...], rows: list) -> list[SalesRow]:
    tenders = SalesGroup.TENDER_TYPE in groups
    out = []
    for row in rows:
        key = {}
        for i, g in enumerate(groups):
            value = row[f"k{i}"]
            key[g] = as_date(value) if g in PERIODS else value
        r = SalesRow(
            key=key,
            total=_read_money(conn, row["total"]),
            refunds=_read_money(conn, row["refunds"]),
            sales_count=int(row["sales_count"] or 0),
            returns_count=int(row["returns_count"] or 0),
        )
        if not tenders:
            r.gross, r.discounts = _read_money(conn, row["gross"]), _read_money(conn, row["discounts"])
            r.net, r.tax = _read_money(conn, row["net"]), _read_money(conn, row["tax"])
            r.refunded_net, r.cost_of_goods = _read_money(conn, row["refunded_net"]), _read_money(conn, row["cost"])
            r.units, r.returned_units = int(row["units"] or 0), int(row["returned_units"] or 0)
            r.uncosted_units = int(row["uncosted"] or 0)
        out.append(r)
    if not out and not groups:
        out.append(_empty_totals())
    return out


def _empty_totals() -> SalesRow:
    nothing = Decimal("0.00")
    return SalesRow(
        gross=nothing,
        discounts=nothing,
        net=nothing,
        tax=nothing,
        units=0,
        returned_units=0,
        refunded_net=nothing,
        cost_of_goods=nothing,
        uncosted_units=0,
    )
