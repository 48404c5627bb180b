"""syncStatus: everything waiting on Shopify or stuck (stock pushes, order actions, catalog edits, customers,
webhooks); retrying
what is parked; the webhooks waiting for a person; and watching the status change."""

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from strawberry import relay
from strawberry.types import Info

from models.shopify import ImportJob as ImportJobRow
from operations.directory import CATALOG_EDIT_TOPIC, CUSTOMER_CREATE_TOPIC
from operations.kernel import ErrorCode, OperationError, Permission, require
from operations.sync import (
    SYNC_CHANNEL,
    current_connection,
    inbox_figures,
    order_action_figures,
    push_figures,
    retry_parked,
    retry_stuck_webhooks,
    shop_write_figures,
    stuck_webhooks,
)
from resolvers.mutations import payload
from schema import ids as gids
from schema.errors import BadRequest
from schema.pagination import check_first, decode_cursor, encode_cursor, page_of
from schema.shopify import ImportJob, ShopifyConnection
from schema.sync import (
    OrderActionStatus,
    RetryParkedSyncInput,
    RetryParkedSyncPayload,
    RetryWebhooksInput,
    RetryWebhooksPayload,
    ShopWriteStatus,
    SyncStatus,
    WebhookException,
    WebhookInboxStatus,
)
from subscriptions import live
from subscriptions.bus import BusClosed, SlowConsumer

# The push publishes on SYNC_CHANNEL after each round; the inbox and the order-actions worker do not,
# so a subscriber also re-reads the status this often and hears of any change they made.
REFRESH_SECONDS = 5.0
MAX_WEBHOOK_IDS = 100


async def current_status() -> SyncStatus:
    connection = await current_connection()
    last = await ImportJobRow.all().order_by("-id").first()
    figures = await push_figures()
    actions = await order_action_figures()
    inbox = await inbox_figures()
    edits = await shop_write_figures(CATALOG_EDIT_TOPIC)
    customers = await shop_write_figures(CUSTOMER_CREATE_TOPIC)
    inbox_lag = (datetime.now(UTC) - inbox.oldest_pending_at).total_seconds() if inbox.oldest_pending_at else 0.0
    return SyncStatus(
        connection=ShopifyConnection.from_model(connection) if connection else None,
        last_import=ImportJob.from_model(last) if last else None,
        pending=figures.pending,
        parked=figures.parked,
        last_pushed_at=figures.last_pushed_at,
        lag_seconds=round(figures.lag_seconds, 3),
        order_actions=OrderActionStatus(
            pending=actions.pending, parked=actions.parked, last_done_at=actions.last_done_at
        ),
        webhooks=WebhookInboxStatus(
            pending=inbox.pending,
            exceptions=inbox.exceptions,
            parked=inbox.parked,
            oldest_pending_at=inbox.oldest_pending_at,
            lag_seconds=round(max(0.0, inbox_lag), 3),
        ),
        catalog_edits=ShopWriteStatus(
            topic=CATALOG_EDIT_TOPIC, pending=edits.pending, parked=edits.parked, last_done_at=edits.last_done_at
        ),
        customers=ShopWriteStatus(
            topic=CUSTOMER_CREATE_TOPIC,
            pending=customers.pending,
            parked=customers.parked,
            last_done_at=customers.last_done_at,
        ),
        needs_attention=figures.parked
        + actions.parked
        + edits.parked
        + customers.parked
        + inbox.exceptions
        + inbox.parked,
    )


async def retry_parked_sync(info: Info, input: RetryParkedSyncInput) -> RetryParkedSyncPayload:
    async def run():
        retried, _ = await retry_parked(info.context.actor, input.idempotency_key)
        total = retried.stock_changes + retried.order_actions + retried.catalog_edits + retried.customers
        return {
            "retried": total,
            "retried_order_actions": retried.order_actions,
            "retried_catalog_edits": retried.catalog_edits,
            "retried_customers": retried.customers,
            "status": await current_status(),
        }

    return await payload(RetryParkedSyncPayload, run)


async def webhook_exceptions(info: Info, first: int, after: str | None = None) -> relay.Connection[WebhookException]:
    """Webhooks Branchline could not take in, the longest waiting first (owner/admin)."""
    check_first(first)
    after_id = decode_cursor(after)
    rows = await stuck_webhooks(info.context.actor, first + 1, after_id)
    return page_of(
        rows, first=first, after_key=after_id, to_node=WebhookException.from_row, cursor=lambda r: encode_cursor(r.id)
    )


async def retry_webhooks(info: Info, input: RetryWebhooksInput) -> RetryWebhooksPayload:
    """Put these webhooks (leave ids out: every exception and parked one) back in the queue (owner/admin)."""

    async def run():
        require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
        pks, ids = None, input.ids
        if ids is not None:
            if len(ids) > MAX_WEBHOOK_IDS:  # before decoding: a huge list costs nothing
                raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_WEBHOOK_IDS} webhooks at once", "ids")
            pks = [gids.decode(value, "WebhookInbox", f"ids.{i}") for i, value in enumerate(ids)]
        retried, _ = await retry_stuck_webhooks(info.context.actor, pks, input.idempotency_key)
        return {"retried": retried, "status": await current_status()}

    return await payload(RetryWebhooksPayload, run)


def _signature(status: SyncStatus) -> tuple:
    """What a subscriber cares about; the lag grows by itself and alone is no change."""
    w, a, e, c = status.webhooks, status.order_actions, status.catalog_edits, status.customers
    return (
        status.connection.connected if status.connection else None,
        (status.last_import.status, status.last_import.phase) if status.last_import else None,
        status.pending,
        status.parked,
        status.last_pushed_at,
        (a.pending, a.parked, a.last_done_at),
        (e.pending, e.parked, e.last_done_at),
        (c.pending, c.parked, c.last_done_at),
        (w.pending, w.exceptions, w.parked),
    )


async def sync_status_changed(info: Info) -> AsyncGenerator[SyncStatus, None]:
    """The status now, then again after every push round that changed something, and whenever the
    order actions or the webhook inbox figures change (seen within REFRESH_SECONDS)."""
    require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    async with bus.subscribe([SYNC_CHANNEL]) as subscription:
        status = await current_status()  # subscribed first, then read: no round falls between the two
        yield status
        last = _signature(status)
        while True:
            try:
                event = await subscription.get(timeout=REFRESH_SECONDS)
            except (SlowConsumer, BusClosed):
                raise BadRequest("sync status updates stopped: subscribe again", code="UNAVAILABLE") from None
            status = await current_status()
            if event is None and _signature(status) == last:
                continue  # a quiet re-read: nothing to tell
            # An event or a GAP signal is always followed by a fresh status, so nothing is missed.
            last = _signature(status)
            yield status
