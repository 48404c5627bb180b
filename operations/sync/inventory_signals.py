"""Shopify's inventory_levels/update webhooks, remembered as signals that a level changed.

The payload carries only `available`, too little to judge drift (committed and reserved are missing),
and most of these webhooks are echoes of Branchline's own pushes. So they are remembered, not acted
on: one row per level, kept fresh. The drift report marks lines Shopify changed after their check
(a repair of them would likely be refused by the compare-and-swap), a check treats levels signalled
while its export ran as moving, and each completed check clears the signals it read past.
"""

import logging
from datetime import UTC, datetime

from tortoise import Tortoise

from models.branches import Branch
from models.catalog import Variant
from models.drift import DriftCheck
from operations.kernel import ErrorCode, OperationError, db_time, fetch, transaction
from shopify import jsonl

log = logging.getLogger(__name__)


def _gid(kind: str, value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return jsonl.gid(kind, value)
    if isinstance(value, str):
        if value.isdigit():
            return jsonl.gid(kind, value)
        if jsonl.gid_type(value) == kind:
            return value.split("?", 1)[0]
    return None


async def on_inventory_level_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    """inventory_levels/update: Shopify's level changed (our own push, an order, or the merchant).

    Remembered, not acted on: the payload carries only `available`, too little to judge drift, and
    most of these are echoes of Branchline's own pushes. The report marks lines Shopify changed after
    their check (a repair of them would likely be refused), and the next check reads them afresh.
    Unknown items and locations are not Branchline's: ignored with a log line, never an error."""
    if not isinstance(payload, dict):
        raise OperationError.single(ErrorCode.MALFORMED_WEBHOOK, f"{topic}: the body is not a JSON object")
    item = _gid("InventoryItem", payload.get("inventory_item_id"))
    location = _gid("Location", payload.get("location_id"))
    if item is None or location is None:
        raise OperationError.single(
            ErrorCode.MALFORMED_WEBHOOK, f"{topic}: needs inventory_item_id and location_id (webhook {webhook_id})"
        )
    if not await Variant.exists(shopify_inventory_item_id=item):
        log.info("%s for inventory item %s, which no variant holds: ignored (webhook %s)", topic, item, webhook_id)
        return
    if not await Branch.exists(shopify_location_id=location):
        log.info("%s at location %s, which no branch is: ignored (webhook %s)", topic, location, webhook_id)
        return
    available = payload.get("available")
    available = available if isinstance(available, int) and not isinstance(available, bool) else None
    async with transaction() as tx:
        now = db_time(tx.conn, datetime.now(UTC))
        # One row per level, upserted: concurrent webhooks for one level cannot collide.
        await fetch(
            tx.conn,
            "INSERT INTO drift_signal (inventory_item_id, location_id, available, received_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (inventory_item_id, location_id)"
            " DO UPDATE SET available = excluded.available, received_at = excluded.received_at",
            [item, location, available, now],
        )


async def clear_signals(before: datetime) -> None:
    async with transaction() as tx:
        await fetch(tx.conn, "DELETE FROM drift_signal WHERE received_at < ?", [db_time(tx.conn, before)])


async def changed_since(check: DriftCheck) -> set[tuple[str, str]]:
    """(item, location) levels Shopify reported changing after the check's export began."""
    if check.export_started_at is None:
        return set()
    conn = Tortoise.get_connection("default")
    rows = await fetch(
        conn,
        "SELECT inventory_item_id, location_id FROM drift_signal WHERE received_at >= ?",
        [db_time(conn, check.export_started_at)],
    )
    return {(r["inventory_item_id"], r["location_id"]) for r in rows}
