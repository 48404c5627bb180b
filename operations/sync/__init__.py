"""Everything that talks to Shopify: the connection, locations, the catalog import, the webhook inbox and its
handlers, the inventory push, order actions and their calls, catalog edits and customers made here
(shop_writes.py), the claiming, leases, backoff and parking their queues share (queue.py), order edits, the
orders poll, recovery of what webhooks missed, and what waits for a person.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.sync.catalog_import import (
    ImportPhase,
    fail_interrupted_jobs,
    import_channel,
    progress_event,
    run_job,
    start_import,
)
from operations.sync.catalog_import import launch as launch_import
from operations.sync.catalog_upsert import ImportKind, ImportOutcome
from operations.sync.connection import (
    WEBHOOK_PATH,
    WEBHOOK_TOPICS,
    client_for,
    connect_shopify,
    current_connection,
    disconnect_shopify,
    reencrypt_stored_secrets,
    webhook_secrets,
)
from operations.sync.inbox import inbox_figures, process_inbox, store_webhook
from operations.sync.inbox_store import Delivery
from operations.sync.inventory_signals import changed_since, clear_signals, on_inventory_level_webhook
from operations.sync.locations import map_location, shopify_locations
from operations.sync.order_actions import order_action_figures, parked_order_actions, push_order_actions
from operations.sync.orders_poll import poll_orders
from operations.sync.push import SYNC_CHANNEL, close_clients, push_due
from operations.sync.push_claim import TOPIC as PUSH_TOPIC
from operations.sync.push_status import parked_rows, push_figures, pushes_by_branch

# The queues' machinery, for the fiscal worker (operations/fiscal/reporting.py), which drains outbox rows of its
# own topics the same way: claims, leases, backoff and parking written once.
from operations.sync.queue import Claimed as QueuedRow
from operations.sync.queue import Queue as QueuedRows
from operations.sync.queue import claim_outbox as claim_queued
from operations.sync.queue import is_last_attempt, retry_at
from operations.sync.queue import next_due as next_queued_due
from operations.sync.queue import record as record_queued
from operations.sync.queue import renew_claim as renew_queued_claim
from operations.sync.queue import requeue as requeue_rows
from operations.sync.shop_writes import ShopWriteFigures, parked_shop_writes, push_shop_writes, shop_write_figures
from operations.sync.stuck import StuckWebhook, retry_parked, retry_stuck_webhooks, stuck_webhooks

__all__ = [
    "PUSH_TOPIC",
    "SYNC_CHANNEL",
    "WEBHOOK_PATH",
    "WEBHOOK_TOPICS",
    "Delivery",
    "ImportKind",
    "ImportOutcome",
    "ImportPhase",
    "QueuedRow",
    "QueuedRows",
    "ShopWriteFigures",
    "StuckWebhook",
    "changed_since",
    "claim_queued",
    "clear_signals",
    "client_for",
    "close_clients",
    "connect_shopify",
    "current_connection",
    "disconnect_shopify",
    "fail_interrupted_jobs",
    "import_channel",
    "inbox_figures",
    "is_last_attempt",
    "launch_import",
    "map_location",
    "next_queued_due",
    "on_inventory_level_webhook",
    "order_action_figures",
    "parked_order_actions",
    "parked_rows",
    "parked_shop_writes",
    "poll_orders",
    "process_inbox",
    "progress_event",
    "push_due",
    "push_figures",
    "push_order_actions",
    "push_shop_writes",
    "pushes_by_branch",
    "record_queued",
    "reencrypt_stored_secrets",
    "renew_queued_claim",
    "requeue_rows",
    "retry_at",
    "retry_parked",
    "retry_stuck_webhooks",
    "run_job",
    "shop_write_figures",
    "shopify_locations",
    "start_import",
    "store_webhook",
    "stuck_webhooks",
    "webhook_secrets",
]
