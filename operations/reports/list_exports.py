"""The lists that export as they are, row for row: stock movements (with the `stockMovements` query's filters)
and online orders (with the `orders` list's), each read in keyset batches (`id > last ORDER BY id LIMIT n`, each
batch its own short statement, no transaction held between them) like the sale lines in exports.py.

A filter is a plain dict (stored in the export's `parameters`, so a job reads exactly what was asked):
movements: variantIds, reasons, referenceType, referenceId, actor; orders: status, codStatus, withException.
The days are the export's `from`/`to` in each branch's calendar (movements by when they happened, orders by when
they came in, as ordersReport dates them); orders with no branch yet are in no branch's list and left out.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from models.branches import Branch
from models.catalog import Variant
from models.orders import CodStatus, OrderStatus
from operations.kernel import ErrorCode, Problems, fetch, is_sqlite, read_time, transaction
from operations.reports.periods import Scope, in_scope

MAX_REASONS = 50  # as the stockMovements query takes at most

MOVEMENT_COLUMNS = [
    ("Branch", "text"),
    ("Sequence", "int"),
    ("Occurred at (local time)", "datetime"),
    ("SKU", "text"),
    ("Bucket", "text"),
    ("Delta", "int"),
    ("Reason", "text"),
    ("Reference type", "text"),
    ("Reference", "text"),
    ("Moved by", "text"),
    ("On hand after", "int"),
    ("Reserved after", "int"),
    ("In transit after", "int"),
    ("Damaged after", "int"),
]

ORDER_COLUMNS = [
    ("Order", "text"),
    ("Created at (local time)", "datetime"),
    ("Branch", "text"),
    ("Customer", "text"),
    ("Phone", "text"),
    ("Status", "text"),
    ("COD", "text"),
    ("COD status", "text"),
    ("Courier", "text"),
    ("Tracking number", "text"),
    ("Exception", "text"),
    ("Currency", "text"),
    ("Total", "money"),
]


def check_filters(report: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The filters this list takes, checked; anything else refused (INVALID on `movements` / `orders`)."""
    problems = Problems()
    if report == "stock_movements":
        allowed = {"variantIds", "reasons", "referenceType", "referenceId", "actor"}
        if len(filters.get("reasons") or []) > MAX_REASONS:
            problems.add(ErrorCode.INVALID, f"at most {MAX_REASONS} reasons", "movements.reasons")
        if filters.get("referenceId") is not None and filters.get("referenceType") is None:
            problems.add(ErrorCode.INVALID, "referenceId goes with referenceType", "movements.referenceId")
    elif report == "order_list":
        allowed = {"status", "codStatus", "withException"}
        if filters.get("status") is not None and filters["status"] not in {s.value for s in OrderStatus}:
            problems.add(ErrorCode.INVALID, "no such order status", "orders.status")
        if filters.get("codStatus") is not None and filters["codStatus"] not in {s.value for s in CodStatus}:
            problems.add(ErrorCode.INVALID, "no such COD status", "orders.codStatus")
    else:
        allowed = set()
    extra = {k for k, v in filters.items() if v is not None} - allowed
    if extra:
        problems.add(ErrorCode.INVALID, f"the {report} export takes no {', '.join(sorted(extra))}", "report")
    problems.raise_if_any()
    return {k: v for k, v in filters.items() if v is not None}


def _marks(values: list) -> str:
    return ", ".join("?" for _ in values)


async def _branches(scope: Scope) -> dict[int, tuple[str, ZoneInfo]]:
    return {b.id: (b.code, ZoneInfo(b.timezone)) for b in await Branch.filter(id__in=scope.branch_ids)}


def _local(value, zone: ZoneInfo):
    return read_time(value).astimezone(zone).replace(tzinfo=None) if value is not None else None


async def movement_rows(scope: Scope, filters: dict[str, Any], batch: int) -> AsyncIterator[list[tuple]]:
    """The scope's stock movements matching the filters, oldest first, in keyset batches."""
    branches = await _branches(scope)
    where, values = [], []
    if filters.get("variantIds") is not None:
        ids = [int(v) for v in filters["variantIds"]] or [0]
        where.append(f"m.variant_id IN ({_marks(ids)})")
        values += ids
    if filters.get("reasons") is not None:
        reasons = list(filters["reasons"]) or [""]
        where.append(f"m.reason IN ({_marks(reasons)})")
        values += reasons
    for key, column in (("referenceType", "p.reference_type"), ("referenceId", "p.reference_id"), ("actor", "p.actor")):
        if filters.get(key) is not None:
            where.append(f"{column} = ?")
            values.append(filters[key])
    skus: dict[int, str] = {}
    last_id = 0
    while True:
        async with transaction() as tx:
            span, span_values = in_scope(scope, tx.conn, "m.occurred_at", "m.branch_id")
            rows = (
                await fetch(
                    tx.conn,
                    "SELECT m.id, m.branch_id, m.sequence, m.occurred_at, m.variant_id, m.bucket, m.delta, m.reason,"
                    " p.reference_type, p.reference_id, p.actor, m.on_hand_after, m.reserved_after,"
                    " m.in_transit_after, m.damaged_after FROM stock_movement m"
                    " JOIN stock_posting p ON p.id = m.posting_id"
                    f" WHERE m.id > ? AND {span}{''.join(' AND ' + w for w in where)} ORDER BY m.id LIMIT {batch}",
                    [last_id, *span_values, *values],
                )
                if scope.zones
                else []
            )
        if not rows:
            return
        last_id = rows[-1]["id"]
        missing = {r["variant_id"] for r in rows} - skus.keys()
        if missing:
            skus.update(dict(await Variant.filter(id__in=list(missing)).values_list("id", "sku")))
        out = []
        for r in rows:
            code, zone = branches[r["branch_id"]]
            out.append(
                (
                    code,
                    r["sequence"],
                    _local(r["occurred_at"], zone),
                    skus.get(r["variant_id"], ""),
                    r["bucket"],
                    r["delta"],
                    r["reason"],
                    r["reference_type"],
                    r["reference_id"],
                    r["actor"],
                    r["on_hand_after"],
                    r["reserved_after"],
                    r["in_transit_after"],
                    r["damaged_after"],
                )
            )
        del rows
        yield out


async def order_rows(scope: Scope, filters: dict[str, Any], batch: int) -> AsyncIterator[list[tuple]]:
    """The scope's online orders matching the filters, oldest first, in keyset batches."""
    branches = await _branches(scope)
    where, values = [], []
    for key, column in (("status", "o.status"), ("codStatus", "o.cod_status")):
        if filters.get(key) is not None:
            where.append(f"{column} = ?")
            values.append(filters[key])
    if filters.get("withException") is not None:
        where.append(f"o.exception_code IS {'NOT ' if filters['withException'] else ''}NULL")
    last_id = 0
    while True:
        async with transaction() as tx:
            span, span_values = in_scope(scope, tx.conn, "o.created_at", "o.branch_id")
            rows = (
                await fetch(
                    tx.conn,
                    "SELECT o.id, o.name, o.created_at, o.branch_id, o.customer_name, o.customer_phone, o.status,"
                    " o.is_cod, o.cod_status, o.courier, o.tracking_number, o.exception_code, o.currency, o.total"
                    f" FROM online_order o WHERE o.id > ? AND {span}{''.join(' AND ' + w for w in where)}"
                    f" ORDER BY o.id LIMIT {batch}",
                    [last_id, *span_values, *values],
                )
                if scope.zones
                else []
            )
            sqlite = is_sqlite(tx.conn)
        if not rows:
            return
        last_id = rows[-1]["id"]
        out = []
        for r in rows:
            code, zone = branches[r["branch_id"]]
            total = Decimal(str(r["total"])) if sqlite else Decimal(r["total"])
            out.append(
                (
                    r["name"],
                    _local(r["created_at"], zone),
                    code,
                    r["customer_name"],
                    r["customer_phone"],
                    r["status"],
                    "yes" if r["is_cod"] else "no",
                    r["cod_status"],
                    r["courier"],
                    r["tracking_number"],
                    r["exception_code"],
                    r["currency"],
                    total.quantize(Decimal("0.01")),
                )
            )
        del rows
        yield out
