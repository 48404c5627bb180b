"""Online orders: intake in one shape, routing, the steps people take, history and events, returns, exchanges,
fulfillment and matching Shopify's fulfillments.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.orders.events import UNASSIGNED_BRANCH
from operations.orders.events import channel_of as order_channel_of
from operations.orders.events import record as record_order_event
from operations.orders.exchanges import PROVISIONAL as PROVISIONAL_EXCHANGE
from operations.orders.exchanges import ExchangeRequest as OrderExchangeRequest
from operations.orders.exchanges import SwapLine, exchange_before_dispatch, exchange_delivered_items
from operations.orders.exchanges import settle as settle_exchange
from operations.orders.exchanges import undo as undo_exchange
from operations.orders.fulfillment import (
    ORDER_ACTION_TOPIC,
    ShipLine,
    Shipment,
    fulfill_order,
    lock_order,
    mark_shipped,
    record_manual_fulfillment,
)
from operations.orders.fulfillment import REASON as FULFILLMENT_REASON
from operations.orders.fulfillment import add_lines as add_fulfillment_lines
from operations.orders.fulfillment import deductions as fulfillment_deductions
from operations.orders.fulfillment import post as post_fulfillment
from operations.orders.fulfillment import take_lines as take_fulfillment_lines
from operations.orders.intake import PlacementNeeded, take_in
from operations.orders.matching import match_pending
from operations.orders.payloads import IncomingOrder, Placement, placement_of
from operations.orders.payloads import from_graphql as order_from_graphql
from operations.orders.payloads import from_webhook as order_from_webhook
from operations.orders.returns import ReturnedLine, ReturnReceipt, receive_returned_order
from operations.orders.routing import assign_order_branch
from operations.orders.steps import CANCEL_REASONS, cancel_order, confirm_order, mark_delivered, mark_refused

__all__ = [
    "CANCEL_REASONS",
    "FULFILLMENT_REASON",
    "ORDER_ACTION_TOPIC",
    "PROVISIONAL_EXCHANGE",
    "UNASSIGNED_BRANCH",
    "IncomingOrder",
    "OrderExchangeRequest",
    "Placement",
    "PlacementNeeded",
    "ReturnReceipt",
    "ReturnedLine",
    "ShipLine",
    "Shipment",
    "SwapLine",
    "add_fulfillment_lines",
    "assign_order_branch",
    "cancel_order",
    "confirm_order",
    "exchange_before_dispatch",
    "exchange_delivered_items",
    "fulfill_order",
    "fulfillment_deductions",
    "lock_order",
    "mark_delivered",
    "mark_refused",
    "mark_shipped",
    "match_pending",
    "order_channel_of",
    "order_from_graphql",
    "order_from_webhook",
    "placement_of",
    "post_fulfillment",
    "receive_returned_order",
    "record_manual_fulfillment",
    "record_order_event",
    "settle_exchange",
    "take_fulfillment_lines",
    "take_in",
    "undo_exchange",
]
