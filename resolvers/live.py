"""`stockChanged`: live stock for counters and dashboards, gap-free.

Without branchIds it watches every branch where the caller may see stock, as the subscription
starts (a branch made later needs a new subscription); each branch keeps its own sequence.

Order matters: subscribe to the bus first, then read each branch's current sequence, then
stream. A change committed between the two is either in the snapshot or arrives on the bus;
events at or below the snapshot are dropped as already known.

Per-branch sequences are contiguous, so a jump (or a GAP signal after the bus reconnected)
means events were lost in transit: the missing ones are read back from the ledger before the
newer event is delivered. A subscriber too slow for its bounded queue is closed with
SLOW_CONSUMER_CLOSE_CODE; it resumes with stockMovements(after:).
"""

import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import orjson
from strawberry.types import Info

from models import branches as branch_models
from operations.kernel import Actor, Permission, fetch, transaction, visible_branches
from operations.stock import movements_after
from schema import ids
from schema.errors import BadRequest
from schema.live import StockChange
from schema.types import StockBucket
from subscriptions import live
from subscriptions.bus import GAP, SLOW_CONSUMER_CLOSE_CODE, BusClosed, SlowConsumer
from subscriptions.channels import stock_channel

log = logging.getLogger(__name__)
MAX_BRANCHES = 50
MAX_VARIANTS = 500
BACKFILL_PAGE = 500


def _decode_all(values: list[str], type_name: str, field: str, limit: int) -> list[int]:
    if len(values) > limit:
        raise BadRequest(f"at most {limit} {field}", field=field)
    out = []
    for value in values:
        try:
            out.append(ids.decode(value, type_name, field))
        except Exception:
            raise BadRequest(f"not a valid {type_name} ID: {value!r}", field=field) from None
    return out


async def _validated_branches(actor: Actor, branch_ids: list[str]) -> list[int]:
    if not branch_ids:
        raise BadRequest("give at least one branch", field="branchIds")
    pks = sorted(set(_decode_all(branch_ids, "Branch", "branchIds", MAX_BRANCHES)))
    for pk in pks:
        if not actor.can(Permission.VIEW_STOCK, pk):
            raise BadRequest(f"you may not watch stock at branch {pk}", code="FORBIDDEN", field="branchIds")
    found = set(await branch_models.Branch.filter(id__in=pks).values_list("id", flat=True))
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise BadRequest(f"unknown branches: {missing}", code="NOT_FOUND", field="branchIds")
    return pks


async def _visible_branches(actor: Actor) -> list[int]:
    """Every branch where the caller may see stock (operations/kernel `visible_branches`)."""
    visible = visible_branches(actor)
    branches = branch_models.Branch.all() if visible is None else branch_models.Branch.filter(id__in=visible)
    found = await branches.order_by("id").values_list("id", flat=True)
    pks = [pk for pk in found if actor.can(Permission.VIEW_STOCK, pk)]
    if not pks:
        raise BadRequest("you may not watch stock at any branch", code="FORBIDDEN", field="branchIds")
    return pks


async def _current_sequences(branch_pks: list[int]) -> dict[int, int]:
    async with transaction() as tx:
        rows = await fetch(
            tx.conn,
            f"SELECT branch_id, last_sequence FROM branch_stock_sequence"
            f" WHERE branch_id IN ({', '.join('?' for _ in branch_pks)})",
            branch_pks,
        )
    found = {r["branch_id"]: r["last_sequence"] for r in rows}
    return {pk: found.get(pk, 0) for pk in branch_pks}


async def _ledger_events(branch_pk: int, after: int, up_to: int | None) -> list[dict]:
    """Movements after `after` (up to `up_to`, inclusive) as bus events, from the database."""
    async with transaction() as tx:
        movements = await movements_after(tx, branch_pk, after, up_to, limit=BACKFILL_PAGE)
    return [m.event() for m in movements]


def _to_change(e: dict) -> StockChange:
    occurred = e["occurredAt"]
    if isinstance(occurred, str):
        occurred = datetime.fromisoformat(occurred)
        occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
    return StockChange(
        branch_id=ids.global_id("Branch", e["branchId"]),
        variant_id=ids.global_id("Variant", e["variantId"]),
        movement_id=ids.global_id("StockMovement", e["movementId"]),
        sku=e["sku"],
        bucket=StockBucket(e["bucket"]),
        delta=e["delta"],
        reason=e["reason"],
        sequence=e["sequence"],
        on_hand=e["onHand"],
        reserved=e["reserved"],
        available=e["available"],
        in_transit=e["inTransit"],
        damaged=e["damaged"],
        occurred_at=occurred,
    )


class _Cursor:
    """What this subscriber has delivered per branch; fills holes from the ledger."""

    def __init__(self, last: dict[int, int], variants: set[int] | None):
        self.last = last
        self.variants = variants

    async def deliver(self, events: list[dict]) -> list[dict]:
        out: list[dict] = []
        for e in events:
            branch = e["branchId"]
            if e["sequence"] <= self.last[branch]:
                continue  # already delivered (or older than the snapshot)
            if e["sequence"] > self.last[branch] + 1:
                out += await self._catch_up(branch, up_to=e["sequence"] - 1)
            self.last[branch] = e["sequence"]
            out.append(e)
        return self._wanted(out)

    async def after_gap(self, branch: int) -> list[dict]:
        """The bus lost messages for a while: read everything since the last delivered."""
        return self._wanted(await self._catch_up(branch))

    def _wanted(self, events: list[dict]) -> list[dict]:
        return [e for e in events if self.variants is None or e["variantId"] in self.variants]

    async def _catch_up(self, branch: int, up_to: int | None = None) -> list[dict]:
        missed: list[dict] = []
        while True:
            page = await _ledger_events(branch, self.last[branch], up_to)
            if not page:
                return missed
            missed += page
            self.last[branch] = page[-1]["sequence"]


async def stock_changed(
    info: Info, branch_ids: list[str] | None, variant_ids: list[str] | None = None
) -> AsyncGenerator[StockChange, None]:
    actor = info.context.actor
    branch_pks = await (_visible_branches(actor) if branch_ids is None else _validated_branches(actor, branch_ids))
    variants = set(_decode_all(variant_ids, "Variant", "variantIds", MAX_VARIANTS)) if variant_ids else None
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    async with bus.subscribe([stock_channel(pk) for pk in branch_pks]) as subscription:
        cursor = _Cursor(await _current_sequences(branch_pks), variants)
        while True:
            try:
                event = await subscription.get()
            except SlowConsumer:
                await _close_slow(info)
                return
            except BusClosed:  # the server is stopping, or its bus failed: tell the client how to recover
                raise BadRequest(
                    "live events stopped: subscribe again and resume with stockMovements(after:)", code="UNAVAILABLE"
                ) from None
            if event is None:
                continue
            if event.message == GAP:
                branch = int(event.channel.split(":", 1)[1])
                batch = await cursor.after_gap(branch)
            else:
                batch = await cursor.deliver(orjson.loads(event.message))
            for e in batch:
                yield _to_change(e)


async def _close_slow(info: Info) -> None:
    socket = info.context.response
    log.warning("closing a stockChanged subscriber that fell behind")
    if socket is not None and hasattr(socket, "close"):
        await socket.close(code=SLOW_CONSUMER_CLOSE_CODE, reason="slow consumer: resume with stockMovements(after:)")
