"""syncStatus's push figures, retrying parked pushes, and watching the status change."""

from collections.abc import AsyncGenerator

from strawberry.types import Info

from models.shopify import ImportJob as ImportJobRow
from operations import shopify_connection, shopify_push
from operations.access import Permission, require
from operations.shopify_push_status import push_figures
from resolvers.mutations import payload
from schema.errors import BadRequest
from schema.shopify import ImportJob, ShopifyConnection, SyncStatus
from schema.sync import RetryParkedSyncPayload
from subscriptions import live
from subscriptions.bus import BusClosed, SlowConsumer


async def current_status() -> SyncStatus:
    connection = await shopify_connection.current_connection()
    last = await ImportJobRow.all().order_by("-id").first()
    figures = await push_figures()
    return SyncStatus(
        connection=ShopifyConnection.from_model(connection) if connection else None,
        last_import=ImportJob.from_model(last) if last else None,
        pending=figures.pending,
        parked=figures.parked,
        last_pushed_at=figures.last_pushed_at,
        lag_seconds=round(figures.lag_seconds, 3),
    )


async def retry_parked_sync(info: Info) -> RetryParkedSyncPayload:
    async def run():
        retried = await shopify_push.retry_parked(info.context.actor)
        return {"retried": retried, "status": await current_status()}

    return await payload(RetryParkedSyncPayload, run)


async def sync_status_changed(info: Info) -> AsyncGenerator[SyncStatus, None]:
    """The status now, then again after every push round that changed something."""
    require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    async with bus.subscribe([shopify_push.SYNC_CHANNEL]) as subscription:
        yield await current_status()  # subscribed first, then read: no round falls between the two
        while True:
            try:
                event = await subscription.get()
            except (SlowConsumer, BusClosed):
                raise BadRequest("sync status updates stopped: subscribe again", code="UNAVAILABLE") from None
            if event is None:
                continue
            # An event or a GAP signal: either way the status is read afresh, so nothing is missed.
            yield await current_status()
