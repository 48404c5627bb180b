"""Fulfillment and returns: decode the input, call operations/orders/fulfillment.py or order_returns.py, shape
the payload. Who may do it is checked in the operations (staff of the order's branch)."""

from strawberry.types import Info

from models import orders as models
from operations.kernel import ErrorCode, OperationError
from operations.orders import ReturnedLine, ReturnReceipt, ShipLine, Shipment
from operations.orders import fulfill_order as ops_fulfill_order
from operations.orders import receive_returned_order as ops_receive_returned_order
from operations.orders import record_manual_fulfillment as ops_record_manual_fulfillment
from resolvers.mutations import payload
from schema import ids
from schema.fulfillment import (
    FulfillOrderInput,
    FulfillOrderPayload,
    OrderFulfillment,
    ReceiveReturnedOrderInput,
    ReceiveReturnedOrderPayload,
    RecordManualFulfillmentInput,
    RecordManualFulfillmentPayload,
)
from schema.orders import CodStatus, Order


async def _line_pk(order_pk: int, order_line_id, shopify_line_item_id, field: str) -> int:
    """An order line by its global id or by Shopify's line item GID (natural keys are welcome in inputs)."""
    if (order_line_id is None) == (shopify_line_item_id is None):
        raise OperationError.single(ErrorCode.INVALID, "give exactly one of orderLineId and shopifyLineItemId", field)
    if order_line_id is not None:
        return ids.decode(order_line_id, "OrderLine", f"{field}.orderLineId")
    line = await models.OrderLine.get_or_none(order_id=order_pk, shopify_line_item_id=shopify_line_item_id)
    if line is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "the order has no such line", f"{field}.shopifyLineItemId")
    return line.id


async def _shipment(input: FulfillOrderInput | RecordManualFulfillmentInput) -> Shipment:
    order_pk = ids.decode(input.order_id, "Order", "orderId")
    lines = None
    if input.lines is not None:
        lines = [
            ShipLine(
                await _line_pk(order_pk, line.order_line_id, line.shopify_line_item_id, f"lines.{i}"), line.quantity
            )
            for i, line in enumerate(input.lines)
        ]
    return Shipment(
        order_id=order_pk,
        idempotency_key=input.idempotency_key,
        lines=lines,
        courier=input.courier,
        tracking_number=input.tracking_number,
    )


async def _done(fulfillment: models.Fulfillment) -> dict:
    order = await models.Order.get(id=fulfillment.order_id)
    lines = await models.FulfillmentLine.filter(fulfillment_id=fulfillment.id).order_by("id")
    return {
        "fulfillment": OrderFulfillment.from_model(fulfillment, lines, order.currency),
        "order": Order.from_model(order),
    }


async def fulfill_order(info: Info, input: FulfillOrderInput) -> FulfillOrderPayload:
    """Smart Fulfillment: ship from the order's branch; Shopify gets the fulfillment with its tracking."""

    async def run():
        fulfillment, _ = await ops_fulfill_order(info.context.actor, await _shipment(input))
        return await _done(fulfillment)

    return await payload(FulfillOrderPayload, run)


async def record_manual_fulfillment(info: Info, input: RecordManualFulfillmentInput) -> RecordManualFulfillmentPayload:
    """Manual Fulfillment: shipped from the branch; fulfilled in Shopify by hand later, matched, not deducted again."""

    async def run():
        fulfillment, _ = await ops_record_manual_fulfillment(info.context.actor, await _shipment(input))
        return await _done(fulfillment)

    return await payload(RecordManualFulfillmentPayload, run)


async def receive_returned_order(info: Info, input: ReceiveReturnedOrderInput) -> ReceiveReturnedOrderPayload:
    """A parcel back at a branch, line by line: restocked or damaged; Shopify follows, never twice."""

    async def run():
        order_pk = ids.decode(input.order_id, "Order", "orderId")
        receipt = ReturnReceipt(
            order_id=order_pk,
            lines=[
                ReturnedLine(
                    await _line_pk(order_pk, line.order_line_id, line.shopify_line_item_id, f"lines.{i}"),
                    line.restock,
                    line.damaged,
                )
                for i, line in enumerate(input.lines)
            ],
            idempotency_key=input.idempotency_key,
            branch_id=ids.decode(input.branch_id, "Branch", "branchId") if input.branch_id else None,
            note=input.note,
        )
        order, _ = await ops_receive_returned_order(info.context.actor, receipt)
        cod = CodStatus(order.cod_status.value) if order.cod_status else None
        return {"order": Order.from_model(order), "cod_status": cod}

    return await payload(ReceiveReturnedOrderPayload, run)
