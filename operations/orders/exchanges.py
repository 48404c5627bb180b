"""Exchanges on online orders: a size or colour swap before the parcel leaves, or after it was delivered.

Before dispatch (`exchange_before_dispatch`) — the customer wants another variant of units still to ship.
In one transaction: the old line gives up the units (its reservation drops), a new line holds the new
variant (RESERVED +, refused if the branch has none free: a swap never oversells), and an order action
`order_exchange` is queued. Nothing is pushed: Shopify moves its own committed stock when the edit is
committed. Until then the new line is *provisional*: its Shopify line item id is `exchange:<id>:<n>`;
intake claims it when Shopify's edited order arrives (operations/orders/intake.py), and fulfilment waits
for it (WRONG_STATE) so no unit ships on a line Shopify does not know yet.

The order action (operations/sync/order_calls.py calls `carry_out`) edits Shopify's order:
`orderEditBegin`, `orderEditSetQuantity` (restock) on the old line, `orderEditAddVariant` at the branch's
location, `orderEditCommit`. None of them takes `@idempotent`, so each attempt reads Shopify's order first:
old lines still at their quantity before the swap → edit; already lowered by the swap and the new variant on
the order → adopted (an earlier commit whose answer was lost); anything else, or a refusal, → the swap is
undone here (old line back to Shopify's quantity, new line to zero, reservations follow) and the order shows
the exception EXCHANGE_REFUSED.

After delivery (`exchange_delivered_items`) — the customer's units come back and replacements go out, one
document, one transaction: the units back are taken in as a return (restock or damaged, counted once against
Shopify's own restocks, operations/orders/returns.py), the replacements leave the branch (ON_HAND −, refused
if not on the shelf); both reach Shopify as pushed deltas. Shopify's order is not edited: it was fulfilled and
paid for; the price difference is on the exchange for the cashier to settle.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal

from models.catalog import Variant
from models.orders import (
    CodStatus,
    ExchangeKind,
    ExchangeStatus,
    Order,
    OrderExceptionCode,
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
    fetch,
    require,
    run_once,
    transaction,
)
from operations.orders import events as order_events
from operations.orders.fulfillment import lock_order, post, queue_order_action
from operations.orders.returns import ReturnedLine, order_coming_back, take_back
from operations.stock import Movement, Posting

PROVISIONAL = "exchange:"  # prefix of a new line's Shopify id until Shopify's order holds it
EXCHANGE_REFUSED = OrderExceptionCode.EXCHANGE_REFUSED.value
MAX_LINES = 50
_COD_SHIPPED = {CodStatus.DISPATCHED, CodStatus.REFUSED, CodStatus.RETURNING, CodStatus.RETURNED}


@dataclass(frozen=True)
class SwapLine:
    order_line_id: int
    quantity: int
    new_variant_id: int
    damaged: bool = False  # after delivery: the unit that came back is unsellable


@dataclass(frozen=True)
class ExchangeRequest:
    order_id: int
    lines: list[SwapLine]
    idempotency_key: str
    branch_id: int | None = None  # after delivery: where the customer is served; the order's branch otherwise
    courier: str | None = None
    tracking_number: str | None = None
    note: str | None = None


def is_provisional(shopify_line_item_id: str | None) -> bool:
    return bool(shopify_line_item_id) and shopify_line_item_id.startswith(PROVISIONAL)


async def pending_exchange(order_id: int, conn=None) -> OrderExchange | None:
    query = OrderExchange.filter(order_id=order_id, status=ExchangeStatus.PENDING)
    return await (query.using_db(conn) if conn is not None else query).first()


def _validate(request: ExchangeRequest) -> None:
    problems = Problems()
    problems.check_key(request.idempotency_key)
    if not request.lines:
        problems.add(ErrorCode.INVALID, "exchange at least one line", "lines")
    if len(request.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", "lines")
    seen = set()
    for i, line in enumerate(request.lines):
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            problems.add(ErrorCode.INVALID, "quantity must be a whole number, 1 or more", f"lines.{i}.quantity")
        if line.order_line_id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same order line appears twice", f"lines.{i}.orderLineId")
        seen.add(line.order_line_id)
    for name, value, limit in (
        ("courier", request.courier, 80),
        ("trackingNumber", request.tracking_number, 120),
        ("note", request.note, 1000),
    ):
        if value is not None and (not value.strip() or len(value) > limit):
            problems.add(ErrorCode.INVALID, f"{name} must be 1–{limit} characters", name)
    problems.raise_if_any()


async def _variants(request: ExchangeRequest, lines: dict[int, OrderLine], *, for_shopify: bool) -> dict[int, Variant]:
    """The new variants, checked against the lines they replace."""
    wanted = {line.new_variant_id for line in request.lines}
    variants = {v.id: v for v in await Variant.filter(id__in=list(wanted)).prefetch_related("product")}
    problems = Problems()
    for i, swap in enumerate(request.lines):
        line = lines.get(swap.order_line_id)
        variant = variants.get(swap.new_variant_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, "the order has no such line", f"lines.{i}.orderLineId")
        elif line.variant_id is None:
            problems.add(ErrorCode.INVALID, f"{line.sku or line.title} holds no stock here", f"lines.{i}.orderLineId")
        if variant is None:
            problems.add(ErrorCode.NOT_FOUND, "no such variant", f"lines.{i}.newVariantId")
        elif line is not None and variant.id == line.variant_id:
            problems.add(ErrorCode.INVALID, "that is the variant the customer has", f"lines.{i}.newVariantId")
        elif for_shopify and not variant.shopify_variant_id:
            problems.add(ErrorCode.INVALID, f"{variant.sku} is not on Shopify", f"lines.{i}.newVariantId")
    problems.raise_if_any()
    return variants


def _title(variant: Variant) -> str:
    product = variant.product.title
    return f"{product} - {variant.title}" if variant.title and variant.title != "Default Title" else product


def _difference(request: ExchangeRequest, lines: dict[int, OrderLine], variants: dict[int, Variant]) -> Decimal:
    return sum(
        ((variants[s.new_variant_id].price - lines[s.order_line_id].unit_price) * s.quantity for s in request.lines),
        Decimal(0),
    )


# -- before dispatch ------------------------------------------------------------------------------


async def exchange_before_dispatch(actor: Actor, request: ExchangeRequest) -> tuple[OrderExchange, bool]:
    order = await Order.get_or_none(id=request.order_id)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such order", "orderId")
    if order.branch_id is None:
        raise OperationError.single(ErrorCode.WRONG_STATE, f"order {order.name} has no branch yet", "orderId")
    require(actor, Permission.SELL, order.branch_id)
    _validate(request)
    for i, swap in enumerate(request.lines):
        if swap.damaged:  # nothing has come back before dispatch: a damaged unit here is an adjustment
            raise OperationError.single(
                ErrorCode.INVALID, "damaged is for units back after delivery", f"lines.{i}.damaged"
            )

    async def work(tx: Transaction) -> OrderExchange:
        locked = await lock_order(tx, order.id)
        if locked.status not in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FULFILLED):
            raise OperationError.single(ErrorCode.WRONG_STATE, f"order {locked.name} has shipped", "orderId")
        if locked.is_cod and locked.cod_status in _COD_SHIPPED:
            raise OperationError.single(ErrorCode.WRONG_STATE, f"COD order {locked.name} has left", "orderId")
        if await pending_exchange(locked.id, tx.conn):
            raise OperationError.single(
                ErrorCode.WRONG_STATE, f"an exchange on {locked.name} is still on its way to Shopify", "orderId"
            )
        lines = {line.id: line for line in await OrderLine.filter(order_id=locked.id).using_db(tx.conn)}
        variants = await _variants(request, lines, for_shopify=True)
        problems = Problems()
        for i, swap in enumerate(request.lines):
            line = lines[swap.order_line_id]
            if is_provisional(line.shopify_line_item_id):
                problems.add(ErrorCode.WRONG_STATE, "that line is itself waiting for Shopify", f"lines.{i}.orderLineId")
            elif line.quantity - line.fulfilled < swap.quantity:
                left = line.quantity - line.fulfilled
                problems.add(
                    ErrorCode.ALREADY_FULFILLED, f"{line.sku or line.title}: only {left} not shipped", f"lines.{i}"
                )
        problems.raise_if_any()
        exchange = await OrderExchange.create(
            order_id=locked.id,
            branch_id=locked.branch_id,
            kind=ExchangeKind.BEFORE_DISPATCH,
            status=ExchangeStatus.PENDING,
            price_difference=_difference(request, lines, variants),
            note=request.note,
            idempotency_key=f"before:{request.idempotency_key}"[:200],
            created_by=actor.label[:120],
            using_db=tx.conn,
        )
        touched, taken = [], []
        for n, swap in enumerate(request.lines):
            old, variant = lines[swap.order_line_id], variants[swap.new_variant_id]
            new = OrderLine(
                order_id=locked.id,
                shopify_line_item_id=f"{PROVISIONAL}{exchange.id}:{n}",
                variant_id=variant.id,
                sku=variant.sku,
                title=_title(variant),
                quantity=swap.quantity,
                unit_price=variant.price,
                reserved=0,
            )
            await new.save(using_db=tx.conn)
            taken.append(
                {
                    "orderLineId": old.id,
                    "newOrderLineId": new.id,
                    "quantity": swap.quantity,
                    "fromVariantId": old.variant_id,
                    "toVariantId": variant.id,
                    "shopifyLineItemId": old.shopify_line_item_id,
                    "shopifyQuantityBefore": old.quantity,
                }
            )
            old.quantity -= swap.quantity
            touched += [old, new]
        await _hold(tx, locked, touched, f"exchange:{exchange.id}", actor.label, strict=True)
        exchange.lines = taken
        await exchange.save(using_db=tx.conn, update_fields=["lines"])
        await queue_order_action(
            tx, f"order_action:exchange:{exchange.id}", {"action": "order_exchange", "exchangeId": exchange.id}
        )
        detail = {"exchangeId": exchange.id, "kind": exchange.kind.value, "lines": taken}
        await order_events.record(tx, locked, "exchanged", detail, actor.label)
        return exchange

    return await _once(tx_op="exchangeOrderItems", request=request, work=work)


async def _hold(tx: Transaction, order: Order, lines: list[OrderLine], key: str, actor: str, *, strict: bool) -> None:
    """Save the lines and move each one's reservation to what it has left to ship (intake's rule)."""
    from operations.orders.intake import reservation_changes  # intake builds on this module for claims

    movements = reservation_changes(order, lines)
    for line in lines:
        await line.save(using_db=tx.conn)
    posting = Posting(key, "order_exchange", actor, "online_order", str(order.id), allow_negative=not strict)
    await post(tx, posting, movements)


async def _once(*, tx_op: str, request: ExchangeRequest, work) -> tuple[OrderExchange, bool]:
    async with transaction() as tx:
        result, replayed = await run_once(
            tx, tx_op, request.idempotency_key, asdict(request), lambda: work(tx), lambda pk: OrderExchange.get(id=pk)
        )
    return await OrderExchange.get(id=result.id), replayed


# -- the Shopify side's outcome (called by the order action) --------------------------------------


async def settle(exchange_id: int, new_line_gids: dict[int, str]) -> None:
    """Shopify's order holds the swap: each provisional line takes its Shopify line item id (unless intake
    claimed it first) and the exchange is SYNCED."""
    async with transaction() as tx:
        exchange = await OrderExchange.get(id=exchange_id, using_db=tx.conn)
        await lock_order(tx, exchange.order_id, allow_cancelled=True)
        for line_id, gid in new_line_gids.items():
            taken = await OrderLine.filter(shopify_line_item_id=gid).using_db(tx.conn).exists()
            if not taken:
                await (
                    OrderLine.filter(id=line_id, shopify_line_item_id__startswith=PROVISIONAL)
                    .using_db(tx.conn)
                    .update(shopify_line_item_id=gid)
                )
        await (
            OrderExchange.filter(id=exchange_id, status=ExchangeStatus.PENDING)
            .using_db(tx.conn)
            .update(status=ExchangeStatus.SYNCED)
        )
        order = await Order.get(id=exchange.order_id, using_db=tx.conn)
        await order_events.record(tx, order, "exchange_synced", {"exchangeId": exchange_id})


async def undo(exchange_id: int, reason: str, shopify_quantities: dict[str, int]) -> None:
    """Shopify will not take the edit: the swap is undone here, so Branchline holds what Shopify holds —
    old lines back to Shopify's current quantity, new lines to zero — and the order shows why."""
    async with transaction() as tx:
        exchange = await OrderExchange.get(id=exchange_id, using_db=tx.conn)
        if exchange.status is not ExchangeStatus.PENDING:
            return
        order = await lock_order(tx, exchange.order_id, allow_cancelled=True)
        ids = [x["orderLineId"] for x in exchange.lines] + [x["newOrderLineId"] for x in exchange.lines]
        lines = {line.id: line for line in await OrderLine.filter(id__in=ids).using_db(tx.conn)}
        for taken in exchange.lines:
            old, new = lines[taken["orderLineId"]], lines[taken["newOrderLineId"]]
            if is_provisional(new.shopify_line_item_id):
                new.quantity = 0
            old.quantity = shopify_quantities.get(old.shopify_line_item_id, taken["shopifyQuantityBefore"])
        await _hold(tx, order, list(lines.values()), f"exchange:{exchange.id}:undone", "system", strict=False)
        await fetch(
            tx.conn,
            "UPDATE online_order_exchange SET status = ?, error = ? WHERE id = ?",
            [ExchangeStatus.REFUSED.value, reason[:2000], exchange.id],
        )
        await (
            Order.filter(id=order.id)
            .using_db(tx.conn)
            .update(
                exception_code=EXCHANGE_REFUSED, exception_message=f"exchange not taken by Shopify: {reason}"[:2000]
            )
        )
        order = await Order.get(id=order.id, using_db=tx.conn)
        await order_events.record(tx, order, "exchange_refused", {"exchangeId": exchange.id, "reason": reason[:500]})


# -- after delivery -------------------------------------------------------------------------------


async def exchange_delivered_items(actor: Actor, request: ExchangeRequest) -> tuple[OrderExchange, bool]:
    order, branch_id = await order_coming_back(actor, request.order_id, request.branch_id)
    _validate(request)

    async def work(tx: Transaction) -> OrderExchange:
        locked = await lock_order(tx, order.id, allow_cancelled=True)
        if locked.is_cod and locked.cod_status is not CodStatus.DELIVERED:
            state = locked.cod_status.value if locked.cod_status else "not dispatched"
            raise OperationError.single(
                ErrorCode.WRONG_STATE, f"COD order {locked.name} is {state}, not delivered", "orderId"
            )
        lines = {line.id: line for line in await OrderLine.filter(order_id=locked.id).using_db(tx.conn)}
        variants = await _variants(request, lines, for_shopify=False)
        back = [
            ReturnedLine(
                s.order_line_id, restock=0 if s.damaged else s.quantity, damaged=s.quantity if s.damaged else 0
            )
            for s in request.lines
        ]
        movements = await take_back(tx, locked, branch_id, back, reason="order_exchanged")
        for swap in request.lines:
            movements.append(
                Movement(
                    branch_id,
                    swap.new_variant_id,
                    -swap.quantity,
                    Bucket.ON_HAND,
                    "exchange_shipped",
                    ShopifyEffect.PUSH,
                )
            )
        taken = [
            {
                "orderLineId": s.order_line_id,
                "quantity": s.quantity,
                "fromVariantId": lines[s.order_line_id].variant_id,
                "toVariantId": s.new_variant_id,
                "condition": "damaged" if s.damaged else "restock",
            }
            for s in request.lines
        ]
        exchange = await OrderExchange.create(
            order_id=locked.id,
            branch_id=branch_id,
            kind=ExchangeKind.AFTER_DELIVERY,
            status=ExchangeStatus.DONE,
            lines=taken,
            price_difference=_difference(request, lines, variants),
            courier=request.courier,
            tracking_number=request.tracking_number,
            note=request.note,
            idempotency_key=f"after:{request.idempotency_key}"[:200],
            created_by=actor.label[:120],
            using_db=tx.conn,
        )
        # The replacement must be on the shelf: the whole exchange is refused otherwise, the return included.
        posting = Posting(
            f"exchange:{exchange.id}",
            "order_exchange",
            actor.label,
            "online_order",
            str(locked.id),
            allow_negative=False,
        )
        await post(tx, posting, movements)
        detail = {"exchangeId": exchange.id, "kind": exchange.kind.value, "branchId": branch_id, "lines": taken}
        await order_events.record(tx, locked, "exchanged", detail, actor.label)
        return exchange

    return await _once(tx_op="exchangeDeliveredItems", request=request, work=work)
