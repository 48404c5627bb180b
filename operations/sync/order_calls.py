"""The Shopify side of each order action (operations/sync/order_actions.py runs them).

Each handler reads the order's state in Shopify first and acts only on what is still to do, because none
of `fulfillmentCreate`, `fulfillmentOrderMove` and `orderCancel` takes `@idempotent`: a fulfillment Shopify
already holds for the same lines at the same location (and not linked to another Branchline fulfillment)
is adopted, a fulfillment order already at the destination is not moved, a cancelled order is not
cancelled again. A handler returns the outcome recorded on the row, raises `Refused` (park with the
reason) or `NotYet` (retry later).
"""

import logging
from typing import Any

from tortoise.exceptions import IntegrityError

from models.branches import Branch
from models.orders import Fulfillment, FulfillmentStatus, Order
from operations.sync.order_edits import order_exchange
from shopify import documents
from shopify.client import ShopifyClient, payload
from shopify.errors import ShopifyUserErrors

log = logging.getLogger(__name__)

_OPEN = {"OPEN", "IN_PROGRESS"}
_MOVABLE = {"OPEN", "SCHEDULED", "ON_HOLD"}


class Refused(Exception):
    """Shopify will not do it, now or later: park the row with this reason."""


class NotYet(Exception):
    """Not possible yet (e.g. the fulfillment order has not moved to the branch): retry later."""


async def order_state(client: ShopifyClient, order_gid: str) -> dict:
    data = await client.query(documents.ORDER_FOR_ACTION, {"id": order_gid})
    order = (data or {}).get("order")
    if order is None:
        raise Refused(f"Shopify has no order {order_gid}")
    return order


def _lines_of(shopify_fulfillment: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in shopify_fulfillment["fulfillmentLineItems"]["nodes"]:
        out[item["lineItem"]["id"]] = out.get(item["lineItem"]["id"], 0) + item["quantity"]
    return out


def _location_of(fo: dict) -> str | None:
    return ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")


# -- fulfillment_create ---------------------------------------------------------------------------


async def _fulfillment_create(client: ShopifyClient, p: dict, *, took_in: bool = False) -> str:
    fulfillment = await Fulfillment.get_or_none(id=p["fulfillmentId"]).prefetch_related("lines__order_line")
    if fulfillment is None or fulfillment.status is FulfillmentStatus.CANCELLED:
        return "gone"
    if fulfillment.shopify_fulfillment_id or fulfillment.status is FulfillmentStatus.SYNCED:
        return "already_synced"  # its webhook already matched it (the merchant may have fulfilled it by hand)
    order = await Order.get(id=fulfillment.order_id)
    branch = await Branch.get(id=fulfillment.branch_id)
    if not branch.shopify_location_id:
        raise Refused(f"branch {branch.code} is not a Shopify location")
    want: dict[str, int] = {}
    for fl in fulfillment.lines:
        want[fl.order_line.shopify_line_item_id] = want.get(fl.order_line.shopify_line_item_id, 0) + fl.quantity
    state = await order_state(client, order.shopify_order_id)

    linked = set()
    for theirs, matched in await Fulfillment.filter(order_id=order.id).values_list(
        "shopify_fulfillment_id", "matched_shopify_fulfillment_id"
    ):
        linked |= {theirs, matched} - {None}
    for theirs in state["fulfillments"]:
        at = (theirs.get("location") or {}).get("id")
        if theirs["id"] not in linked and at == branch.shopify_location_id and _lines_of(theirs) == want:
            # An earlier send went through but its answer was lost: this is ours.
            return await _link(fulfillment, theirs["id"], "adopted")
    unknown = [f for f in state["fulfillments"] if f["id"] not in linked and f.get("status", "SUCCESS") == "SUCCESS"]
    if unknown and not took_in:
        # The merchant fulfilled units by hand that Branchline has not taken in yet (their webhook is late or
        # lost): take them in first, the way their webhook would, so the ones this pending fulfillment already
        # deducted are matched to it (split) and only the rest is sent; then look again.
        from operations.sync.fulfillment_webhooks import on_fulfillment_webhook
        from operations.sync.recovery import webhook_body

        for theirs in unknown:
            await on_fulfillment_webhook("fulfillments/create", webhook_body(order.shopify_order_id, theirs))
        return await _fulfillment_create(client, p, took_in=True)

    groups = _picks(state, branch.shopify_location_id, want, order.name)
    variables: dict[str, Any] = {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": items} for fo, items in groups.items()
            ],
            "notifyCustomer": False,
        }
    }
    tracking = {
        k: v for k, v in (("company", fulfillment.tracking_company), ("number", fulfillment.tracking_number)) if v
    }
    if tracking:
        variables["fulfillment"]["trackingInfo"] = tracking
    # Keyless: a send that may have gone through must be re-read (adopted above), not repeated.
    data = await client.mutate(documents.FULFILL_FROM_BRANCH, variables, retry_ambiguous=False)
    try:
        result = payload(data, "fulfillmentCreate")
    except ShopifyUserErrors as error:
        raise Refused(f"Shopify refused the fulfillment of {order.name}: {error}") from None
    return await _link(fulfillment, result["fulfillment"]["id"], "fulfilled")


def _picks(state: dict, location: str, want: dict[str, int], name: str) -> dict[str, list[dict]]:
    """Fulfillment order line items at the branch's location covering `want`, grouped by fulfillment order."""
    groups: dict[str, list[dict]] = {}
    elsewhere = 0
    for line_gid, quantity in want.items():
        left = quantity
        for fo in state["fulfillmentOrders"]["nodes"]:
            if fo["status"] not in _OPEN:
                continue
            for item in fo["lineItems"]["nodes"]:
                if item["lineItem"]["id"] != line_gid or not item["remainingQuantity"]:
                    continue
                if _location_of(fo) != location:
                    elsewhere += item["remainingQuantity"]
                    continue
                take = min(left, item["remainingQuantity"])
                if take:
                    groups.setdefault(fo["id"], []).append({"id": item["id"], "quantity": take})
                    left -= take
        if left and elsewhere:
            # The order's move to this branch has not reached Shopify yet (its own action is ahead in the queue).
            raise NotYet(f"{name}: Shopify still holds {line_gid} at another location")
        if left:
            raise Refused(f"{name}: the fulfillment order is already closed in Shopify ({left} of {line_gid} not open)")
    return groups


async def _link(fulfillment: Fulfillment, shopify_id: str, outcome: str) -> str:
    try:
        await Fulfillment.filter(id=fulfillment.id, shopify_fulfillment_id__isnull=True).update(
            shopify_fulfillment_id=shopify_id, status=FulfillmentStatus.SYNCED
        )
    except IntegrityError:
        # Its webhook was matched to another Branchline fulfillment with the very same lines meanwhile.
        log.warning("Shopify fulfillment %s is already linked to another fulfillment", shopify_id)
        return "matched_elsewhere"
    return outcome


# -- fulfillment_order_move -----------------------------------------------------------------------


async def _location(p: dict, location_key: str, branch_key: str) -> str | None:
    """A location gid from the payload, given directly (`newLocationId`) or as a branch id (`branchId`)."""
    if p.get(location_key):
        return p[location_key]
    if p.get(branch_key) is None:
        return None
    branch = await Branch.get_or_none(id=p[branch_key])
    if branch is None or not branch.shopify_location_id:
        raise Refused(f"branch {p[branch_key]} is not a Shopify location")
    return branch.shopify_location_id


async def _fulfillment_order_move(client: ShopifyClient, p: dict) -> str:
    """Move the order's open fulfillment orders (those at `fromLocationId` when given) to the new location."""
    order = await Order.get_or_none(id=p["orderId"])
    if order is None:
        raise Refused(f"no order {p['orderId']}")
    destination = await _location(p, "newLocationId", "branchId")
    if destination is None:
        raise Refused("the order action names no destination")
    source = await _location(p, "fromLocationId", "fromBranchId")
    state = await order_state(client, order.shopify_order_id)
    moved = 0
    for fo in state["fulfillmentOrders"]["nodes"]:
        at = _location_of(fo)
        if fo["status"] not in _MOVABLE or at == destination or (source is not None and at != source):
            continue
        if not any(item["remainingQuantity"] for item in fo["lineItems"]["nodes"]):
            continue
        data = await client.mutate(documents.ROUTE_TO_BRANCH, {"id": fo["id"], "location": destination})
        try:
            payload(data, "fulfillmentOrderMove")
        except ShopifyUserErrors as error:
            raise Refused(f"Shopify refused to move {order.name} to {destination}: {error}") from None
        moved += 1
    return "moved" if moved else "already_there"


# -- order_cancel ---------------------------------------------------------------------------------


async def _order_cancel(client: ShopifyClient, p: dict) -> str:
    order = await Order.get_or_none(id=p["orderId"])
    if order is None:
        raise Refused(f"no order {p['orderId']}")
    state = await order_state(client, order.shopify_order_id)
    if state.get("cancelledAt"):
        return "already_cancelled"
    variables = {
        "id": order.shopify_order_id,
        "reason": str(p.get("reason") or "CUSTOMER").upper(),
        "restock": bool(p.get("restock", True)),
        "refund": bool(p.get("refund", False)),
        "note": p.get("staffNote"),
    }
    data = await client.mutate(documents.CANCEL_ORDER, variables)
    try:
        payload(data, "orderCancel")
    except ShopifyUserErrors as error:
        if any("already" in e.message.lower() and "cancel" in e.message.lower() for e in error.errors):
            return "already_cancelled"
        raise Refused(f"Shopify refused to cancel {order.name}: {error}") from None
    return "cancelled"


ACTIONS = {
    "fulfillment_create": _fulfillment_create,
    "fulfillment_order_move": _fulfillment_order_move,
    "order_cancel": _order_cancel,
    "order_exchange": order_exchange,  # operations/sync/order_edits.py
}
