"""Purchase orders (create, place, close short, cancel) and the checks every purchasing step shares.

A purchase order goes DRAFT → ORDERED → (PARTIALLY_RECEIVED →) RECEIVED → CLOSED, or CANCELLED
before anything was received. Receiving goods (the step that moves stock and the average cost)
is in operations/purchasing/receiving.py, suppliers in operations/purchasing/suppliers.py; this module
holds the order's other steps and what they all share:

- each step is one transaction that first claims the client's idempotency key (a retry returns
  the first result), then takes the order's row with a guarded UPDATE that also checks its state
  (`... WHERE id = ? AND status IN (...)`). On PostgreSQL that UPDATE holds the row lock until
  commit, so a receipt and a cancel of one order take turns and the second sees the first's
  outcome; on SQLite the write takes the database's write lock, which serialises them the same
  way. Nothing reads a state and writes it back.
- who may do what, where: PURCHASE (owners, admins, branch managers, inventory staff) at the
  receiving branch for orders; PURCHASE anywhere for suppliers (they serve every branch);
  receiving needs ADJUST_STOCK at the receiving branch.
- costs are PKR with at most 4 decimals (a carton price split per unit rarely divides evenly).
"""

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from models.branches import Branch
from models.purchasing import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier
from operations.directory import VariantRef, resolve_distinct_variants
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    db_time,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.stock import MAX_UNITS_PER_MOVEMENT

MAX_LINES = 200
MAX_NOTE = 1000
MAX_REASON = 200
MAX_UNITS = MAX_UNITS_PER_MOVEMENT
MAX_COST = Decimal("9999999999.9999")  # fits DECIMAL(14, 4)
COST_STEP = Decimal("0.0001")

CANCELLABLE = (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.ORDERED)
RECEIVABLE = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PARTIALLY_RECEIVED)
# Closing settles an order that has started arriving; one with nothing in yet is cancelled instead.
CLOSABLE = (PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED)


# --- checks shared by every step -----------------------------------------------------------------


def is_units(value: Any) -> bool:
    """A whole number of units (not a bool) in 1..MAX_UNITS."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_UNITS


def cost_problem(value: Any) -> str | None:
    try:
        if not isinstance(value, Decimal) or not value.is_finite():
            return "unitCost must be a number"
        if value < 0:
            return "unitCost must not be negative"
        if value > MAX_COST:
            return f"unitCost must be at most {MAX_COST:,}"
        if value != value.quantize(COST_STEP):
            return "unitCost has more than 4 decimal places"
    except InvalidOperation:
        return "unitCost must be a number"
    return None


def normal_cost(value: Decimal) -> Decimal:
    """4 places, so 100 and 100.00 are the same request and are stored alike."""
    return value.quantize(COST_STEP)


def check_text(problems: Problems, value: str | None, limit: int, field: str) -> None:
    if value is not None and len(value) > limit:
        problems.add(ErrorCode.INVALID, f"{field} must be at most {limit} characters", field)


async def load_order(order_id: int) -> PurchaseOrder:
    order = await PurchaseOrder.get_or_none(id=order_id)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such purchase order", "purchaseOrderId")
    return order


async def take(tx: Transaction, order: PurchaseOrder, allowed: tuple[PurchaseOrderStatus, ...], **changes: Any) -> None:
    """Lock the order's row if it is in one of `allowed` states, applying `changes` in the same
    statement; otherwise WRONG_STATE naming the state it is really in."""
    columns = {"updated_at": datetime.now(UTC), **changes}
    sets, values = ["version = version + 1"], []
    for column, value in columns.items():
        sets.append(f"{column} = ?")
        if isinstance(value, datetime):
            value = db_time(tx.conn, value)
        values.append(value.value if isinstance(value, PurchaseOrderStatus) else value)
    states = ", ".join("?" for _ in allowed)
    rows = await fetch(
        tx.conn,
        f"UPDATE purchase_order SET {', '.join(sets)} WHERE id = ? AND status IN ({states}) RETURNING id",
        [*values, order.id, *(s.value for s in allowed)],
    )
    if not rows:
        current = await PurchaseOrder.get(id=order.id)
        wanted = " or ".join(s.value.upper() for s in allowed)
        hint = {
            PurchaseOrderStatus.DRAFT: " (place it first)",
            PurchaseOrderStatus.ORDERED: " (nothing received yet: cancel it instead)",
        }.get(current.status, "")
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"purchase order {current.number} is {current.status.value.upper()}; this needs it {wanted}{hint}",
            "purchaseOrderId",
        )


async def next_number(tx: Transaction, kind: str, prefix: str) -> str:
    """PO-000042 / GRN-000017: one run per kind, taken inside the creating transaction, so a
    rolled-back document leaves no hole."""
    sql = "UPDATE purchasing_number_sequence SET last_number = last_number + 1 WHERE kind = ? RETURNING last_number"
    rows = await fetch(tx.conn, sql, [kind])
    if not rows:
        await fetch(
            tx.conn,
            "INSERT INTO purchasing_number_sequence (kind, last_number) VALUES (?, 0) ON CONFLICT (kind) DO NOTHING",
            [kind],
        )
        rows = await fetch(tx.conn, sql, [kind])
    return f"{prefix}-{rows[0]['last_number']:06d}"


async def step(
    operation: str, key: str | None, request: dict, work: Callable[[Transaction], Awaitable[Any]]
) -> tuple[PurchaseOrder, bool]:
    """One step on an order; with a key, a retry (even a concurrent one, which waits on the key's
    unique index) gets the first result instead of doing it again."""
    async with transaction() as tx:
        result, replayed = await run_once(
            tx, operation, key, request, lambda: work(tx), lambda pk: PurchaseOrder.get(id=pk)
        )
    return await PurchaseOrder.get(id=result.id), replayed


# --- purchase orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    variant: VariantRef
    quantity: int
    unit_cost: Decimal


@dataclass(frozen=True)
class NewPurchaseOrder:
    supplier_id: int
    branch_id: int  # the receiving branch
    lines: list[OrderLine]
    idempotency_key: str
    expected_on: date | None = None
    note: str | None = None
    place: bool = False  # straight to ORDERED instead of a DRAFT


def _validate_order(new: NewPurchaseOrder) -> None:
    problems = Problems()
    problems.check_key(new.idempotency_key)
    check_text(problems, new.note, MAX_NOTE, "note")
    if not new.lines:
        problems.add(ErrorCode.INVALID, "a purchase order needs at least one line", "lines")
    if len(new.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines per purchase order", "lines")
    for i, line in enumerate(new.lines):
        if not is_units(line.quantity):
            problems.add(ErrorCode.INVALID, f"quantity must be a whole number 1–{MAX_UNITS:,}", f"lines.{i}.quantity")
        if (message := cost_problem(line.unit_cost)) is not None:
            problems.add(ErrorCode.INVALID, message, f"lines.{i}.unitCost")
    problems.raise_if_any()


async def create_purchase_order(actor: Actor, new: NewPurchaseOrder) -> tuple[PurchaseOrder, bool]:
    """Returns (order, replayed). One line per variant: the same variant twice is refused."""
    require(actor, Permission.PURCHASE, new.branch_id)
    _validate_order(new)
    problems = Problems()
    if not await Branch.exists(id=new.branch_id):
        problems.add(ErrorCode.NOT_FOUND, f"branch {new.branch_id} does not exist", "branchId")
    supplier = await Supplier.get_or_none(id=new.supplier_id)
    if supplier is None:
        problems.add(ErrorCode.NOT_FOUND, "no such supplier", "supplierId")
    elif not supplier.active:
        problems.add(ErrorCode.INVALID, f"supplier {supplier.name} is inactive", "supplierId")
    problems.raise_if_any()
    variant_ids = await resolve_distinct_variants([line.variant for line in new.lines])

    async def write(tx: Transaction) -> PurchaseOrder:
        now = datetime.now(UTC)
        order = await PurchaseOrder.create(
            number=await next_number(tx, "po", "PO"),
            supplier_id=new.supplier_id,
            branch_id=new.branch_id,
            status=PurchaseOrderStatus.ORDERED if new.place else PurchaseOrderStatus.DRAFT,
            expected_on=new.expected_on,
            note=new.note,
            created_by=actor.label[:120],
            created_by_staff_id=actor.staff_id,
            ordered_by=actor.label[:120] if new.place else None,
            ordered_at=now if new.place else None,
        )
        await PurchaseOrderLine.bulk_create(
            [
                PurchaseOrderLine(
                    purchase_order_id=order.id,
                    line_no=n,
                    variant_id=variant_id,
                    quantity_ordered=line.quantity,
                    unit_cost=normal_cost(line.unit_cost),
                )
                for n, (variant_id, line) in enumerate(zip(variant_ids, new.lines, strict=True), start=1)
            ]
        )
        await record_audit(
            actor,
            "purchase_order.ordered" if new.place else "purchase_order.drafted",
            branch_id=new.branch_id,
            target=("purchase_order", order.id),
            supplier_id=new.supplier_id,
            lines=len(new.lines),
        )
        return order

    request = asdict(new) | {
        "lines": [
            [v, line.quantity, normal_cost(line.unit_cost)] for v, line in zip(variant_ids, new.lines, strict=True)
        ]
    }
    return await step("createPurchaseOrder", new.idempotency_key, request, write)


async def place_purchase_order(actor: Actor, order_id: int, key: str | None = None) -> tuple[PurchaseOrder, bool]:
    """DRAFT → ORDERED: the order has gone to the supplier and its units are now expected."""
    order = await load_order(order_id)
    require(actor, Permission.PURCHASE, order.branch_id)
    _check_key_and_reason(key, None)

    async def work(tx: Transaction) -> PurchaseOrder:
        now = datetime.now(UTC)
        await take(
            tx,
            order,
            (PurchaseOrderStatus.DRAFT,),
            status=PurchaseOrderStatus.ORDERED,
            ordered_by=actor.label[:120],
            ordered_at=now,
        )
        await record_audit(
            actor, "purchase_order.ordered", branch_id=order.branch_id, target=("purchase_order", order.id)
        )
        return order

    return await step("placePurchaseOrder", key, {"order": order_id}, work)


async def close_purchase_order(
    actor: Actor, order_id: int, key: str | None = None, reason: str | None = None
) -> tuple[PurchaseOrder, bool]:
    """Short-close: whatever is still outstanding is no longer expected (kept per line as
    `quantity_cancelled`), and no further goods can be received against the order."""
    return await _end_order(actor, order_id, key, reason, closing=True)


async def cancel_purchase_order(
    actor: Actor, order_id: int, key: str | None = None, reason: str | None = None
) -> tuple[PurchaseOrder, bool]:
    """Only before anything was received: afterwards the way out is closing it short."""
    return await _end_order(actor, order_id, key, reason, closing=False)


async def _end_order(
    actor: Actor, order_id: int, key: str | None, reason: str | None, *, closing: bool
) -> tuple[PurchaseOrder, bool]:
    """Close short or cancel: the same steps, from different states, under different names."""
    order = await load_order(order_id)
    require(actor, Permission.PURCHASE, order.branch_id)
    _check_key_and_reason(key, reason)
    who = "closed" if closing else "cancelled"

    async def work(tx: Transaction) -> PurchaseOrder:
        await take(
            tx,
            order,
            CLOSABLE if closing else CANCELLABLE,
            status=PurchaseOrderStatus.CLOSED if closing else PurchaseOrderStatus.CANCELLED,
            close_reason=reason,
            **{f"{who}_by": actor.label[:120], f"{who}_at": datetime.now(UTC)},
        )
        short = await _write_off_outstanding(tx, order.id)
        extra = {"units_short": short} if closing else {}
        await record_audit(
            actor,
            f"purchase_order.{who}",
            branch_id=order.branch_id,
            target=("purchase_order", order.id),
            reason=reason,
            **extra,
        )
        return order

    operation = "closePurchaseOrder" if closing else "cancelPurchaseOrder"
    return await step(operation, key, {"order": order_id, "reason": reason}, work)


async def _write_off_outstanding(tx: Transaction, order_id: int) -> int:
    """Every line's outstanding units become cancelled (the order row is locked by the caller)."""
    rows = await fetch(
        tx.conn,
        "UPDATE purchase_order_line SET quantity_cancelled = quantity_ordered - quantity_received"
        " WHERE purchase_order_id = ? AND quantity_received + quantity_cancelled < quantity_ordered"
        " RETURNING quantity_ordered - quantity_received AS short",
        [order_id],
    )
    return sum(r["short"] for r in rows)


def _check_key_and_reason(key: str | None, reason: str | None) -> None:
    problems = Problems()
    problems.check_key(key, required=False)
    check_text(problems, reason, MAX_REASON, "reason")
    problems.raise_if_any()
