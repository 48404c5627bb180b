"""Online orders: the `orders` list, `orderEvents`, the COD steps, cancelling and routing.

Seeing orders needs VIEW_SALES at their branch; an order that has no branch yet is seen only by
someone who sees every branch (node(id:) checks the same, schema/orders.py). Acting on them is checked in
operations/ (order_steps, order_routing).
"""

from collections.abc import AsyncGenerator

import orjson
import strawberry
from strawberry import relay
from strawberry.types import Info

from models import orders as models
from operations.kernel import Actor, OperationError, Permission, require
from operations.orders import UNASSIGNED_BRANCH, mark_delivered, mark_refused, order_channel_of
from operations.orders import assign_order_branch as assign
from operations.orders import cancel_order as ops_cancel_order
from operations.orders import confirm_order as ops_confirm_order
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.orders import (
    AssignOrderBranchInput,
    AssignOrderBranchPayload,
    CancelOrderInput,
    CancelOrderPayload,
    CodStatus,
    ConfirmOrderInput,
    ConfirmOrderPayload,
    MarkOrderDeliveredInput,
    MarkOrderDeliveredPayload,
    MarkOrderRefusedInput,
    MarkOrderRefusedPayload,
    Order,
    OrderEvent,
    OrderStatus,
)
from schema.pagination import decode_cursor, keyset_page
from subscriptions import live
from subscriptions.bus import GAP, SLOW_CONSUMER_CLOSE_CODE, BusClosed, SlowConsumer

MAX_BRANCHES = 50


def _branch_pks(actor: Actor, branch_ids: list[strawberry.ID]) -> list[int]:
    if len(branch_ids) > MAX_BRANCHES:
        raise BadRequest(f"at most {MAX_BRANCHES} branchIds", field="branchIds")
    pks = []
    for value in branch_ids:
        try:
            pk = ids.decode(value, "Branch", "branchIds")
        except OperationError as error:
            raise BadRequest(str(error), field="branchIds") from None
        if not actor.can(Permission.VIEW_SALES, pk):
            raise BadRequest(f"you may not see orders at branch {pk}", code="FORBIDDEN", field="branchIds")
        pks.append(pk)
    return sorted(set(pks))


async def orders(
    info: Info,
    first: int,
    after: str | None = None,
    branch_ids: list[strawberry.ID] | None = None,
    status: OrderStatus | None = None,  # type: ignore[valid-type]
    cod_status: CodStatus | None = None,  # type: ignore[valid-type]
    with_exception: bool | None = None,
) -> relay.Connection[Order]:
    """Online orders at these branches (else every branch the caller sees), oldest first."""
    actor = info.context.actor
    require(actor, Permission.VIEW_SALES)
    queryset = models.Order.all()
    if branch_ids:
        queryset = queryset.filter(branch_id__in=_branch_pks(actor, branch_ids))
    elif actor.branch_ids is not None:
        queryset = queryset.filter(branch_id__in=list(actor.branch_ids))
    if status is not None:
        queryset = queryset.filter(status=models.OrderStatus(status.value))
    if cod_status is not None:
        queryset = queryset.filter(cod_status=models.CodStatus(cod_status.value))
    if with_exception is not None:
        queryset = queryset.filter(exception_code__isnull=not with_exception)
    return await keyset_page(queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Order.from_model)


# --- mutations -----------------------------------------------------------------------------------


def _order_pk(value) -> int:
    return ids.decode(value, "Order", "orderId")


async def confirm_order(info: Info, input: ConfirmOrderInput) -> ConfirmOrderPayload:
    """COD: the customer confirmed on the phone; the order may now be shipped."""

    async def run():
        order = await ops_confirm_order(info.context.actor, _order_pk(input.order_id), input.idempotency_key)
        return {"order": Order.from_model(order)}

    return await payload(ConfirmOrderPayload, run)


async def mark_order_delivered(info: Info, input: MarkOrderDeliveredInput) -> MarkOrderDeliveredPayload:
    """COD: the courier delivered and collected the cash."""

    async def run():
        order = await mark_delivered(info.context.actor, _order_pk(input.order_id), input.idempotency_key)
        return {"order": Order.from_model(order)}

    return await payload(MarkOrderDeliveredPayload, run)


async def mark_order_refused(info: Info, input: MarkOrderRefusedInput) -> MarkOrderRefusedPayload:
    """COD: refused at the door; the parcel returns to origin (RETURNING)."""

    async def run():
        order = await mark_refused(info.context.actor, _order_pk(input.order_id), input.idempotency_key)
        return {"order": Order.from_model(order)}

    return await payload(MarkOrderRefusedPayload, run)


async def cancel_order(info: Info, input: CancelOrderInput) -> CancelOrderPayload:
    """Before anything shipped: releases the reservation and cancels the order in Shopify (with restock)."""

    async def run():
        order = await ops_cancel_order(
            info.context.actor, _order_pk(input.order_id), input.idempotency_key, input.reason.value
        )
        return {"order": Order.from_model(order)}

    return await payload(CancelOrderPayload, run)


async def assign_order_branch(info: Info, input: AssignOrderBranchInput) -> AssignOrderBranchPayload:
    """Ship from another branch: the reservation moves there and Shopify's fulfillment order follows."""

    async def run():
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId")
        order, _ = await assign(info.context.actor, _order_pk(input.order_id), branch_pk, input.idempotency_key)
        return {"order": Order.from_model(order)}

    return await payload(AssignOrderBranchPayload, run)


# --- live ----------------------------------------------------------------------------------------


async def order_events(info: Info, branch_ids: list[strawberry.ID]) -> AsyncGenerator[OrderEvent, None]:
    """New orders and every step of them at these branches (and, for those who see every branch,
    orders still waiting for one). At most once: after a reconnect, re-read `orders`."""
    actor = info.context.actor
    require(actor, Permission.VIEW_SALES)
    if not branch_ids:
        raise BadRequest("give at least one branch", field="branchIds")
    pks = _branch_pks(actor, branch_ids)
    channels = [order_channel_of(pk) for pk in pks]
    if actor.branch_ids is None:
        channels.append(order_channel_of(UNASSIGNED_BRANCH))
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    wanted = set(pks)
    async with bus.subscribe(channels) as subscription:
        while True:
            try:
                message = await subscription.get()
            except SlowConsumer:
                socket = info.context.response
                if socket is not None and hasattr(socket, "close"):
                    await socket.close(code=SLOW_CONSUMER_CLOSE_CODE, reason="slow consumer: re-read orders")
                return
            except BusClosed:
                raise BadRequest(
                    "live events stopped: subscribe again and re-read orders", code="UNAVAILABLE"
                ) from None
            if message is None or message.message == GAP:
                continue
            for e in orjson.loads(message.message):
                # A routed order is announced to both branches; show it where it belongs or came from.
                if e.get("branchId") is None or e["branchId"] in wanted or e["kind"] == "routed":
                    yield OrderEvent.from_event(e)
