"""An online order coming back to a branch: return to origin (a refused COD parcel) or a customer return.

`receive_returned_order` is the condition check at the branch: each line's units are restocked (ON_HAND +)
or put aside as damaged (DAMAGED +), reason "order_returned". Shopify hears of them by a pushed delta,
except for units Shopify already restocked itself (a refund with restock, operations/sync/fulfillment_webhooks.py):
those are already in Branchline's stock and on Shopify, so they are not added twice. The rule, per line:
units back in Branchline's stock = max(returned, shopify_restocked); receiving n more units takes back
`max(R+n, S) − max(R, S)` new ones (ON_HAND + PUSH) and the rest were already counted back — if any of
the n are damaged, those move ON_HAND → DAMAGED (both pushed, so Shopify's available and damaged follow).

A COD order becomes RETURNED. Units received are limited to units shipped and not yet received
(ALREADY_RETURNED); the same idempotency key returns the first result.
"""

from dataclasses import asdict, dataclass

from models.orders import CodStatus, Order, OrderLine
from models.stock import Bucket, ShopifyEffect
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    fetch,
    fingerprint,
    require,
    run_once,
    transaction,
)
from operations.orders import events as order_events
from operations.orders.fulfillment import lock_order
from operations.stock import Movement, Posting, apply_to_ledger

REASON = "order_returned"
MAX_LINES = 250
# A parcel can come back once it has left: on its way (refused, returning) or after delivery.
_COD_CAN_RETURN = {
    CodStatus.DISPATCHED,
    CodStatus.REFUSED,
    CodStatus.RETURNING,
    CodStatus.RETURNED,
    CodStatus.DELIVERED,
}


@dataclass(frozen=True)
class ReturnedLine:
    order_line_id: int
    restock: int = 0  # sellable: back on the shelf
    damaged: int = 0  # unsellable: the damaged bucket


@dataclass(frozen=True)
class ReturnReceipt:
    order_id: int
    lines: list[ReturnedLine]
    idempotency_key: str
    branch_id: int | None = None  # where it arrived; the order's branch when not given
    note: str | None = None


def _validate(receipt: ReturnReceipt) -> None:
    problems = Problems()
    problems.check_key(receipt.idempotency_key)
    if not receipt.lines:
        problems.add(ErrorCode.INVALID, "receive at least one line", "lines")
    if len(receipt.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", "lines")
    seen = set()
    for i, line in enumerate(receipt.lines):
        for name, value in (("restock", line.restock), ("damaged", line.damaged)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.add(ErrorCode.INVALID, f"{name} must be a whole number, 0 or more", f"lines.{i}.{name}")
        if isinstance(line.restock, int) and isinstance(line.damaged, int) and line.restock + line.damaged == 0:
            problems.add(ErrorCode.INVALID, "account for at least one unit", f"lines.{i}.restock")
        if line.order_line_id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same order line appears twice", f"lines.{i}.orderLineId")
        seen.add(line.order_line_id)
    if receipt.note is not None and len(receipt.note) > 1000:
        problems.add(ErrorCode.INVALID, "note must be at most 1000 characters", "note")
    problems.raise_if_any()


async def order_coming_back(actor: Actor, order_id: int, branch_id: int | None) -> tuple[Order, int]:
    """The order and the branch its units come back to (the order's unless named), checked for the caller:
    returns are taken at any branch by staff who may refund there. Also used by exchanges after delivery."""
    order = await Order.get_or_none(id=order_id)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such order", "orderId")
    branch_id = branch_id if branch_id is not None else order.branch_id
    if branch_id is None:
        raise OperationError.single(ErrorCode.INVALID, "say which branch the units came back to", "branchId")
    require(actor, Permission.REFUND, branch_id)
    return order, branch_id


async def receive_returned_order(actor: Actor, receipt: ReturnReceipt) -> tuple[Order, bool]:
    order, branch_id = await order_coming_back(actor, receipt.order_id, receipt.branch_id)
    _validate(receipt)

    async def work(tx: Transaction) -> Order:
        locked = await lock_order(tx, order.id, allow_cancelled=True)
        if locked.is_cod and locked.cod_status not in _COD_CAN_RETURN:
            state = locked.cod_status.value if locked.cod_status else "not dispatched"
            raise OperationError.single(
                ErrorCode.WRONG_STATE, f"COD order {locked.name} is {state}: nothing has left", "orderId"
            )
        movements = await take_back(tx, locked, branch_id, receipt.lines)
        if locked.is_cod:
            await Order.filter(id=locked.id).using_db(tx.conn).update(cod_status=CodStatus.RETURNED)
        after = await Order.get(id=locked.id, using_db=tx.conn)
        detail = {
            "branchId": branch_id,
            "restocked": sum(x.restock for x in receipt.lines),
            "damaged": sum(x.damaged for x in receipt.lines),
        }
        await order_events.record(tx, after, "returned", detail, actor.label)
        key = f"order:{locked.shopify_order_id}:return:{fingerprint(receipt.idempotency_key)[:32]}"
        # A parcel on the counter is a fact: recorded even if the units were sold meanwhile (below zero).
        posting = Posting(key, REASON, actor.label, "order", str(locked.id), note=receipt.note, allow_negative=True)
        if movements:
            await apply_to_ledger(tx, posting, movements)
        return after

    async with transaction() as tx:
        result, replayed = await run_once(
            tx,
            "receiveReturnedOrder",
            receipt.idempotency_key,
            asdict(receipt),
            lambda: work(tx),
            lambda pk: Order.get(id=pk),
        )
    return await Order.get(id=result.id), replayed


async def take_back(
    tx: Transaction, order: Order, branch_id: int, lines: list[ReturnedLine], *, reason: str = REASON
) -> list[Movement]:
    """Count the units back on their lines (never more than shipped) and the movements that put them in
    stock; also used by an exchange after delivery (operations/orders/exchanges.py)."""
    known = {line.id: line for line in await OrderLine.filter(order_id=order.id).using_db(tx.conn)}
    problems = Problems()
    movements: list[Movement] = []
    for i, got in enumerate(lines):
        line = known.get(got.order_line_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, f"order {order.name} has no such line", f"lines.{i}.orderLineId")
            continue
        n = got.restock + got.damaged
        rows = await fetch(
            tx.conn,
            "UPDATE online_order_line SET returned = returned + ? WHERE id = ? AND returned + ? <= fulfilled"
            " RETURNING returned, shopify_restocked",
            [n, line.id, n],
        )
        if not rows:
            out = line.fulfilled - line.returned
            problems.add(
                ErrorCode.ALREADY_RETURNED,
                f"{line.sku or line.title}: only {out} shipped and not yet back",
                f"lines.{i}",
            )
            continue
        if line.variant_id is None:
            continue
        received, restocked = rows[0]["returned"], rows[0]["shopify_restocked"]
        new = max(received, restocked) - max(received - n, restocked)  # not yet back in Branchline's stock
        on_hand = new - got.damaged  # damaged units already back (via Shopify) leave on hand for damaged
        if on_hand:
            movements.append(Movement(branch_id, line.variant_id, on_hand, Bucket.ON_HAND, reason, ShopifyEffect.PUSH))
        if got.damaged:
            movements.append(
                Movement(branch_id, line.variant_id, got.damaged, Bucket.DAMAGED, reason, ShopifyEffect.PUSH)
            )
    problems.raise_if_any()
    return movements
