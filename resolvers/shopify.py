"""Shopify: connect, import, map locations, and watch an import's progress."""

from collections.abc import AsyncGenerator

import orjson
import strawberry
from strawberry.types import Info

from models.shopify import ImportJob as ImportJobRow
from operations.kernel import OperationError, Permission, require
from operations.sync import connect_shopify as ops_connect_shopify
from operations.sync import disconnect_shopify as ops_disconnect_shopify
from operations.sync import import_channel, launch_import, progress_event, shopify_locations, start_import
from operations.sync import map_location as ops_map_location
from resolvers.mutations import payload
from resolvers.sync import current_status
from schema import ids
from schema.errors import BadRequest
from schema.shopify import (
    ConnectShopifyInput,
    ConnectShopifyPayload,
    DisconnectShopifyInput,
    DisconnectShopifyPayload,
    ImportJob,
    ImportPhase,
    ImportProgress,
    ImportStatus,
    MapLocationInput,
    MapLocationPayload,
    ShopifyConnection,
    ShopifyLocation,
    StartShopifyImportInput,
    StartShopifyImportPayload,
)
from schema.sync import SyncStatus
from subscriptions import live
from subscriptions.bus import BusClosed, SlowConsumer


async def connect_shopify(info: Info, input: ConnectShopifyInput) -> ConnectShopifyPayload:
    async def run():
        connection = await ops_connect_shopify(
            info.context.actor, input.shop_domain, input.access_token, input.client_secret, input.idempotency_key
        )
        return {"connection": ShopifyConnection.from_model(connection)}

    return await payload(ConnectShopifyPayload, run)


async def disconnect_shopify(info: Info, input: DisconnectShopifyInput) -> DisconnectShopifyPayload:
    async def run():
        connection = await ops_disconnect_shopify(info.context.actor, input.idempotency_key)
        return {"connection": ShopifyConnection.from_model(connection)}

    return await payload(DisconnectShopifyPayload, run)


async def start_shopify_import(info: Info, input: StartShopifyImportInput) -> StartShopifyImportPayload:
    async def run():
        job, replayed = await start_import(
            info.context.actor, create_branches=input.create_branches, idempotency_key=input.idempotency_key
        )
        if not replayed:
            launch_import(job.id)
        return {"job": ImportJob.from_model(job)}

    return await payload(StartShopifyImportPayload, run)


async def map_location(info: Info, input: MapLocationInput) -> MapLocationPayload:
    async def run():
        branch_id = ids.decode(input.branch_id, "Branch", "branchId") if input.branch_id else None
        location = await ops_map_location(
            info.context.actor, str(input.shopify_location_id), branch_id, input.ignore, input.idempotency_key
        )
        return {"location": ShopifyLocation.from_model(location)}

    return await payload(MapLocationPayload, run)


async def sync_status(info: Info) -> SyncStatus:
    require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
    return await current_status()


async def shopify_locations_list(info: Info) -> list[ShopifyLocation]:
    require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
    return [ShopifyLocation.from_model(loc) for loc in await shopify_locations()]


async def _job(info: Info, job_id: str) -> ImportJobRow:
    require(info.context.actor, Permission.MANAGE_INTEGRATIONS)
    try:
        pk = ids.decode(job_id, "ImportJob", "jobId")
    except OperationError:
        raise BadRequest(f"not a valid ImportJob ID: {job_id!r}", field="jobId") from None
    job = await ImportJobRow.get_or_none(id=pk)
    if job is None:
        raise BadRequest("no such import job", code="NOT_FOUND", field="jobId")
    return job


async def import_job(info: Info, id: strawberry.ID) -> ImportJob:
    return ImportJob.from_model(await _job(info, id))


def _progress(e: dict) -> ImportProgress:
    return ImportProgress(
        job_pk=e["jobId"],
        status=ImportStatus(e["status"]),
        phase=ImportPhase(e["phase"]),
        objects_done=e["objectsDone"],
        objects_total=e["objectsTotal"],
        rate=e["rate"],
        error_code=e["errorCode"],
        error=e["error"],
    )


async def import_progress(info: Info, job_id: str) -> AsyncGenerator[ImportProgress, None]:
    """The job as it is now, then each change until it completes or fails."""
    job = await _job(info, job_id)
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    async with bus.subscribe([import_channel(job.id)]) as subscription:
        await job.refresh_from_db()  # subscribed first, then read: no change falls between the two
        yield _progress(progress_event(job))
        if job.status.value in ("completed", "failed"):
            return
        while True:
            try:
                event = await subscription.get()
            except (SlowConsumer, BusClosed):
                raise BadRequest("progress updates stopped: subscribe again", code="UNAVAILABLE") from None
            if event is None:
                continue
            if not event.message.startswith("["):  # a GAP signal: the next event carries the full state
                continue
            for e in orjson.loads(event.message):
                yield _progress(e)
                if e["status"] in ("completed", "failed"):
                    return
