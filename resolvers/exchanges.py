"""Exchanges on online orders: decode the input, call operations/orders/exchanges.py, shape the payload.
Who may do it is checked in the operation (staff of the order's branch)."""

from strawberry.types import Info

from models import orders as models
from operations.orders import OrderExchangeRequest, SwapLine, exchange_before_dispatch
from operations.orders import exchange_delivered_items as ops_exchange_delivered_items
from resolvers.fulfillment import _line_pk
from resolvers.mutations import payload
from schema import ids
from schema.exchanges import (
    ExchangeDeliveredItemsInput,
    ExchangeDeliveredItemsPayload,
    ExchangeOrderItemsInput,
    ExchangeOrderItemsPayload,
)
from schema.orders import Order, OrderExchange


async def _request(input: ExchangeOrderItemsInput | ExchangeDeliveredItemsInput) -> OrderExchangeRequest:
    order_pk = ids.decode(input.order_id, "Order", "orderId")
    lines = [
        SwapLine(
            await _line_pk(order_pk, line.order_line_id, line.shopify_line_item_id, f"lines.{i}"),
            line.quantity,
            ids.decode(line.new_variant_id, "Variant", f"lines.{i}.newVariantId"),
            line.damaged,
        )
        for i, line in enumerate(input.lines)
    ]
    branch = getattr(input, "branch_id", None)
    return OrderExchangeRequest(
        order_id=order_pk,
        lines=lines,
        idempotency_key=input.idempotency_key,
        branch_id=ids.decode(branch, "Branch", "branchId") if branch else None,
        courier=getattr(input, "courier", None),
        tracking_number=getattr(input, "tracking_number", None),
        note=input.note,
    )


async def _done(exchange: models.OrderExchange) -> dict:
    order = await models.Order.get(id=exchange.order_id)
    return {"exchange": OrderExchange.from_model(exchange, order.currency), "order": Order.from_model(order)}


async def exchange_order_items(info: Info, input: ExchangeOrderItemsInput) -> ExchangeOrderItemsPayload:
    """Before dispatch: the customer takes another variant; the branch holds it now, Shopify's order follows."""

    async def run():
        exchange, _ = await exchange_before_dispatch(info.context.actor, await _request(input))
        return await _done(exchange)

    return await payload(ExchangeOrderItemsPayload, run)


async def exchange_delivered_items(info: Info, input: ExchangeDeliveredItemsInput) -> ExchangeDeliveredItemsPayload:
    """After delivery: the customer's units come back (restock or damaged) and replacements leave, at once."""

    async def run():
        exchange, _ = await ops_exchange_delivered_items(info.context.actor, await _request(input))
        return await _done(exchange)

    return await payload(ExchangeDeliveredItemsPayload, run)
