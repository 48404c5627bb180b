"""Online orders leaving a branch: Smart and Manual fulfillment (docs/architecture.md, Shopify sync).

Which mutation a branch may use follows its `fulfillment_workflow`, so every unit has exactly one
path to Shopify:

- smart: `fulfill_order` deducts here (ON_HAND − and RESERVED −, effect FULFILLMENT); Shopify is told by
  an order action `fulfillment_create` (outbox), after which it deducts itself.
- manual: `record_manual_fulfillment` makes the same movements (effect SHOPIFY_KNOWS), Fulfillment PENDING;
  the merchant fulfils in Shopify later and that fulfillment is matched to this one, deducting nothing.
- branch_sync: both mutations are refused (WRONG_STATE); the merchant fulfils in Shopify and the webhook
  deducts (operations/sync/fulfillment_webhooks.py).

There is deliberately no override: a Smart branch recording a "manual" fulfillment would leave Shopify
never told, a Branch Sync branch fulfilling here would deduct once here and once more when the merchant
fulfils in Shopify. Change the branch's workflow instead.

One transaction per fulfillment: the idempotency key, the order row (locked first, so two fulfillments
of one order take turns), guarded line updates (`fulfilled + q <= quantity`, so units never leave twice:
ALREADY_FULFILLED), the Fulfillment and its lines, the order's status, COD dispatch, the order action,
and last the ledger posting keyed by the fulfillment.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import orjson

from models.branches import Branch
from models.orders import (
    CodStatus,
    ExchangeStatus,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    FulfillmentWorkflow,
    Order,
    OrderExchange,
    OrderLine,
    OrderStatus,
)
from models.stock import Bucket, ShopifyEffect
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    db_time,
    fetch,
    require,
    run_once,
    transaction,
)
from operations.orders import events as order_events
from operations.stock import Movement, Posting, apply_to_ledger

ORDER_ACTION_TOPIC = "shopify.order_action"
REASON = "online_fulfillment"
MAX_LINES = 250
# COD orders are confirmed with the customer before anything ships.
_COD_NOT_READY = {CodStatus.PENDING_CONFIRMATION: "confirm it with the customer first", CodStatus.CANCELLED: ""}


@dataclass(frozen=True)
class ShipLine:
    order_line_id: int
    quantity: int


@dataclass(frozen=True)
class Shipment:
    order_id: int
    idempotency_key: str
    lines: list[ShipLine] | None = None  # None: every unit still to ship
    courier: str | None = None  # the tracking company, e.g. "TCS", "Leopards"
    tracking_number: str | None = None


@dataclass(frozen=True)
class Pick:
    """Units of one order line leaving stock, as taken under the order's lock."""

    line: OrderLine
    quantity: int
    released: int  # of them, units that were reserved for the order (RESERVED −)


# -- the two mutations ---------------------------------------------------------------------------


async def fulfill_order(actor: Actor, shipment: Shipment) -> tuple[Fulfillment, bool]:
    """Smart Fulfillment: ship from the order's branch; Shopify is told by the order-actions worker."""
    return await _ship(actor, shipment, FulfillmentWorkflow.SMART, "fulfillOrder")


async def record_manual_fulfillment(actor: Actor, shipment: Shipment) -> tuple[Fulfillment, bool]:
    """Manual Fulfillment: shipped from the branch, fulfilled in Shopify by hand later (then matched)."""
    return await _ship(actor, shipment, FulfillmentWorkflow.MANUAL, "recordManualFulfillment")


def _validate(shipment: Shipment) -> None:
    problems = Problems()
    problems.check_key(shipment.idempotency_key)
    if shipment.lines is not None:
        if not shipment.lines:
            problems.add(ErrorCode.INVALID, "ship at least one line, or leave lines out to ship everything", "lines")
        if len(shipment.lines) > MAX_LINES:
            problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", "lines")
        seen = set()
        for i, line in enumerate(shipment.lines):
            if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
                problems.add(ErrorCode.INVALID, "quantity must be a whole number, 1 or more", f"lines.{i}.quantity")
            if line.order_line_id in seen:
                problems.add(ErrorCode.DUPLICATE, "the same order line appears twice", f"lines.{i}.orderLineId")
            seen.add(line.order_line_id)
    for name, value, limit in (("courier", shipment.courier, 80), ("trackingNumber", shipment.tracking_number, 120)):
        if value is not None and (not value.strip() or len(value) > limit):
            problems.add(ErrorCode.INVALID, f"{name} must be 1–{limit} characters", name)
    problems.raise_if_any()


async def _ship(actor: Actor, shipment: Shipment, workflow: FulfillmentWorkflow, operation: str):
    order = await Order.get_or_none(id=shipment.order_id)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such order", "orderId")
    if order.branch_id is None:
        raise OperationError.single(
            ErrorCode.WRONG_STATE, f"order {order.name} has no branch yet: assign one", "orderId"
        )
    require(actor, Permission.SELL, order.branch_id)
    _validate(shipment)
    branch = await Branch.get(id=order.branch_id)
    if branch.fulfillment_workflow != workflow.value:
        raise OperationError.single(ErrorCode.WRONG_STATE, _wrong_workflow(branch, workflow), "orderId")

    async def work(tx: Transaction) -> Fulfillment:
        locked = await lock_order(tx, order.id)
        if locked.branch_id != branch.id:  # routed elsewhere since we looked
            raise OperationError.single(ErrorCode.WRONG_STATE, f"order {order.name} moved to another branch", "orderId")
        if locked.is_cod and locked.cod_status in _COD_NOT_READY:
            why = _COD_NOT_READY[locked.cod_status]
            raise OperationError.single(
                ErrorCode.WRONG_STATE,
                f"COD order {order.name} is {locked.cod_status.value}; {why}".rstrip("; "),
                "orderId",
            )
        if await OrderExchange.filter(order_id=locked.id, status=ExchangeStatus.PENDING).using_db(tx.conn).exists():
            # Its new line is not on Shopify's order yet: a fulfillment could not name it there.
            raise OperationError.single(
                ErrorCode.WRONG_STATE,
                f"an exchange on {order.name} is on its way to Shopify: try again shortly",
                "orderId",
            )
        picks = await take_lines(tx, locked, shipment.lines)
        fulfillment = await Fulfillment.create(
            order_id=order.id,
            branch_id=branch.id,
            workflow=workflow,
            status=FulfillmentStatus.PENDING,
            tracking_company=shipment.courier,
            tracking_number=shipment.tracking_number,
            idempotency_key=f"{operation}:{shipment.idempotency_key}"[:200],
            created_by=actor.label[:120],
            using_db=tx.conn,
        )
        await add_lines(tx, fulfillment, picks)
        dispatched = await mark_shipped(tx, locked, shipment.courier, shipment.tracking_number)
        detail = {"fulfillmentId": fulfillment.id, "workflow": workflow.value, "units": sum(p.quantity for p in picks)}
        await order_events.record(tx, dispatched, "fulfilled", detail, actor.label)
        if (
            dispatched.is_cod
            and dispatched.cod_status is CodStatus.DISPATCHED
            and locked.cod_status is not CodStatus.DISPATCHED
        ):
            cod = {"courier": shipment.courier, "trackingNumber": shipment.tracking_number}
            await order_events.record(tx, dispatched, "dispatched", cod, actor.label)
        if workflow is FulfillmentWorkflow.SMART:
            await queue_order_action(
                tx,
                f"order_action:fulfill:{fulfillment.id}",
                {"action": "fulfillment_create", "fulfillmentId": fulfillment.id},
            )
        effect = ShopifyEffect.FULFILLMENT if workflow is FulfillmentWorkflow.SMART else ShopifyEffect.SHOPIFY_KNOWS
        posting = Posting(
            f"fulfillment:branchline:{fulfillment.id}", REASON, actor.label, "fulfillment", str(fulfillment.id)
        )
        await post(tx, posting, deductions(branch.id, branch.id, picks, effect))
        return fulfillment

    request = {"op": operation, **asdict(shipment)}
    async with transaction() as tx:
        result, replayed = await run_once(
            tx, operation, shipment.idempotency_key, request, lambda: work(tx), lambda pk: Fulfillment.get(id=pk)
        )
    return await Fulfillment.get(id=result.id), replayed


def _wrong_workflow(branch: Branch, wanted: FulfillmentWorkflow) -> str:
    how = {
        "smart": "use fulfillOrder",
        "manual": "use recordManualFulfillment",
        "branch_sync": "fulfil it in Shopify: the fulfillment webhook deducts the stock here",
    }.get(branch.fulfillment_workflow, "change the branch's workflow")
    return f"branch {branch.code} uses the {branch.fulfillment_workflow} workflow, not {wanted.value}: {how}"


# -- building blocks shared with the webhooks and returns ----------------------------------------


async def lock_order(tx: Transaction, order_id: int, *, allow_cancelled: bool = False) -> Order:
    """Take the order's row lock (PostgreSQL) or the write lock (SQLite) before touching its lines,
    so every change to one order's lines and stock takes turns. A cancelled order is WRONG_STATE."""
    guard = "" if allow_cancelled else " AND status <> 'cancelled'"
    rows = await fetch(
        tx.conn,
        f"UPDATE online_order SET version = version + 1, updated_at = ? WHERE id = ?{guard} RETURNING id",
        [db_time(tx.conn, datetime.now(UTC)), order_id],
    )
    order = await Order.get_or_none(id=order_id, using_db=tx.conn)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such order", "orderId")
    if not rows:
        raise OperationError.single(ErrorCode.WRONG_STATE, f"order {order.name} is cancelled", "orderId")
    return order


async def take_lines(
    tx: Transaction, order: Order, wanted: list[ShipLine] | None, *, strict: bool = True
) -> list[Pick]:
    """Count units as fulfilled on their lines and release their reservation.

    `strict`: refuse more units than are left (ALREADY_FULFILLED). Shopify's own fulfillments are
    facts, not requests: they are taken as reported (`strict=False`)."""
    lines = {line.id: line for line in await OrderLine.filter(order_id=order.id).using_db(tx.conn).order_by("id")}
    if wanted is None:
        wanted = [
            ShipLine(line.id, line.quantity - line.fulfilled)
            for line in lines.values()
            if line.quantity > line.fulfilled
        ]
        if not wanted:
            raise OperationError.single(ErrorCode.ALREADY_FULFILLED, f"every unit of {order.name} has shipped", "lines")
    problems = Problems()
    picks: list[Pick] = []
    for i, want in enumerate(wanted):
        line = lines.get(want.order_line_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, f"order {order.name} has no such line", f"lines.{i}.orderLineId")
            continue
        guard = " AND fulfilled + ? <= quantity" if strict else ""
        rows = await fetch(
            tx.conn,
            f"UPDATE online_order_line SET fulfilled = fulfilled + ? WHERE id = ?{guard} RETURNING reserved",
            [want.quantity, line.id, *([want.quantity] if strict else [])],
        )
        if not rows:
            left = line.quantity - line.fulfilled
            problems.add(
                ErrorCode.ALREADY_FULFILLED,
                f"{line.sku or line.title}: only {left} left to ship",
                f"lines.{i}.quantity",
            )
            continue
        released = min(want.quantity, max(rows[0]["reserved"], 0))
        if released:
            await fetch(
                tx.conn, "UPDATE online_order_line SET reserved = reserved - ? WHERE id = ?", [released, line.id]
            )
        picks.append(Pick(line, want.quantity, released))
    problems.raise_if_any()
    return picks


async def add_lines(tx: Transaction, fulfillment: Fulfillment, picks: list[Pick]) -> None:
    await FulfillmentLine.bulk_create(
        [FulfillmentLine(fulfillment_id=fulfillment.id, order_line_id=p.line.id, quantity=p.quantity) for p in picks],
        using_db=tx.conn,
    )


async def mark_shipped(tx: Transaction, order: Order, courier: str | None, tracking: str | None) -> Order:
    """The order's status from its lines; a COD order that ships becomes DISPATCHED with its courier."""
    rows = await fetch(
        tx.conn,
        "SELECT COUNT(*) AS open FROM online_order_line WHERE order_id = ? AND fulfilled < quantity",
        [order.id],
    )
    status = OrderStatus.PARTIALLY_FULFILLED if rows[0]["open"] else OrderStatus.FULFILLED
    changes: dict = {"status": status}
    if order.is_cod and order.cod_status in (None, CodStatus.CONFIRMED, CodStatus.PENDING_CONFIRMATION):
        changes["cod_status"] = CodStatus.DISPATCHED
    if order.is_cod and courier:
        changes["courier"] = courier
    if order.is_cod and tracking:
        changes["tracking_number"] = tracking
    await Order.filter(id=order.id).using_db(tx.conn).update(**changes)
    return await Order.get(id=order.id, using_db=tx.conn)


def deductions(reserved_at: int, shipped_from: int, picks: list[Pick], effect: ShopifyEffect) -> list[Movement]:
    """ON_HAND − where the units left, RESERVED − where they were held (the same branch unless Shopify
    shipped from another location than the one holding the reservation)."""
    movements = []
    for p in picks:
        if p.line.variant_id is None:  # unknown or untracked in Branchline: no stock to move
            continue
        movements.append(Movement(shipped_from, p.line.variant_id, -p.quantity, Bucket.ON_HAND, REASON, effect))
        if p.released:
            movements.append(Movement(reserved_at, p.line.variant_id, -p.released, Bucket.RESERVED, REASON, effect))
    return movements


async def post(tx: Transaction, posting: Posting, movements: list[Movement]) -> None:
    if movements:
        try:
            await apply_to_ledger(tx, posting, movements)
        except OperationError as error:
            raise _lines_named(error) from None


def _lines_named(error: OperationError) -> OperationError:
    return OperationError([type(p)(p.code, p.message, "lines") for p in error.problems])


async def queue_order_action(tx: Transaction, key: str, payload: dict) -> None:
    """An order action for the worker in operations/sync/order_actions.py, in this transaction."""
    await fetch(
        tx.conn,
        "INSERT INTO outbox (topic, key, payload, status, attempts, key_generation, created_at)"
        " VALUES (?, ?, ?, 'pending', 0, 0, ?) ON CONFLICT (key) DO NOTHING",
        [ORDER_ACTION_TOPIC, key, orjson.dumps(payload).decode(), db_time(tx.conn, datetime.now(UTC))],
    )
