"""Reports across the day's operations: day close over every register, returns and exchanges, online orders and
cash on delivery, and where the sync with Shopify (and fiscal reporting) stands."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from models.drift import DriftCheckStatus, DriftLineStatus, DriftRepairStatus
from models.orders import CodStatus
from models.registers import Register
from operations.counter import RegisterReport, register_report
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC
from operations.fiscal import BranchFiscal, FiscalFigures, fiscal_figures
from operations.kernel import Permission, fetch, is_sqlite, transaction
from operations.reports.periods import among, branches_for, in_scope, scope_for
from operations.sync import ShopWriteFigures, pushes_by_branch, shop_write_figures

PKR = Decimal("0.01")


def _money(conn, expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS INTEGER)" if is_sqlite(conn) else f"({expr})"


def _read(conn, value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return (Decimal(int(value)) / 100).quantize(PKR) if is_sqlite(conn) else Decimal(value).quantize(PKR)


@dataclass
class DayClose:
    """Every register closed on these days (and those still open that were opened on them), side by side."""

    registers: list[RegisterReport] = field(default_factory=list)

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(r, name) or Decimal(0) for r in self.registers), Decimal("0.00"))

    @property
    def sales_total(self) -> Decimal:
        return self._sum("sales_total")

    @property
    def refunded_total(self) -> Decimal:
        return self._sum("refunded_total")

    @property
    def over_short(self) -> Decimal:
        return self._sum("over_short")

    @property
    def cash_to_bank(self) -> Decimal:
        """Counted at close less the float each drawer started with (kept for tomorrow)."""
        return sum(
            (r.counted_cash - r.opening_float for r in self.registers if r.counted_cash is not None),
            Decimal("0.00"),
        )


async def day_close(actor, first: date, last: date, branch_ids=None) -> DayClose:
    """The Z report of every register closed on these local days at these branches (X reports for registers
    opened on them and still open), read through the counter's own report (operations/counter/)."""
    scope = await scope_for(actor, first, last, branch_ids, Permission.VIEW_REPORTS)
    ids: set[int] = set()
    for branches, start, end in scope.spans():
        ids |= set(
            await Register.filter(branch_id__in=branches, closed_at__gte=start, closed_at__lt=end).values_list(
                "id", flat=True
            )
        )
        ids |= set(
            await Register.filter(
                branch_id__in=branches, closed_at__isnull=True, opened_at__gte=start, opened_at__lt=end
            ).values_list("id", flat=True)
        )
    reports = [await register_report(actor, pk) for pk in sorted(ids)]
    reports.sort(key=lambda r: (r.branch_id, r.counter_id, r.opened_at))
    return DayClose(reports)


@dataclass(frozen=True)
class ReturnsRow:
    branch_id: int  # where the goods came back
    reason: str | None
    restock: str
    exchange: bool
    returns_count: int
    units: int
    refunds: Decimal


async def returns_report(actor, first: date, last: date, branch_ids=None) -> list[ReturnsRow]:
    """Returns and exchanges by the branch that took the goods back, reason, and what was done with them."""
    scope = await scope_for(actor, first, last, branch_ids, Permission.VIEW_REPORTS)
    if not scope.zones:
        return []
    async with transaction() as tx:
        conn = tx.conn
        where, values = in_scope(scope, conn, "r.created_at", "r.branch_id")
        exchange = "CASE WHEN r.exchange_sale_id IS NULL THEN 0 ELSE 1 END"
        rows = await fetch(
            conn,
            f"SELECT r.branch_id, r.reason, rl.restock, {exchange} AS exchange, COUNT(DISTINCT r.id) AS n,"
            f" SUM(rl.quantity) AS units, SUM({_money(conn, 'rl.total')}) AS refunds"
            " FROM return_line rl JOIN sale_return r ON r.id = rl.sale_return_id"
            f" WHERE {where} GROUP BY r.branch_id, r.reason, rl.restock, {exchange}"
            f" ORDER BY r.branch_id, r.reason, rl.restock, {exchange}",
            values,
        )
    return [
        ReturnsRow(
            r["branch_id"],
            r["reason"],
            r["restock"],
            bool(r["exchange"]),
            int(r["n"]),
            int(r["units"]),
            _read(conn, r["refunds"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class OrdersRow:
    branch_id: int | None
    courier: str | None
    status: str
    cod_status: str | None
    orders: int
    value: Decimal


@dataclass
class OrdersReport:
    rows: list[OrdersRow]

    def _count(self, *statuses: CodStatus) -> int:
        return sum(r.orders for r in self.rows if r.cod_status in {s.value for s in statuses})

    @property
    def _settled(self) -> int:
        """COD orders whose trip is over (delivered, refused, or on their way back / back)."""
        return self._count(CodStatus.DELIVERED, CodStatus.REFUSED, CodStatus.RETURNING, CodStatus.RETURNED)

    def _rate(self, *statuses: CodStatus) -> Decimal | None:
        return (Decimal(self._count(*statuses)) / self._settled).quantize(Decimal("0.0001")) if self._settled else None

    @property
    def delivered_rate(self) -> Decimal | None:
        return self._rate(CodStatus.DELIVERED)

    @property
    def refused_rate(self) -> Decimal | None:
        return self._rate(CodStatus.REFUSED)

    @property
    def rto_rate(self) -> Decimal | None:
        """Returned to origin: refused at the door or sent back, on the way or arrived."""
        return self._rate(CodStatus.REFUSED, CodStatus.RETURNING, CodStatus.RETURNED)

    @property
    def value_in_transit(self) -> Decimal:
        """COD orders with the courier: cash not yet collected."""
        return sum((r.value for r in self.rows if r.cod_status == CodStatus.DISPATCHED.value), Decimal("0.00"))


async def orders_report(actor, first: date, last: date, branch_ids=None) -> OrdersReport:
    """Online orders taken on these local days at these branches, by branch, courier, status and COD status."""
    scope = await scope_for(actor, first, last, branch_ids, Permission.VIEW_REPORTS)
    if not scope.zones:
        return OrdersReport([])
    async with transaction() as tx:
        conn = tx.conn
        where, values = in_scope(scope, conn, "o.created_at", "o.branch_id")
        rows = await fetch(
            conn,
            f"SELECT o.branch_id, o.courier, o.status, o.cod_status, COUNT(*) AS n, SUM({_money(conn, 'o.total')})"
            f" AS value FROM online_order o WHERE {where}"
            " GROUP BY o.branch_id, o.courier, o.status, o.cod_status"
            " ORDER BY o.branch_id, o.courier, o.status, o.cod_status",
            values,
        )
    return OrdersReport(
        [
            OrdersRow(r["branch_id"], r["courier"], r["status"], r["cod_status"], int(r["n"]), _read(conn, r["value"]))
            for r in rows
        ]
    )


@dataclass(frozen=True)
class SyncBranch:
    """One branch's share: its inventory pushes and its fiscal documents (operations.fiscal's own figures)."""

    branch_id: int
    pushes_pending: int
    pushes_parked: int
    fiscal: BranchFiscal


@dataclass(frozen=True)
class SyncSummary:
    pushes_pending: int  # inventory pushes of the branches asked for (each row names its branch)
    pushes_parked: int
    drift_lines_open: int  # unexplained in the latest finished check, and not repaired
    catalog_edits: ShopWriteFigures  # catalog edits and customers made here, for Shopify: not per branch
    customer_writes: ShopWriteFigures
    fiscal: FiscalFigures  # fiscal_figures over the same branches: pending, ageing, parked, flagged, not fiscalised
    branches: list[SyncBranch] = field(default_factory=list)  # every branch asked for, in id order

    @property
    def invoices_not_reported(self) -> int:
        """Waiting for the authority's number: pending (parked ones included) or refused."""
        return sum(b.pending + b.refused for b in self.fiscal.branches)

    @property
    def not_fiscalised(self) -> int:
        return sum(b.not_fiscalised for b in self.fiscal.branches)


async def sync_summary(actor, branch_ids=None) -> SyncSummary:
    branches = await branches_for(actor, branch_ids, Permission.VIEW_REPORTS)
    async with transaction() as tx:
        [drift] = await fetch(
            tx.conn,
            "SELECT COUNT(*) AS n FROM drift_line d WHERE d.check_id = (SELECT MAX(c.id) FROM drift_check c"
            f" WHERE c.status = '{DriftCheckStatus.COMPLETED.value}')"
            f" AND d.status = '{DriftLineStatus.UNEXPLAINED.value}'"
            f" AND (d.repair_status IS NULL OR d.repair_status <> '{DriftRepairStatus.REPAIRED.value}')"
            f" AND {among('d.branch_id', branches)}",
        )
    pushes = await pushes_by_branch(list(branches))
    fiscal = await fiscal_figures(sorted(branches))
    by_branch = {b.branch_id: b for b in fiscal.branches}
    rows = [SyncBranch(pk, *pushes.get(pk, (0, 0)), by_branch.get(pk) or BranchFiscal(pk)) for pk in sorted(branches)]
    return SyncSummary(
        pushes_pending=sum(r.pushes_pending for r in rows),
        pushes_parked=sum(r.pushes_parked for r in rows),
        drift_lines_open=int(drift["n"]),
        catalog_edits=await shop_write_figures(CATALOG_EDIT_TOPIC),
        customer_writes=await shop_write_figures(CUSTOMER_CREATE_TOPIC),
        fiscal=fiscal,
        branches=rows,
    )
