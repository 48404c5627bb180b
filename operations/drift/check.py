"""Reconciliation: does Shopify's stock still agree with Branchline's? (docs/architecture.md, Shopify sync)

A check reads every inventory level in Shopify with one bulk export, streams the JSONL, and compares
each mapped (inventory item, location) with Branchline's level at the mapped branch:

    Shopify available + committed + reserved  ==  Branchline on_hand
    Shopify damaged                           ==  Branchline damaged

(the push worker tells Shopify on_hand changes as `available` and damaged as `damaged`; Shopify's
`committed` is its own orders' share of on_hand, which Branchline holds as reserved inside on_hand).
Each difference is explained by work still in flight (operations/drift/explain.py); only what is
left is drift, stored as UNEXPLAINED lines for `repairDrift` (operations/drift/repair.py). A level
that moved on either side while the export ran is MOVING: check again rather than repair it.

One check runs at a time across every process (the unique `running` column, as imports do); the
worker runs one every `drift_check_interval` seconds. Shopify's inventory_levels/update webhooks are
remembered as signals: the report shows which lines Shopify changed after their check.
"""

import asyncio
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.branches import Branch
from models.catalog import Variant
from models.drift import DriftCheck, DriftCheckStatus, DriftLine, DriftLineStatus
from operations.drift.explain import InFlight, explain, in_flight, moved_since, movement_watermark
from operations.kernel import (
    SYSTEM,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    current_settings,
    fetch,
    replay,
    require,
    run_once,
    transaction,
)
from operations.sync import clear_signals, client_for, current_connection, on_inventory_level_webhook
from shopify import documents, jsonl
from shopify.errors import ShopifyError

log = logging.getLogger(__name__)

__all__ = ["check_drift", "launch", "on_inventory_level_webhook", "run_check", "start_check"]

RUNNING = "running"
HEARTBEAT_EVERY = 10.0
STALE_AFTER = 60.0  # seconds without a heartbeat: the process running the check died
LINE_BATCH = 500
QUANTITY_NAMES = ["available", "committed", "reserved", "damaged", "on_hand"]


def require_manager(actor: Actor, branch_id: int | None = None) -> None:
    """Owners, admins and branch managers: APPROVE is the manager's key (operations/kernel/access.py)."""
    require(actor, Permission.APPROVE, branch_id)


# -- starting and running a check --------------------------------------------------------------------


async def start_check(
    actor: Actor = SYSTEM, idempotency_key: str | None = None, *, background: bool = False
) -> tuple[DriftCheck, bool]:
    """Create a running check (the caller runs it with run_check, unless replayed); WRONG_STATE if one is
    running. A repeat under the same key returns the check the first request started: (check, replayed).
    `background` only tells the request apart (checkDrift's `wait: false`)."""
    require_manager(actor)
    request = {"background": background}
    if (earlier := await replay("checkDrift", idempotency_key, request, _load)) is not None:
        return earlier, True
    if await current_connection() is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "connect Shopify first (connectShopify)")
    await fail_interrupted_checks()

    async def create() -> DriftCheck:
        try:
            async with in_transaction():  # savepoint: a check already running is a typed error
                return await DriftCheck.create(
                    running=RUNNING, requested_by=actor.label, heartbeat_at=datetime.now(UTC)
                )
        except IntegrityError:
            running = await DriftCheck.get_or_none(running=RUNNING)
            which = f"drift check {running.id} is still running" if running else "another drift check is starting"
            raise OperationError.single(ErrorCode.WRONG_STATE, f"{which}; wait for it to finish") from None

    async with transaction() as tx:
        return await run_once(tx, "checkDrift", idempotency_key, request, create, _load)


async def _load(pk: int) -> DriftCheck:
    return await DriftCheck.get(id=pk)


async def check_drift(actor: Actor = SYSTEM, idempotency_key: str | None = None) -> DriftCheck:
    """Run one check now, to its end; the check records a failure (it never raises one). A repeat under the
    same key returns the first request's check as it stands, and runs none."""
    check, replayed = await start_check(actor, idempotency_key)
    return check if replayed else await run_check(check.id)


_running: set[asyncio.Task] = set()


def launch(check_id: int) -> asyncio.Task:
    """Run a check in the background of this process (kept, so the task is not collected)."""
    task = asyncio.create_task(run_check(check_id), name=f"drift-check-{check_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def fail_interrupted_checks(stale_after: float = STALE_AFTER) -> int:
    """A check whose heartbeat stopped died with its process: mark it failed so the next may run."""
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
    stale = DriftCheck.filter(status=DriftCheckStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    return await stale.update(
        status=DriftCheckStatus.FAILED,
        running=None,
        error_code="INTERRUPTED",
        error="the check stopped without finishing (the server stopped); run it again",
        finished_at=datetime.now(UTC),
    )


async def _heartbeat(check_id: int) -> None:
    while True:
        try:
            await DriftCheck.filter(id=check_id).update(heartbeat_at=datetime.now(UTC))
        except Exception:  # a missed beat is retried; the check reports real failures itself
            log.warning("could not record drift check %s's heartbeat", check_id, exc_info=True)
        await asyncio.sleep(HEARTBEAT_EVERY)


async def run_check(check_id: int) -> DriftCheck:
    heartbeat = asyncio.create_task(_heartbeat(check_id))
    try:
        with tempfile.TemporaryDirectory(prefix="branchline-drift-") as workdir:
            path = Path(workdir) / "levels.jsonl"
            watermark, started = await _export(check_id, path)
            counts = await _compare(check_id, path, watermark, started)
        await DriftCheck.filter(id=check_id).update(
            status=DriftCheckStatus.COMPLETED, running=None, finished_at=datetime.now(UTC), **counts
        )
        # Signals Shopify sent before the export began were read afresh by it: no longer news.
        await clear_signals(started)
    except (OperationError, jsonl.JsonlError, ShopifyError) as error:
        code = error.problems[0].code.value if isinstance(error, OperationError) else "SHOPIFY_ERROR"
        await _fail(check_id, code, str(error))
    except Exception as error:
        log.exception("drift check %s failed", check_id)
        await _fail(check_id, "INTERNAL", f"the check stopped on an unexpected error ({type(error).__name__})")
    finally:
        heartbeat.cancel()
    return await DriftCheck.get(id=check_id)


async def _fail(check_id: int, code: str, message: str) -> None:
    log.warning("drift check %s failed (%s): %s", check_id, code, message)
    await DriftCheck.filter(id=check_id).update(
        status=DriftCheckStatus.FAILED, running=None, error_code=code, error=message, finished_at=datetime.now(UTC)
    )


async def _export(check_id: int, path: Path) -> tuple[int, datetime]:
    """Shopify's levels into `path`; returns Branchline's movement watermark and the start time,
    both taken before the export began (what moved after them is MOVING)."""
    connection = await current_connection()
    if connection is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "Shopify was disconnected before the check ran")
    watermark = await movement_watermark(Tortoise.get_connection("default"))
    started = datetime.now(UTC)
    async with await client_for(connection) as client:
        operation = await client.run_bulk_query(documents.LEVELS_EXPORT)
        await DriftCheck.filter(id=check_id).update(bulk_operation_id=operation.id, export_started_at=started)
        poll_interval = current_settings().drift.bulk_poll_interval
        done = await client.wait_for_bulk(operation.id, poll_interval=poll_interval, max_interval=5.0)
        if done.url:
            await client.download(done.url, path)
        else:  # an export with nothing in it has no file
            path.write_bytes(b"")  # noqa: ASYNC240 - an empty file
    return watermark, started


# -- comparing ------------------------------------------------------------------------------------------


async def _compare(check_id: int, path: Path, watermark: int, started: datetime) -> dict[str, int]:
    conn = Tortoise.get_connection("default")
    locations = {b.shopify_location_id: b.id for b in await Branch.filter(shopify_location_id__isnull=False)}
    mapped = await Variant.filter(shopify_inventory_item_id__isnull=False).values_list(
        "id", "shopify_inventory_item_id", "shopify_variant_id"
    )
    items = {item: vid for vid, item, _ in mapped}
    variant_gids = {gid: vid for vid, _, gid in mapped if gid}
    ours = set(items.values())
    levels: dict[tuple[int, int], tuple[int, int, int]] = {}
    branch_ids = sorted(locations.values())
    if branch_ids:
        marks = ", ".join("?" for _ in branch_ids)
        for r in await fetch(
            conn,
            f"SELECT branch_id, variant_id, on_hand, reserved, damaged FROM stock_level WHERE branch_id IN ({marks})",
            branch_ids,
        ):
            if r["variant_id"] in ours:
                levels[(r["branch_id"], r["variant_id"])] = (r["on_hand"], r["reserved"], r["damaged"])
    flight = await in_flight(conn, locations, variant_gids)
    moving = await moved_since(conn, watermark, started, locations, items)
    # Reading and comparing the file is plain Python: in a thread, so the server keeps serving.
    lines, compared = await asyncio.to_thread(_scan, check_id, path, items, locations, levels, flight, moving)
    lines.sort(key=lambda ln: (ln.branch_id, ln.variant_id))  # the report reads branch by branch

    async with transaction() as tx:
        for start in range(0, len(lines), LINE_BATCH):
            await DriftLine.bulk_create(lines[start : start + LINE_BATCH], using_db=tx.conn)
    count = {s: sum(1 for ln in lines if ln.status == s) for s in DriftLineStatus}
    return {
        "levels_compared": compared,
        "explained": count[DriftLineStatus.EXPLAINED],
        "unexplained": count[DriftLineStatus.UNEXPLAINED],
        "moving": count[DriftLineStatus.MOVING],
    }


def _scan(
    check_id: int,
    path: Path,
    items: dict[str, int],
    locations: dict[str, int],
    levels: dict[tuple[int, int], tuple[int, int, int]],
    flight: dict[tuple[int, int], list[InFlight]],
    moving: set[tuple[int, int]],
) -> tuple[list[DriftLine], int]:
    item_of = {vid: item for item, vid in items.items()}
    location_of = {bid: gid for gid, bid in locations.items()}
    levels = dict(levels)
    lines: list[DriftLine] = []
    seen: set[tuple[int, int]] = set()
    compared = 0
    for number, obj in jsonl.read_objects(path):
        if jsonl.gid_type(obj.get("id")) != "InventoryLevel":
            continue
        item = (obj.get("item") or {}).get("id") or obj.get("__parentId")
        location = (obj.get("location") or {}).get("id")
        if location is None:
            raise jsonl.JsonlError(number, f"inventory level {obj['id']} has no location")
        if item not in items or location not in locations:
            continue  # not Branchline's: an unmapped item, or a location with no branch
        key = (locations[location], items[item])
        if key in seen:
            continue
        seen.add(key)
        compared += 1
        line = _line(check_id, key, item, location, jsonl.quantities(obj), levels.pop(key, None), flight, moving)
        if line is not None:
            lines.append(line)
    for key, level in levels.items():  # Branchline holds stock where Shopify has no level at all
        if level[0] or level[2] or key in flight:
            compared += 1
            line = _line(check_id, key, item_of[key[1]], location_of[key[0]], None, level, flight, moving)
            if line is not None:
                lines.append(line)
    return lines, compared


def _line(
    check_id: int,
    key: tuple[int, int],
    item: str,
    location: str,
    shopify: dict[str, int] | None,
    level: tuple[int, int, int] | None,
    flight: dict[tuple[int, int], list[InFlight]],
    moving: set[tuple[int, int]],
) -> DriftLine | None:
    q = shopify or {}
    available, committed, reserved = q.get("available", 0), q.get("committed", 0), q.get("reserved", 0)
    damaged = q.get("damaged", 0)
    on_hand, bl_reserved, bl_damaged = level or (0, 0, 0)
    difference = on_hand - (available + committed + reserved)
    damaged_difference = bl_damaged - damaged
    parts = flight.get(key, [])
    why = explain(difference, damaged_difference, parts)
    if not (difference or damaged_difference or why.unexplained or why.unexplained_damaged):
        return None
    if why.explained:
        status = DriftLineStatus.EXPLAINED
    elif key in moving:
        status = DriftLineStatus.MOVING
    else:
        status = DriftLineStatus.UNEXPLAINED
    return DriftLine(
        check_id=check_id,
        branch_id=key[0],
        variant_id=key[1],
        inventory_item_id=item,
        location_id=location,
        shopify_stocked=shopify is not None,
        shopify_available=available,
        shopify_committed=committed,
        shopify_reserved=reserved,
        shopify_damaged=damaged,
        shopify_on_hand=q.get("on_hand", 0),
        branchline_on_hand=on_hand,
        branchline_reserved=bl_reserved,
        branchline_damaged=bl_damaged,
        difference=difference,
        damaged_difference=damaged_difference,
        in_flight=[p.as_json() for p in parts],
        unexplained=0 if why.explained else why.unexplained,
        unexplained_damaged=0 if why.explained else why.unexplained_damaged,
        status=status,
        explanation=why.words(status is DriftLineStatus.MOVING),
    )


# -- the schedule -------------------------------------------------------------------------------------------


async def check_loop(interval: float) -> None:
    """Run a check every `interval` seconds until cancelled. Several processes may run this loop:
    each waits for the interval since the LAST check anyone started, and the unique running flag
    keeps two from running at once."""
    # The first check waits a full interval: a server starting (or restarting) is not a reason to
    # export every level from Shopify, and an import that just ran compared nothing worth repeating.
    await asyncio.sleep(interval)
    while True:
        latest = await DriftCheck.all().order_by("-id").first()
        if latest is not None:
            age = (datetime.now(UTC) - latest.created_at).total_seconds()
            if age < interval:
                await asyncio.sleep(interval - age)
                continue
        try:
            check = await check_drift(SYSTEM)
            log.info("drift check %s: %s unexplained, %s explained", check.id, check.unexplained, check.explained)
        except OperationError as error:  # not connected, or another process is checking
            log.debug("drift check skipped: %s", error)
            await asyncio.sleep(interval)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("drift check could not start")
            await asyncio.sleep(interval)
