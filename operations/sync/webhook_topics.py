"""Which handler takes each webhook topic. The handlers are imported here, so one that is missing stops
the server at start instead of turning the first webhook of its topic into an exception.

Topics not listed are stored as IGNORED (acknowledged, logged, visible).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from operations.sync import fulfillment_webhooks, inventory_signals, orders_in, webhook_handlers

Handler = Callable[..., Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    **{topic: orders_in.on_order_webhook for topic in orders_in.ORDER_TOPICS},
    "fulfillments/create": fulfillment_webhooks.on_fulfillment_webhook,
    "fulfillments/update": fulfillment_webhooks.on_fulfillment_webhook,
    "refunds/create": fulfillment_webhooks.on_refund_webhook,
    "inventory_levels/update": inventory_signals.on_inventory_level_webhook,
    "app/uninstalled": webhook_handlers.on_app_uninstalled,
    "locations/create": webhook_handlers.on_location_webhook,
    "locations/update": webhook_handlers.on_location_webhook,
    "products/create": webhook_handlers.on_product_webhook,
    "products/update": webhook_handlers.on_product_webhook,
    "bulk_operations/finish": webhook_handlers.on_bulk_operation_finish,
}
