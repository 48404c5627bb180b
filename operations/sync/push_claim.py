"""Claiming due inventory deltas from the outbox and shaping them into batches (one Shopify call each).

A claim is one short transaction that:

1. takes due rows the way every queue does (operations/sync/queue.py: `FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so concurrent workers never take the same row; SQLite's write lock taken first);
2. finishes rows Shopify cannot hear about (a variant or branch not on Shopify, a bucket with no
   Shopify counterpart, deltas that cancel out) without any call, so they never clog the queue;
3. coalesces the rest per (quantity name, inventory item, location), at most 250 of those per batch,
   and writes each row's batch id and resolved target: a BATCH is fixed forever once written;
4. leases the rows (`next_attempt_at = now + lease`): a worker that dies mid-push leaves them due
   again after the lease, and whoever picks them up re-sends exactly the same batch under the same
   `@idempotent` key, so Shopify applies it once.

Unlike the other queues, the claim's token is the batch id itself, not one drawn per claim: it is
derived from the movements the batch covers, so a worker that takes a batch over holds the same token
as the one it took it from. That is on purpose: both send the same call under the same key, and
either may record that Shopify took it (operations/sync/push.py).

Rows that already carry a batch (a retry) are only ever taken together with their whole batch and
are never re-coalesced with anything else.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from models.stock import Bucket
from operations.kernel import Transaction, db_time, fetch, json_value, transaction
from operations.sync import queue

log = logging.getLogger(__name__)

TOPIC = "shopify.inventory_delta"
MAX_CHANGES_PER_CALL = 250  # Shopify's input limit for inventoryAdjustQuantities

# Branchline bucket -> Shopify quantity name. RESERVED and IN_TRANSIT have no counterpart Shopify
# should hear about through a delta (Shopify keeps its own `committed`; transfers land as receipts).
QUANTITY_NAMES = {Bucket.ON_HAND.value: "available", Bucket.DAMAGED.value: "damaged"}

NOT_ON_SHOPIFY = "not_on_shopify"
NOT_SYNCED = "not_synced"
NOTHING_TO_PUSH = "nothing_to_push"
PUSHED = "pushed"

QUEUE = queue.outbox(TOPIC)
_COLUMNS = "id, payload, batch, target, key_generation, attempts"


@dataclass
class Change:
    """One (item, location) line of a call: the sum of its rows' deltas."""

    inventory_item_id: str
    location_id: str
    delta: int = 0
    movement_ids: list[int] = field(default_factory=list)


@dataclass
class Batch:
    id: str
    name: str  # the Shopify quantity name
    generation: int  # bumped when Shopify refused the batch outright: a fresh key for the next send
    attempts: int
    row_ids: list[int]
    changes: list[Change]

    @property
    def idempotency_key(self) -> str:
        suffix = f"-g{self.generation}" if self.generation else ""
        return f"branchline-inventory-{self.id}{suffix}"

    @property
    def movement_count(self) -> int:
        return len(self.row_ids)


@dataclass
class Claim:
    batches: list[Batch] = field(default_factory=list)
    finished: dict[str, int] = field(default_factory=dict)  # outcome -> rows finished without a call

    @property
    def rows(self) -> int:
        return sum(b.movement_count for b in self.batches) + sum(self.finished.values())


def batch_id(name: str, movement_ids: list[int]) -> str:
    """Derived from what the batch covers, so the key names exactly these movements."""
    text = f"{TOPIC}:{name}:" + ",".join(str(i) for i in sorted(movement_ids))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def claim(limit: int, lease_seconds: float, now: datetime | None = None) -> Claim:
    now = now or datetime.now(UTC)
    lease_until = queue.lease_until(now, lease_seconds)
    async with transaction() as tx:
        lock = await queue.claim_lock(tx.conn, QUEUE.table)
        rows = await queue.due_rows(tx.conn, QUEUE, _COLUMNS, now, limit, lock)
        fresh = [r for r in rows if r["batch"] is None]
        retried = await _whole_batches(tx, [r for r in rows if r["batch"] is not None], lock)
        result = Claim()
        result.batches = [_batch_from_rows(batch, members) for batch, members in retried.items()]
        if retried:
            # A retried batch's token is its id (above): leasing it again is renewing it under that id.
            await queue.renew(tx.conn, QUEUE, list(retried), lease_until)
        if fresh:
            batches, finished = await _new_batches(tx, fresh, now, lease_until)
            result.batches += batches
            result.finished = finished
    return result


async def _whole_batches(tx: Transaction, rows: list[dict], lock: str) -> dict[str, list[dict]]:
    """Complete each retried batch with its rows the LIMIT cut off; drop a batch another worker holds part of."""
    by_batch: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_batch[r["batch"]].append(r)
    if not by_batch:
        return {}
    names = list(by_batch)
    have = {r["id"] for r in rows}
    rest = await fetch(
        tx.conn,
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND batch IN ({queue.marks(names)}) ORDER BY id{lock}",
        names,
    )
    for r in rest:
        if r["id"] not in have:
            by_batch[r["batch"]].append(r)
    counts = await fetch(
        tx.conn,
        f"SELECT batch, COUNT(*) AS n FROM outbox WHERE status = 'pending' AND batch IN ({queue.marks(names)})"
        " GROUP BY batch",
        names,
    )
    total = {r["batch"]: r["n"] for r in counts}
    complete = {}
    for name, members in by_batch.items():
        if len(members) == total.get(name, 0):
            complete[name] = members
        else:  # part of it is locked by another worker's claim: leave it all to them or to a later round
            log.info("outbox batch %s is partly claimed elsewhere; skipped this round", name)
    return complete


def _batch_from_rows(name: str, rows: list[dict]) -> Batch:
    """Rebuild a batch exactly as it was first sent: same rows, same targets, same order."""
    changes: dict[tuple[str, str], Change] = {}
    quantity_name = ""
    for r in sorted(rows, key=lambda r: r["id"]):
        target = json_value(r["target"])
        payload = json_value(r["payload"])
        quantity_name = target["name"]
        key = (target["item"], target["location"])
        change = changes.setdefault(key, Change(*key))
        change.delta += payload["delta"]
        change.movement_ids.append(payload["movementId"])
    return Batch(
        id=name,
        name=quantity_name,
        generation=max(r["key_generation"] for r in rows),
        attempts=max(r["attempts"] for r in rows),
        row_ids=sorted(r["id"] for r in rows),
        changes=[changes[k] for k in sorted(changes)],
    )


async def _new_batches(
    tx: Transaction, rows: list[dict], now: datetime, lease_until: datetime
) -> tuple[list[Batch], dict[str, int]]:
    conn = tx.conn
    payloads = {r["id"]: json_value(r["payload"]) for r in rows}
    items = await _map(tx, "variant", "shopify_inventory_item_id", {p["variantId"] for p in payloads.values()})
    locations = await _map(tx, "branch", "shopify_location_id", {p["branchId"] for p in payloads.values()})

    finished: dict[str, list[int]] = defaultdict(list)
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # (name, item, location) -> row ids
    for row_id, p in payloads.items():
        name = QUANTITY_NAMES.get(p["bucket"])
        if name is None:
            finished[NOT_SYNCED].append(row_id)
            continue
        item, location = items.get(p["variantId"]), locations.get(p["branchId"])
        if not item or not location:
            finished[NOT_ON_SHOPIFY].append(row_id)
            continue
        groups[(name, item, location)].append(row_id)

    by_name: dict[str, list[tuple[str, str, list[int]]]] = defaultdict(list)
    for (name, item, location), ids in sorted(groups.items()):
        if sum(payloads[i]["delta"] for i in ids) == 0:
            finished[NOTHING_TO_PUSH].extend(ids)  # e.g. a sale and its return before the next round
            continue
        by_name[name].append((item, location, ids))

    batches: list[Batch] = []
    for name, lines in sorted(by_name.items()):
        for start in range(0, len(lines), MAX_CHANGES_PER_CALL):
            chunk = lines[start : start + MAX_CHANGES_PER_CALL]
            row_ids = sorted(i for _, _, ids in chunk for i in ids)
            movement_ids = [payloads[i]["movementId"] for i in row_ids]
            batch = Batch(batch_id(name, movement_ids), name, 0, 0, row_ids, [])
            for item, location, ids in chunk:
                batch.changes.append(
                    Change(
                        item,
                        location,
                        sum(payloads[i]["delta"] for i in ids),
                        sorted(payloads[i]["movementId"] for i in ids),
                    )
                )
                target = orjson.dumps({"name": name, "item": item, "location": location}).decode()
                # The batch's composition is written with its lease: the batch id is the token (above).
                await queue.take(conn, QUEUE, ids, lease_until, batch.id, {"target": target})
            batches.append(batch)

    for outcome, ids in finished.items():
        log.info("outbox: %d inventory rows finished without a Shopify call (%s)", len(ids), outcome)
        await fetch(
            conn,
            "UPDATE outbox SET status = 'done', outcome = ?, done_at = ?, next_attempt_at = NULL"
            f" WHERE id IN ({queue.marks(ids)})",
            [outcome, db_time(conn, now), *ids],
        )
    return batches, {outcome: len(ids) for outcome, ids in finished.items()}


async def _map(tx: Transaction, table: str, column: str, ids: set[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    values = sorted(ids)
    rows = await fetch(tx.conn, f"SELECT id, {column} AS gid FROM {table} WHERE id IN ({queue.marks(values)})", values)
    return {r["id"]: r["gid"] for r in rows}
