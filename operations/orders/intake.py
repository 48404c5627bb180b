"""Online orders in: webhooks, orders fetched and the poll (operations/sync/orders_in.py and
orders_poll.py) all take an order in through `take_in`, as plain data read from Shopify beforehand.

Shopify commits an order's units at its assigned location itself; Branchline mirrors that as
RESERVED at the branch of that location (effect SHOPIFY_KNOWS: nothing is sent back), so in-store
selling cannot take stock promised online (docs/architecture.md, Shopify sync).

How a version of an order is applied, in one transaction:

- the order row is created if new (a concurrent first delivery waits on the unique Shopify id),
  then locked with a guarded UPDATE; a version older than the one applied is stale and ignored;
- each line's reservation is set to what Shopify now says is still to ship from the branch
  (current quantity − units fulfilled), zero once the order is cancelled; only the difference is
  posted. Applying the same version twice therefore posts nothing, and a duplicate or replayed
  webhook rolls back without a trace (not even a version bump);
- a shortage (Shopify sold units the branch no longer has) is reserved anyway — Shopify committed
  them, and Shopify committed must equal Branchline reserved — and shown as an exception on the
  order; in-store selling then cannot take those units, and routing may send the order elsewhere.
  Unknown variants, untracked items and an unmapped location reserve nothing and are exceptions too.

Shopify is never called here: sync/ reads the order and where it is placed, then hands them over.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from models.branches import Branch
from models.catalog import Variant
from models.orders import CodStatus, Order, OrderExceptionCode, OrderLine, OrderStatus
from models.stock import Bucket, ShopifyEffect
from operations.directory import customer_for_order
from operations.kernel import ErrorCode, Transaction, fetch, transaction
from operations.orders import events as order_events
from operations.orders.exchanges import is_provisional
from operations.orders.payloads import (
    IncomingOrder,
    Placement,
)
from operations.stock import Movement, Posting, apply_to_ledger

log = logging.getLogger(__name__)

UNTRACKED_ITEM = OrderExceptionCode.UNTRACKED_ITEM.value
# Exceptions intake sets itself; others (set by fulfilment, by people) are never overwritten here.
INTAKE_EXCEPTIONS = {
    ErrorCode.INSUFFICIENT_STOCK.value,
    ErrorCode.UNKNOWN_LOCATION.value,
    ErrorCode.UNKNOWN_VARIANT.value,
    UNTRACKED_ITEM,
}
OPEN_STATES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FULFILLED)


class _NothingToDo(Exception):
    """Raised inside the transaction to roll back a stale or duplicate version."""

    def __init__(self, order: Order):
        self.order = order


class PlacementNeeded(Exception):
    """This version of the order must be placed: read its fulfillment orders from Shopify first."""


@dataclass
class _Refs:
    branch_id: int | None
    location_gid: str | None
    variants: dict[str, int]  # Shopify variant gid -> Branchline variant id
    tracked: dict[str, bool] | None  # line item gid -> tracked (None: not read this time)
    customer_id: int | None = None  # the Branchline customer the order is for, when one is found


async def take_in(incoming: IncomingOrder, placement: Placement | None = None, *, source: str = "shopify") -> Order:
    """Apply one version of an order; returns the order as stored afterwards. `placement` (read from
        Shopify by the caller) is needed for a new order, one still without a branch, or new lines: without it,
    `PlacementNeeded` asks the caller to read it (outside any transaction) and call again."""
    existing = await Order.get_or_none(shopify_order_id=incoming.shopify_order_id)
    if existing is not None and _is_older(incoming.updated_at, existing.shopify_updated_at):
        return existing
    if placement is None and await _needs_placement(existing, incoming):
        raise PlacementNeeded(incoming.shopify_order_id)
    refs = await _resolve(incoming, placement)
    try:
        async with transaction() as tx:
            order = await _apply(tx, incoming, refs, source)
    except _NothingToDo as nothing:
        return nothing.order
    if order.exception_code == ErrorCode.INSUFFICIENT_STOCK.value:
        from operations.orders.routing import route_if_short  # routing builds on intake, not the reverse

        order = await route_if_short(order.id) or order
    return order


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_older(incoming: datetime, applied: datetime | None) -> bool:
    return applied is not None and incoming < _aware(applied)


async def _needs_placement(existing: Order | None, incoming: IncomingOrder) -> bool:
    """Shopify is asked where the order is only when something new must be placed: a new order,
    one still waiting for a branch, or lines (an order edit) Branchline has not seen."""
    if existing is None or existing.branch_id is None:
        return True
    known = set(await OrderLine.filter(order_id=existing.id).values_list("shopify_line_item_id", flat=True))
    return any(line.shopify_line_item_id not in known for line in incoming.lines)


async def _resolve(incoming: IncomingOrder, placement: Placement | None) -> _Refs:
    wanted = sorted({line.variant_gid for line in incoming.lines if line.variant_gid})
    variants = dict(
        await Variant.filter(shopify_variant_id__in=wanted).values_list("shopify_variant_id", "id") if wanted else []
    )
    location = placement.location_gid if placement else None
    branch = await Branch.get_or_none(shopify_location_id=location) if location else None
    customer_id = await customer_for_order(incoming.shopify_customer_id, incoming.customer_phone)
    return _Refs(
        branch.id if branch else None, location, variants, placement.tracked if placement else None, customer_id
    )


async def _lock(tx: Transaction, incoming: IncomingOrder, refs: _Refs) -> tuple[Order, bool, int]:
    """The order row, created if new, locked for this transaction: (order, created, version)."""
    order = await Order.get_or_none(shopify_order_id=incoming.shopify_order_id)
    created = False
    if order is None:
        try:
            async with transaction():  # a savepoint: a lost race must not abort the outer transaction
                order = await Order.create(
                    shopify_order_id=incoming.shopify_order_id,
                    name=incoming.name,
                    is_cod=incoming.is_cod,
                    cod_status=CodStatus.PENDING_CONFIRMATION if incoming.is_cod else None,
                    branch_id=refs.branch_id,
                    shopify_location_id=refs.location_gid,
                    shopify_created_at=incoming.created_at,
                )
            created = True
        except IntegrityError:  # another delivery of this order created it first
            order = await Order.get(shopify_order_id=incoming.shopify_order_id)
    rows = await fetch(
        tx.conn, "UPDATE online_order SET version = version + 1 WHERE id = ? RETURNING version", [order.id]
    )
    return await Order.get(id=order.id), created, rows[0]["version"]


async def _apply(tx: Transaction, incoming: IncomingOrder, refs: _Refs, source: str) -> Order:
    order, created, version = await _lock(tx, incoming, refs)
    if not created and _is_older(incoming.updated_at, order.shopify_updated_at):
        raise _NothingToDo(order)
    before = _snapshot(order)
    problems: list[tuple[str, str]] = []
    if order.customer_id is None and refs.customer_id is not None:  # linked once, never moved by a later version
        order.customer_id = refs.customer_id
    if order.branch_id is None and refs.branch_id is not None:  # the location has been mapped since
        order.branch_id, order.shopify_location_id = refs.branch_id, refs.location_gid
    if order.branch_id is None:
        where = refs.location_gid or "no location"
        problems.append(
            (ErrorCode.UNKNOWN_LOCATION.value, f"Shopify assigned the order to {where}, which is no branch")
        )
    cancelled_now = incoming.cancelled_at is not None and order.status is not OrderStatus.CANCELLED
    _copy_fields(order, incoming, cancelled_now)
    lines, line_problems = await _sync_lines(order, incoming, refs)
    problems += line_problems
    movements = reservation_changes(order, lines)
    changed_lines = [line for line in lines if line._changed]
    _set_exception(order, problems)
    if not created and not movements and not changed_lines and _snapshot(order) == before:
        raise _NothingToDo(order)  # a duplicate, or a version that changes nothing here
    for line in changed_lines:
        await line.save()
    applied = []
    if movements:
        result = await apply_to_ledger(
            tx,
            Posting(
                f"order:{order.shopify_order_id}:v{version}",
                "online_order",
                reference_type="online_order",
                reference_id=str(order.id),
                allow_negative=True,  # Shopify already sold these units: record them, flag the shortage
            ),
            movements,
        )
        applied = result.movements
    short = sorted({m.sku for m in applied if m.delta > 0 and m.available < 0})
    if short:
        problems.append((ErrorCode.INSUFFICIENT_STOCK.value, f"not enough stock at the branch for {', '.join(short)}"))
    _set_exception(order, problems)
    await order.save()
    kind = "created" if created else "cancelled" if cancelled_now else "updated"
    detail = {"source": source, "shopifyUpdatedAt": incoming.updated_at.isoformat()}
    if movements:
        detail["reserved"] = {m.sku: m.delta for m in applied}
    await order_events.record(tx, order, kind, detail)
    if problems and order.exception_code != before["exception_code"]:
        await order_events.record(tx, order, "exception", {"code": order.exception_code})
    return order


def _snapshot(order: Order) -> dict:
    keys = ("branch_id", "name", "financial_status", "payment_gateways", "total", "status", "cod_status")
    return {
        k: getattr(order, k) for k in (*keys, "exception_code", "exception_message", "customer_name", "cancelled_at")
    }


def _copy_fields(order: Order, incoming: IncomingOrder, cancelled_now: bool) -> None:
    order.name = incoming.name
    order.financial_status = incoming.financial_status
    order.payment_gateways = incoming.gateways
    order.currency = incoming.currency
    order.total = incoming.total
    order.customer_name = incoming.customer_name or order.customer_name
    order.customer_phone = incoming.customer_phone or order.customer_phone
    order.customer_email = incoming.customer_email or order.customer_email
    if incoming.shipping_address:
        order.shipping_address = incoming.shipping_address
    applied = _aware(order.shopify_updated_at)
    order.shopify_updated_at = max(incoming.updated_at, applied) if applied else incoming.updated_at
    if cancelled_now:
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = incoming.cancelled_at
        if order.cod_status in (CodStatus.PENDING_CONFIRMATION, CodStatus.CONFIRMED):
            order.cod_status = CodStatus.CANCELLED


async def _sync_lines(order: Order, incoming: IncomingOrder, refs: _Refs) -> tuple[list[OrderLine], list]:
    """Lines as Shopify has them now; a line Shopify no longer lists has nothing left to ship."""
    existing = {line.shopify_line_item_id: line for line in await OrderLine.filter(order_id=order.id)}
    for line in existing.values():
        line._changed = False  # a line this version does not list may be left untouched
    problems: list[tuple[str, str]] = []
    seen = set()
    for item in incoming.lines:
        seen.add(item.shopify_line_item_id)
        line = existing.get(item.shopify_line_item_id) or _claim_exchanged(existing, item, refs)
        if line is None:
            line = OrderLine(order_id=order.id, shopify_line_item_id=item.shopify_line_item_id, reserved=0)
            line.variant_id = None
            existing[item.shopify_line_item_id] = line
            line._changed = True
        else:
            line._changed = False
        if line.variant_id is None and item.variant_gid:
            variant_id = refs.variants.get(item.variant_gid)
            # A line the placement query did not reach (a cap) is unknown, not untracked: left for a later read.
            tracked = refs.tracked.get(item.shopify_line_item_id) if refs.tracked is not None else None
            if variant_id is None:
                problems.append(
                    (ErrorCode.UNKNOWN_VARIANT.value, f"{item.sku or item.variant_gid} is not in Branchline")
                )
            elif tracked is False:
                problems.append((UNTRACKED_ITEM, f"{item.sku or item.title}: Shopify does not track its stock"))
            elif tracked:
                line.variant_id, line._changed = variant_id, True
        values = {"sku": item.sku, "title": item.title, "quantity": item.quantity, "unit_price": item.unit_price}
        for name, value in values.items():
            if getattr(line, name, None) != value:
                setattr(line, name, value)
                line._changed = True
    for gid, line in existing.items():
        # Only a complete list says a line is gone; a line beyond a query's cap is unknown: left as it is.
        if gid not in seen and line.quantity != 0 and incoming.lines_complete and not is_provisional(gid):
            line.quantity, line._changed = 0, True
    return list(existing.values()), problems


def _claim_exchanged(existing: dict[str, OrderLine], item, refs: _Refs) -> OrderLine | None:
    """A line Shopify's edit added for an exchange made here (operations/orders/exchanges.py): the
    provisional line already holds its units, so it takes Shopify's id instead of a second line reserving
    them again."""
    variant_id = refs.variants.get(item.variant_gid) if item.variant_gid else None
    if variant_id is None:
        return None
    gid = next(
        (k for k, x in existing.items() if is_provisional(k) and x.variant_id == variant_id and x.quantity), None
    )
    if gid is None:
        return None
    line = existing.pop(gid)
    line.shopify_line_item_id, line._changed = item.shopify_line_item_id, True
    existing[item.shopify_line_item_id] = line
    return line


def reservation_changes(order: Order, lines: list[OrderLine]) -> list[Movement]:
    """Each tracked line holds what is still to ship from the branch; post only the difference."""
    holding = order.status in OPEN_STATES and order.branch_id is not None
    movements = []
    for line in lines:
        if line.variant_id is None:  # no stock here: never a RESERVED movement, whatever the line counted
            if line.reserved:
                line.reserved, line._changed = 0, True
            continue
        target = max(0, line.quantity - line.fulfilled) if holding else 0
        delta = target - (line.reserved or 0)
        if delta == 0 or order.branch_id is None:
            continue
        movements.append(
            Movement(
                order.branch_id,
                line.variant_id,
                delta,
                Bucket.RESERVED,
                "online_order" if delta > 0 else "order_released",
                ShopifyEffect.SHOPIFY_KNOWS,
            )
        )
        line.reserved, line._changed = target, True
    return movements


def _set_exception(order: Order, problems: list[tuple[str, str]]) -> None:
    if order.exception_code is not None and order.exception_code not in INTAKE_EXCEPTIONS:
        return  # someone else's exception: it stays until they resolve it
    if problems:
        order.exception_code = OrderExceptionCode(problems[0][0]).value
        order.exception_message = "; ".join(message for _, message in problems)[:2000]
    elif order.exception_code == ErrorCode.UNKNOWN_LOCATION.value and order.branch_id is not None:
        order.exception_code = order.exception_message = None  # the location has been mapped since
    elif order.exception_code == ErrorCode.INSUFFICIENT_STOCK.value and order.status is OrderStatus.CANCELLED:
        order.exception_code = order.exception_message = None  # nothing is held any more
