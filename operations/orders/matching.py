"""Matching a Shopify fulfillment to the Branchline fulfillments that already deducted its units.

Staff and merchant do not always group units the same way: two Manual fulfillments recorded here may be
fulfilled in Shopify in one go, or one recorded here may be fulfilled there in two parts. Matching is
therefore by units, per order line, in this order:

1. a PENDING Smart or Manual fulfillment with exactly the same lines (the common case, and the only one
   for Smart: its own fulfillmentCreate may still be in flight, so it is never split);
2. otherwise PENDING Manual fulfillments, oldest first, take the units they cover: one covered whole is
   SYNCED; one covered in part is split — the covered units move to a new SYNCED fulfillment, the rest
   stays PENDING for the next Shopify fulfillment;
3. of the units still uncovered, those the line has still open here (quantity − fulfilled) left in Shopify
   only (Branch Sync): the caller deducts them. Units beyond that were already deducted here by a PENDING
   Smart fulfillment whose fulfillmentCreate has not been sent or answered (the merchant fulfilled them
   by hand meanwhile): they are matched to it like Manual ones in 2., so its order action sends only the
   rest. Units covered by nothing at all (Shopify reports more than the line holds here) are dropped — except
   units an exchange took off the line here while Shopify's order edit is still pending: Shopify still has
   them on the line, so they are open, and deducted.

Every fulfillment matched or split off is linked to the Shopify fulfillment (`matched_shopify_fulfillment_id`),
so its cancel and tracking reach all of them. Runs under the order's lock
(operations/orders/fulfillment.py `lock_order`).
"""

import logging
from dataclasses import dataclass, field

from models.orders import (
    ExchangeStatus,
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    FulfillmentWorkflow,
    Order,
    OrderExchange,
    OrderLine,
)
from operations.kernel import Transaction

log = logging.getLogger(__name__)


@dataclass
class Match:
    leftover: dict[str, int]  # line item gid -> units no Branchline fulfillment covers
    synced: list[int] = field(default_factory=list)  # Branchline fulfillments this Shopify one covers
    exact: bool = False


async def match_pending(tx: Transaction, order: Order, lines: dict[str, int], shopify_id: str) -> Match:
    candidates = await (
        Fulfillment.filter(
            order_id=order.id,
            status=FulfillmentStatus.PENDING,
            shopify_fulfillment_id__isnull=True,
            workflow__in=[FulfillmentWorkflow.SMART, FulfillmentWorkflow.MANUAL],
        )
        .using_db(tx.conn)
        .order_by("id")
        .prefetch_related("lines__order_line")
    )
    for candidate in candidates:
        if _covered(candidate) == lines:
            await _mark_synced(tx, candidate.id, shopify_id)
            return Match({}, [candidate.id], exact=True)
    match = Match(dict(lines))
    await _take(tx, match, [c for c in candidates if c.workflow is FulfillmentWorkflow.MANUAL], shopify_id)
    still_open = {
        line.shopify_line_item_id: max(line.quantity - line.fulfilled, 0)
        for line in await OrderLine.filter(order_id=order.id).using_db(tx.conn)
    }
    # Units an exchange gave up here whose order edit Shopify has not taken yet are still on Shopify's line
    # and the merchant may have shipped them: Shopify is right, they left (and the edit will be refused).
    for exchange in await OrderExchange.filter(order_id=order.id, status=ExchangeStatus.PENDING).using_db(tx.conn):
        for given in exchange.lines:
            gid = given["shopifyLineItemId"]
            still_open[gid] = still_open.get(gid, 0) + given["quantity"]
    beyond = {gid: n - still_open[gid] for gid, n in match.leftover.items() if n > still_open.get(gid, n)}
    if beyond:
        open_part = {gid: n - beyond.get(gid, 0) for gid, n in match.leftover.items()}
        extra = Match(beyond, match.synced)
        await _take(tx, extra, [c for c in candidates if c.workflow is FulfillmentWorkflow.SMART], shopify_id)
        if extra.leftover:  # more than the line holds here: never deducted twice, but worth a look
            log.warning("Shopify fulfillment %s reports units no line has open: %s", shopify_id, extra.leftover)
        match.leftover = {gid: n for gid, n in open_part.items() if n}
    return match


async def _take(tx: Transaction, match: Match, candidates: list[Fulfillment], shopify_id: str) -> None:
    """Pending fulfillments, oldest first, take the units of `match.leftover` they cover (whole or split)."""
    left = match.leftover
    for candidate in candidates:
        taken = {}
        for fl in candidate.lines:
            gid = fl.order_line.shopify_line_item_id
            n = min(fl.quantity, left.get(gid, 0))
            if n:
                taken[fl.id] = n
                left[gid] -= n
        if not taken:
            continue
        if all(taken.get(fl.id, 0) == fl.quantity for fl in candidate.lines):
            await _mark_synced(tx, candidate.id, shopify_id)
            match.synced.append(candidate.id)
        else:
            match.synced.append(await _split(tx, candidate, taken, shopify_id))
    match.leftover = {gid: n for gid, n in left.items() if n}


def _covered(fulfillment: Fulfillment) -> dict[str, int]:
    covered: dict[str, int] = {}
    for fl in fulfillment.lines:
        gid = fl.order_line.shopify_line_item_id
        covered[gid] = covered.get(gid, 0) + fl.quantity
    return covered


async def _mark_synced(tx: Transaction, fulfillment_id: int, shopify_id: str) -> None:
    await (
        Fulfillment.filter(id=fulfillment_id)
        .using_db(tx.conn)
        .update(status=FulfillmentStatus.SYNCED, matched_shopify_fulfillment_id=shopify_id)
    )


async def _split(tx: Transaction, pending: Fulfillment, taken: dict[int, int], shopify_id: str) -> int:
    """Move `taken` units (fulfillment line id -> units) of `pending` to a new SYNCED fulfillment."""
    part = await Fulfillment.create(
        order_id=pending.order_id,
        branch_id=pending.branch_id,
        workflow=pending.workflow,
        status=FulfillmentStatus.SYNCED,
        matched_shopify_fulfillment_id=shopify_id,
        tracking_company=pending.tracking_company,
        tracking_number=pending.tracking_number,
        idempotency_key=None,
        created_by=pending.created_by,
        using_db=tx.conn,
    )
    for fl in pending.lines:
        n = taken.get(fl.id, 0)
        if not n:
            continue
        await FulfillmentLine.create(
            fulfillment_id=part.id, order_line_id=fl.order_line_id, quantity=n, using_db=tx.conn
        )
        if n == fl.quantity:
            await FulfillmentLine.filter(id=fl.id).using_db(tx.conn).delete()
        else:
            await FulfillmentLine.filter(id=fl.id).using_db(tx.conn).update(quantity=fl.quantity - n)
    return part.id
