"""Stock reports: on hand and its value by branch and product type, now or as the ledger stood at a past moment;
dead stock; low stock; transfers on the road and how long they have been there.

As of a past moment, the units are the sum of the on-hand movements recorded before it (`stock_posting.created_at`:
when the ledger took them, so an offline sale uploaded later does not rewrite what was true then), and each
variant's cost is what its weighted average was then: the `average_cost_before` of its first goods receipt
recorded after that moment, else its cost today (operations/purchasing/receiving.py keeps both). Units at a
branch below zero are left out, as the stock valuation leaves them (operations/purchasing/valuation.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.sales import SaleStatus
from models.stock import Bucket
from models.transfers import TransferStatus
from operations.kernel import Permission, db_time, fetch, is_sqlite, read_time, transaction
from operations.reports.periods import among, branches_for

PKR = Decimal("0.01")
SOLD = "(" + ", ".join(f"'{s.value}'" for s in (SaleStatus.PLACED, SaleStatus.UPDATED, SaleStatus.REFUNDED)) + ")"


@dataclass(frozen=True)
class ValuationRow:
    branch_id: int
    product_type: str
    units: int
    value: Decimal  # units with a cost, at that cost
    uncosted_units: int


def _paisa(conn, expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS INTEGER)" if is_sqlite(conn) else f"ROUND(({expr}) * 100)"


def _cost_then(conn) -> str:
    return (
        "CASE WHEN EXISTS (SELECT 1 FROM goods_receipt_line gl JOIN goods_receipt g ON g.id = gl.goods_receipt_id"
        " WHERE gl.variant_id = v.id AND g.created_at >= ?)"
        " THEN (SELECT gl.average_cost_before FROM goods_receipt_line gl JOIN goods_receipt g"
        " ON g.id = gl.goods_receipt_id WHERE gl.variant_id = v.id AND g.created_at >= ?"
        " ORDER BY g.created_at, gl.id LIMIT 1) ELSE v.average_cost END"
    )


async def valuation_report(actor, branch_ids=None, as_of: datetime | None = None) -> list[ValuationRow]:
    """On hand and its value per branch and product type: now, or as the ledger stood at `as_of`."""
    branches = await branches_for(actor, branch_ids, Permission.VIEW_REPORTS)
    async with transaction() as tx:
        conn = tx.conn
        if as_of is None:
            units = (
                f"SELECT branch_id, variant_id, on_hand AS units FROM stock_level WHERE {among('branch_id', branches)}"
            )
            cost, values = "v.average_cost", []
        else:
            units = (
                "SELECT m.branch_id, m.variant_id, SUM(m.delta) AS units FROM stock_movement m"
                " JOIN stock_posting sp ON sp.id = m.posting_id"
                f" WHERE m.bucket = '{Bucket.ON_HAND.value}' AND sp.created_at < ? AND {among('m.branch_id', branches)}"
                " GROUP BY m.branch_id, m.variant_id"
            )
            at = db_time(conn, as_of.astimezone(UTC))
            cost, values = _cost_then(conn), [at, at, at]
        sql = (
            "SELECT x.branch_id, p.product_type, SUM(x.units) AS units,"
            f" SUM(CASE WHEN c.cost IS NULL THEN 0 ELSE {_paisa(conn, 'x.units * c.cost')} END) AS value,"
            " SUM(CASE WHEN c.cost IS NULL THEN x.units ELSE 0 END) AS uncosted"
            f" FROM ({units}) x JOIN variant v ON v.id = x.variant_id JOIN product p ON p.id = v.product_id"
            f" JOIN (SELECT v.id AS variant_id, {cost} AS cost FROM variant v) c ON c.variant_id = x.variant_id"
            " WHERE x.units > 0 GROUP BY x.branch_id, p.product_type ORDER BY x.branch_id, p.product_type"
        )
        rows = await fetch(conn, sql, values) if branches else []
    return [
        ValuationRow(
            r["branch_id"],
            r["product_type"],
            int(r["units"]),
            (Decimal(int(r["value"] or 0)) / 100).quantize(PKR),
            int(r["uncosted"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class StockLine:
    branch_id: int
    variant_id: int
    on_hand: int
    available: int
    reorder_point: int
    last_sold_at: datetime | None


async def dead_stock(actor, branch_ids=None, days: int = 90, now: datetime | None = None) -> list[StockLine]:
    """Variants with units on hand at a branch and no sale there in the last `days` days (never sold: too)."""
    branches = await branches_for(actor, branch_ids, Permission.VIEW_REPORTS)
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    async with transaction() as tx:
        rows = (
            await fetch(
                tx.conn,
                "SELECT l.branch_id, l.variant_id, l.on_hand, l.on_hand - l.reserved AS available, l.reorder_point,"
                " (SELECT MAX(s.occurred_at) FROM sale_line sl JOIN sale s ON s.id = sl.sale_id"
                "  WHERE sl.variant_id = l.variant_id AND s.branch_id = l.branch_id"
                f"  AND s.status IN {SOLD}) AS last_sold"
                f" FROM stock_level l WHERE l.on_hand > 0 AND {among('l.branch_id', branches)}"
                " AND NOT EXISTS (SELECT 1 FROM sale_line sl JOIN sale s ON s.id = sl.sale_id"
                f"  WHERE sl.variant_id = l.variant_id AND s.branch_id = l.branch_id AND s.status IN {SOLD}"
                "   AND s.occurred_at >= ?)"
                " ORDER BY l.branch_id, l.variant_id",
                [db_time(tx.conn, since)],
            )
            if branches
            else []
        )
    return [_line(r, r["last_sold"]) for r in rows]


def _line(r, last_sold) -> StockLine:
    return StockLine(
        r["branch_id"], r["variant_id"], r["on_hand"], r["available"], r["reorder_point"], read_time(last_sold)
    )


async def low_stock(actor, branch_ids=None) -> list[StockLine]:
    """Levels at or below their reorder point (available units: on hand less reserved)."""
    branches = await branches_for(actor, branch_ids, Permission.VIEW_REPORTS)
    async with transaction() as tx:
        rows = (
            await fetch(
                tx.conn,
                "SELECT branch_id, variant_id, on_hand, on_hand - reserved AS available, reorder_point FROM stock_level"
                f" WHERE reorder_point > 0 AND on_hand - reserved <= reorder_point AND {among('branch_id', branches)}"
                " ORDER BY branch_id, variant_id",
            )
            if branches
            else []
        )
    return [_line(r, None) for r in rows]


@dataclass(frozen=True)
class TransferAge:
    transfer_id: int
    number: str
    source_branch_id: int
    destination_branch_id: int
    status: str
    dispatched_at: datetime
    units_on_the_road: int
    days: int


async def transfer_ageing(actor, branch_ids=None, now: datetime | None = None) -> list[TransferAge]:
    """Transfers dispatched and not yet wholly received, oldest first, with the units still on the road."""
    branches = await branches_for(actor, branch_ids, Permission.VIEW_REPORTS)
    now = now or datetime.now(UTC)
    open_ = f"('{TransferStatus.IN_TRANSIT.value}', '{TransferStatus.PARTIALLY_RECEIVED.value}')"
    async with transaction() as tx:
        rows = (
            await fetch(
                tx.conn,
                "SELECT t.id, t.number, t.source_branch_id, t.destination_branch_id, t.status, t.dispatched_at,"
                " SUM(tl.quantity_dispatched - tl.quantity_received - tl.quantity_damaged - tl.quantity_missing)"
                " AS road"
                " FROM transfer t JOIN transfer_line tl ON tl.transfer_id = t.id"
                f" WHERE t.status IN {open_} AND ({among('t.source_branch_id', branches)}"
                f" OR {among('t.destination_branch_id', branches)})"
                " GROUP BY t.id, t.number, t.source_branch_id, t.destination_branch_id, t.status, t.dispatched_at"
                " ORDER BY t.dispatched_at, t.id",
            )
            if branches
            else []
        )
    out = []
    for r in rows:
        at = read_time(r["dispatched_at"])
        out.append(
            TransferAge(
                r["id"],
                r["number"],
                r["source_branch_id"],
                r["destination_branch_id"],
                r["status"],
                at,
                int(r["road"] or 0),
                (now - at).days if at else 0,
            )
        )
    return out
