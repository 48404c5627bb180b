"""The catalog import: Shopify's locations, products, variants, inventory levels and customers.

From Shopify it runs three bulk operations at once (allowed since 2026-01), waits for them,
streams each result file to disk, and imports the files; `branchline import --file` imports a
bulk-export file directly through the same path. Either way:

1. every line is read and checked, and filed by kind (shopify/jsonl.py) — a malformed line, or
   stock at a Shopify location that has no branch when branches may not be created, fails the
   job before anything is written;
2. the kinds are taken in dependency order, a batch per transaction: locations (and branches
   for new ones), products, variants, inventory levels (opening stock, once per branch and
   variant), customers. Children are joined to parents by GID through the database, so the
   order Shopify wrote the lines in does not matter and memory does not grow with the file;
3. progress (phase, objects done, rate) is written with each batch and published on the job's
   channel for the `importProgress` subscription.

A job that fails says so, with the reason; what earlier batches wrote stays (each batch is
whole), and running the import again completes it without duplicating anything.
"""

import asyncio
import itertools
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.shopify import ImportJob, ImportStatus
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Transaction,
    fetch,
    replay,
    require,
    run_once,
    transaction,
)
from operations.stock import OpeningLine, take_opening_stock
from operations.sync import catalog_upsert as upsert
from operations.sync.catalog_upsert import Tally
from operations.sync.connection import client_for, current_connection
from shopify import documents, jsonl
from shopify.errors import BulkOperationFailed, ShopifyError
from shopify.jsonl import Kind

log = logging.getLogger(__name__)

BATCH_SIZE = 10000
RUNNING = "running"
HEARTBEAT_EVERY = 10.0  # seconds
STALE_AFTER = 60.0  # seconds without a heartbeat before a job counts as dead
# Concurrent batch transactions for kinds whose batches are disjoint (PostgreSQL only: SQLite has
# one writer). Three keep the database busy while Python prepares the next batch.
PARALLEL_WRITERS = 3
FINISHED = {ImportStatus.COMPLETED, ImportStatus.FAILED}


class ImportPhase(StrEnum):
    """Where a job is (ImportJob.phase), in the order a run goes through them."""

    QUEUED = "queued"
    STARTING = "starting"
    EXPORTING = "exporting"
    DOWNLOADING = "downloading"
    CHECKING = "checking"
    LOCATIONS = "locations"
    PRODUCTS = "products"
    VARIANTS = "variants"
    INVENTORY = "inventory"
    CUSTOMERS = "customers"
    COMPLETED = "completed"
    FAILED = "failed"


def import_channel(job_id: int) -> str:
    return f"import:{job_id}"


async def start_import(
    actor: Actor, *, source: str = "shopify", create_branches: bool = True, idempotency_key: str | None = None
) -> tuple[ImportJob, bool]:
    """Create a queued job (the caller runs it); (job, replayed). A repeat under the same key returns the
    job the first request made and starts nothing."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    request = {"source": source, "createBranches": create_branches}
    if (earlier := await replay("startShopifyImport", idempotency_key, request, _load)) is not None:
        return earlier, True
    if source == "shopify" and await current_connection() is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "connect Shopify first (connectShopify)")
    await fail_interrupted_jobs()  # a crashed run must not block every later one

    async def create() -> ImportJob:
        try:
            async with in_transaction():  # savepoint: another import running is a typed error
                return await ImportJob.create(
                    source=source,
                    create_branches=create_branches,
                    requested_by=actor.label,
                    idempotency_key=idempotency_key,
                    running=RUNNING,
                )
        except IntegrityError:
            running = await ImportJob.get_or_none(running=RUNNING)
            which = f"import {running.id} is still {running.status.value}" if running else "another import is starting"
            raise OperationError.single(ErrorCode.WRONG_STATE, f"{which}; wait for it to finish") from None

    async with transaction() as tx:
        return await run_once(tx, "startShopifyImport", idempotency_key, request, create, _load)


async def _load(pk: int) -> ImportJob:
    return await ImportJob.get(id=pk)


async def fail_interrupted_jobs(stale_after: float = STALE_AFTER) -> int:
    """A job whose heartbeat stopped was cut short (its process died): mark it failed, so it is
    never shown as running and a new import may start. Safe with several server processes: a
    job still running elsewhere keeps beating."""
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
    unfinished = ImportJob.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
    stale = unfinished.filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
    return await stale.update(
        status=ImportStatus.FAILED,
        running=None,
        error_code="INTERRUPTED",
        error="the import stopped without finishing (the server stopped); start it again: nothing is imported twice",
        finished_at=datetime.now(UTC),
    )


async def _heartbeat(job_id: int) -> None:
    while True:
        try:
            await ImportJob.filter(id=job_id).update(heartbeat_at=datetime.now(UTC))
        except Exception:  # a missed beat is retried; the job itself reports real failures
            log.warning("could not record import %s's heartbeat", job_id, exc_info=True)
        await asyncio.sleep(HEARTBEAT_EVERY)


_running: set[asyncio.Task] = set()


def launch(job_id: int, files: list[Path] | None = None) -> asyncio.Task:
    """Run a job in the background of this process (the task is kept so it is not collected)."""
    task = asyncio.create_task(run_job(job_id, files), name=f"import-{job_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def run_job(job_id: int, files: list[Path] | None = None, *, on_progress: Callable | None = None) -> ImportJob:
    """Run the job to its end; never raises for a business failure (the job records it)."""
    job = await ImportJob.get(id=job_id)
    run = _Run(job, on_progress)
    heartbeat = asyncio.create_task(_heartbeat(job_id))
    try:
        await run.record(status=ImportStatus.RUNNING, phase=ImportPhase.STARTING, started_at=datetime.now(UTC))
        with tempfile.TemporaryDirectory(prefix="branchline-import-") as workdir:
            if files is None:
                files = await run.export_from_shopify(Path(workdir))
            await run.import_files(files, Path(workdir))
        await run.record(
            status=ImportStatus.COMPLETED, phase=ImportPhase.COMPLETED, finished_at=datetime.now(UTC), running=None
        )
    except (OperationError, jsonl.JsonlError, ShopifyError) as error:
        await run.fail(error)
    except Exception as error:
        log.exception("import %s failed", job_id)
        await run.fail(error, code="INTERNAL", message="the import stopped on an unexpected error (see server log)")
    finally:
        heartbeat.cancel()
    return run.job


class _Run:
    def __init__(self, job: ImportJob, on_progress: Callable | None):
        self.job = job
        self.tally = Tally()
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.batch_no = 0

    # ---- progress -------------------------------------------------------------------------

    async def record(self, tx: Transaction | None = None, **fields) -> None:
        self.job.update_from_dict(fields)
        self.job.heartbeat_at = datetime.now(UTC)  # saving the row must not undo the heartbeat
        self.job.counts = self.tally.as_json()
        self.job.warnings = self.tally.warnings
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.job.rate = round(self.job.objects_done / elapsed, 1)
        if tx is None:
            async with transaction() as own:
                await self._save(own)
        else:
            await self._save(tx)
        if self.on_progress is not None:
            self.on_progress(self.job)

    async def _save(self, tx: Transaction) -> None:
        await self.job.save(using_db=tx.conn)
        tx.publish_after_commit(import_channel(self.job.id), progress_event(self.job))

    async def fail(self, error: Exception, *, code: str | None = None, message: str | None = None) -> None:
        if code is None:
            code = _error_code(error)
        if message is None:
            message = str(error)
        log.warning("import %s failed (%s): %s", self.job.id, code, message)
        await self.record(
            status=ImportStatus.FAILED,
            phase=ImportPhase.FAILED,
            error_code=code,
            error=message,
            finished_at=datetime.now(UTC),
            running=None,
        )

    # ---- Shopify bulk export --------------------------------------------------------------

    async def export_from_shopify(self, workdir: Path) -> list[Path]:
        connection = await current_connection()
        if connection is None:
            raise OperationError.single(ErrorCode.NOT_CONNECTED, "Shopify was disconnected before the import ran")
        await self.record(phase=ImportPhase.EXPORTING)
        async with await client_for(connection) as client:
            started = {}
            for name, query in documents.BULK_EXPORTS.items():
                started[name] = (await client.run_bulk_query(query)).id
            await self.record(bulk_operations=started)
            # Let every export finish (or fail) before reporting, so none is left polling a closed client.
            outcomes = await asyncio.gather(
                *(client.wait_for_bulk(op_id) for op_id in started.values()), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            finished = list(outcomes)
            self.job.objects_total = sum(op.object_count for op in finished)
            await self.record(phase=ImportPhase.DOWNLOADING)
            files = []
            for name, op in zip(started, finished, strict=True):
                path = workdir / f"shopify-{name}.jsonl"
                if op.url:  # an export with nothing in it has no file
                    await client.download(op.url, path)
                else:
                    path.write_bytes(b"")
                files.append(path)
        return files

    # ---- importing files -------------------------------------------------------------------

    async def import_files(self, files: list[Path], workdir: Path) -> None:
        await self.record(phase=ImportPhase.CHECKING)
        split_dir = workdir / "by-kind"
        split_dir.mkdir()
        split = await asyncio.to_thread(jsonl.split_by_kind, files, split_dir)
        if self.job.objects_total is None:
            self.job.objects_total = sum(split.counts.get(k.value, 0) for k in Kind)
        for kind, n in split.counts.items():
            if kind not in {k.value for k in Kind}:
                self.tally.warn(f"{n} {kind} lines are not imported")
        await self._import_locations(split.files[Kind.LOCATION], split.level_locations)
        await self._batches(Kind.PRODUCT, split.files[Kind.PRODUCT], self._products)
        await self._batches(Kind.VARIANT, split.files[Kind.VARIANT], self._variants)
        await self._batches(Kind.LEVEL, split.files[Kind.LEVEL], self._levels)
        await self._batches(Kind.CUSTOMER, split.files[Kind.CUSTOMER], self._customers)

    async def _import_locations(self, path: Path, level_locations: set[str]) -> None:
        await self.record(phase=ImportPhase.LOCATIONS)
        lines = [obj for _, obj in jsonl.read_objects(path)]
        async with transaction() as tx:
            if lines:
                await upsert.upsert_locations(tx, lines, self.tally)
            known = {
                r["shopify_location_id"]
                for r in await fetch(tx.conn, "SELECT shopify_location_id FROM shopify_location")
            }
            unknown = sorted(level_locations - known)
            if unknown:
                raise OperationError.single(
                    ErrorCode.UNMAPPED_LOCATION,
                    f"inventory levels point at locations the import does not list: {', '.join(unknown[:5])}",
                )
            if self.job.create_branches:
                await upsert.create_branches_for_new_locations(tx, self.tally)
            mapped, ignored = await upsert.location_branches(tx)
            unmapped = sorted(level_locations - set(mapped) - ignored)
            if unmapped:
                marks = ", ".join("?" for _ in unmapped)
                names = await fetch(
                    tx.conn, f"SELECT name FROM shopify_location WHERE shopify_location_id IN ({marks})", unmapped
                )
                raise OperationError.single(
                    ErrorCode.UNMAPPED_LOCATION,
                    "map these Shopify locations to a branch (mapLocation), or ignore them, then import again: "
                    + ", ".join(r["name"] for r in names),
                )
            self.job.objects_done += len(lines)
            await self.record(tx)
        self.locations, self.ignored = mapped, ignored

    async def _batches(self, kind: Kind, path: Path, handle) -> None:
        """Write batch after batch. The next batch is read and parsed in a thread meanwhile, so
        parsing overlaps the database's work; on PostgreSQL, inventory levels (whose batches never touch
        the same rows) are written by several transactions at once. Customers are written one batch at a
        time: two batches may hold the same phone, which only one customer may have."""
        await self.record(phase=_PHASES[kind])
        objects = jsonl.read_objects(path)

        def read_batch() -> list[dict]:
            return [obj for _, obj in itertools.islice(objects, BATCH_SIZE)]

        writers = PARALLEL_WRITERS if kind is Kind.LEVEL and not _is_sqlite() else 1
        in_flight: set[asyncio.Task] = set()
        upcoming = asyncio.create_task(asyncio.to_thread(read_batch))
        try:
            while batch := await upcoming:
                upcoming = asyncio.create_task(asyncio.to_thread(read_batch))
                if len(in_flight) >= writers:
                    done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()  # a failed batch fails the job
                in_flight.add(asyncio.create_task(self._write(batch, handle)))
            for task in asyncio.as_completed(in_flight):
                await task
        finally:
            for task in in_flight:
                task.cancel()

    async def _write(self, batch: list[dict], handle) -> None:
        self.batch_no += 1
        number = self.batch_no  # taken now: another batch may be in flight and move the counter on
        async with transaction() as tx:
            if not _is_sqlite():
                # A batch is whole or absent and the import can always run again, so it need not
                # wait for the WAL to reach disk at each commit (PostgreSQL stays consistent).
                await tx.conn.execute_script("SET LOCAL synchronous_commit = off")
            await handle(tx, batch, number)
        # Progress is recorded after the batch commits, in its own short transaction: holding the
        # job's row inside every batch would make concurrent batches wait for each other.
        self.job.objects_done += len(batch)
        await self.record()

    async def _products(self, tx: Transaction, batch: list[dict], number: int) -> None:
        await upsert.upsert_products(tx, batch, self.tally)

    async def _variants(self, tx: Transaction, batch: list[dict], number: int) -> None:
        await upsert.upsert_variants(tx, batch, self.tally)

    async def _customers(self, tx: Transaction, batch: list[dict], number: int) -> None:
        await upsert.upsert_customers(tx, batch, self.tally)

    async def _levels(self, tx: Transaction, batch: list[dict], number: int) -> None:
        variants = await upsert.variants_by_gid(tx, sorted({obj["__parentId"] for obj in batch}))
        lines = []
        for obj in batch:
            location = obj["location"]["id"]
            if location in self.ignored:
                self.tally.count("levels", "ignored_location")
                continue
            variant = variants.get(obj["__parentId"])
            if variant is None:
                self.tally.count("levels", "skipped")
                self.tally.warn(f"inventory level {obj['id']}: variant {obj['__parentId']} is not in the import")
                continue
            on_hand, damaged = opening_quantities(obj)
            if on_hand is None:
                self.tally.count("levels", "skipped")
                self.tally.warn(f"inventory level {obj['id']}: no on_hand quantity in the export")
                continue
            if on_hand < 0:
                self.tally.warn(f"{variant[1]} at {location}: Shopify says {on_hand} on hand; taken as is")
            lines.append(OpeningLine(self.locations[location], variant[0], variant[1], on_hand, damaged))
        taken = await take_opening_stock(tx, self.job.id, number, lines, self.job.requested_by)
        self.tally.count("levels", "created", taken.new_levels)
        self.tally.count("levels", "opening_stock", taken.movements)
        # Already in Branchline (an earlier import, or stock counted here): the ledger stands.
        self.tally.count("levels", "already_present", taken.kept)


def opening_quantities(level: dict) -> tuple[int | None, int]:
    """(sellable on hand, damaged) of an inventory level line, in Branchline's buckets.

    Shopify's on_hand also counts damaged, safety-stock and quality-control units. Branchline keeps
    damaged units in their own bucket and has none for the other two, so its on hand is what Shopify
    could sell or has promised: available + committed + reserved — the same sum the drift check and
    the push compare against. An export without `available` (an older file) falls back to on_hand
    less damaged."""
    q = jsonl.quantities(level)
    damaged = max(q.get("damaged", 0), 0)
    if "available" not in q:
        return (q["on_hand"] - damaged if "on_hand" in q else None), damaged
    available, committed, reserved = q["available"], q.get("committed", 0), q.get("reserved", 0)
    return available + committed + reserved, damaged


_PHASES = {
    Kind.PRODUCT: ImportPhase.PRODUCTS,
    Kind.VARIANT: ImportPhase.VARIANTS,
    Kind.LEVEL: ImportPhase.INVENTORY,
    Kind.CUSTOMER: ImportPhase.CUSTOMERS,
}


def _is_sqlite() -> bool:
    return Tortoise.get_connection("default").capabilities.dialect == "sqlite"


def _error_code(error: Exception) -> str:
    if isinstance(error, OperationError):
        return error.problems[0].code.value
    if isinstance(error, jsonl.JsonlError):
        return ErrorCode.MALFORMED_FILE.value
    if isinstance(error, BulkOperationFailed):
        return ErrorCode.IMPORT_FAILED.value
    return ErrorCode.SHOPIFY_UNAVAILABLE.value


def progress_event(job: ImportJob) -> dict:
    return {
        "jobId": job.id,
        "status": job.status.value if hasattr(job.status, "value") else job.status,
        "phase": job.phase,
        "objectsDone": job.objects_done,
        "objectsTotal": job.objects_total,
        "rate": job.rate,
        "errorCode": job.error_code,
        "error": job.error,
    }
