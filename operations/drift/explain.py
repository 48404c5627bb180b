"""Why Branchline and Shopify may differ for a moment: the work still in flight between them.

A drift check compares Shopify's `available + committed + reserved` with Branchline's on_hand, and
Shopify's `damaged` with Branchline's damaged, at each mapped (branch, variant). The push worker sends
Branchline's on_hand changes to Shopify as `available` deltas and damaged changes as `damaged` deltas
(operations/shopify_push_claim.QUANTITY_NAMES), so until a change has travelled the two sides differ
by exactly that change. Each piece of in-flight work below is counted as the difference it accounts
for, signed as Branchline minus Shopify:

- a pending push (outbox row not yet sent): Branchline moved, Shopify not yet → +delta;
- a parked push (refused or failing, waiting in syncStatus): the same, until someone retries it;
- a Manual fulfillment not yet matched in Shopify, or a Smart one whose `fulfillmentCreate` has not
  gone out: Branchline deducted the units, Shopify still holds them as committed → −quantity;
- an unprocessed webhook about the variant at that location (inbox): Shopify moved first, Branchline
  has not heard yet; the amount is not known from the payload alone, so it explains the whole rest.

Whatever is left is unexplained: drift, the only part a repair touches.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from operations.kernel import db_time, fetch, json_value
from operations.sync import PUSH_TOPIC

Key = tuple[int, int]  # (branch id, variant id)

PENDING_PUSH = "pending_push"
PARKED_PUSH = "parked_push"
MANUAL_FULFILLMENT = "manual_fulfillment"
SMART_FULFILLMENT = "smart_fulfillment"
PARKED_FULFILLMENT = "parked_fulfillment"
UNPROCESSED_WEBHOOK = "unprocessed_webhook"
IN_FLIGHT_KINDS = (
    PENDING_PUSH,
    PARKED_PUSH,
    MANUAL_FULFILLMENT,
    SMART_FULFILLMENT,
    PARKED_FULFILLMENT,
    UNPROCESSED_WEBHOOK,
)

_WORDS = {
    PENDING_PUSH: "pending push (Branchline's change not yet sent to Shopify)",
    PARKED_PUSH: "parked push (Shopify refused or kept failing: retry it in the sync status)",
    MANUAL_FULFILLMENT: "manual fulfillment not yet matched in Shopify",
    SMART_FULFILLMENT: "fulfillment not yet sent to Shopify",
    PARKED_FULFILLMENT: "fulfillment Shopify refused or kept failing: retry it in the sync status",
    UNPROCESSED_WEBHOOK: "Shopify webhook not yet processed",
}


@dataclass
class InFlight:
    kind: str
    bucket: str  # "on_hand" or "damaged"
    quantity: int  # the difference it accounts for (Branchline minus Shopify); 0 when unknown
    count: int = 1  # rows, fulfillments or webhooks behind it

    def as_json(self) -> dict:
        return {"kind": self.kind, "bucket": self.bucket, "quantity": self.quantity, "count": self.count}


@dataclass
class Explanation:
    unexplained: int
    unexplained_damaged: int
    webhook: bool  # an unprocessed webhook touches this level: its effect is not counted in units
    parts: list[InFlight] = field(default_factory=list)

    @property
    def explained(self) -> bool:
        return self.webhook or (self.unexplained == 0 and self.unexplained_damaged == 0)

    def words(self, moving: bool) -> str:
        said = [f"{_WORDS[p.kind]} {p.quantity:+d}" if p.quantity else _WORDS[p.kind] for p in self.parts]
        if self.webhook:
            return "; ".join(said) + " (the rest is Shopify's change Branchline has not taken in yet)"
        if self.unexplained or self.unexplained_damaged:
            rest = []
            if self.unexplained:
                rest.append(f"on hand {self.unexplained:+d}")
            if self.unexplained_damaged:
                rest.append(f"damaged {self.unexplained_damaged:+d}")
            what = ("stock moved while the check ran, check again: " if moving else "unexplained: ") + ", ".join(rest)
            said.append(what)
        return "; ".join(said) or "in step"


def explain(difference: int, damaged_difference: int, parts: list[InFlight]) -> Explanation:
    on_hand = sum(p.quantity for p in parts if p.bucket == "on_hand")
    damaged = sum(p.quantity for p in parts if p.bucket == "damaged")
    webhook = any(p.kind == UNPROCESSED_WEBHOOK for p in parts)
    unexplained, unexplained_damaged = difference - on_hand, damaged_difference - damaged
    return Explanation(unexplained, unexplained_damaged, webhook and bool(unexplained or unexplained_damaged), parts)


async def in_flight(
    conn: BaseDBAsyncClient, locations: dict[str, int], variant_gids: dict[str, int]
) -> dict[Key, list[InFlight]]:
    """Everything in flight, per (branch, variant). `locations` maps Location GIDs to branch ids,
    `variant_gids` ProductVariant GIDs to variant ids (webhooks name variants, not inventory items)."""
    found: dict[Key, dict[tuple[str, str], InFlight]] = defaultdict(dict)

    def add(key: Key, kind: str, bucket: str, quantity: int) -> None:
        part = found[key].get((kind, bucket))
        if part is None:
            found[key][(kind, bucket)] = InFlight(kind, bucket, quantity)
        else:
            part.quantity += quantity
            part.count += 1

    rows = await fetch(
        conn, "SELECT payload, status FROM outbox WHERE topic = ? AND status IN ('pending', 'parked')", [PUSH_TOPIC]
    )
    for r in rows:
        p = json_value(r["payload"])
        if p.get("bucket") in ("on_hand", "damaged"):  # reserved, in_transit never travel (push_claim)
            kind = PENDING_PUSH if r["status"] == "pending" else PARKED_PUSH
            add((p["branchId"], p["variantId"]), kind, p["bucket"], p["delta"])

    rows = await fetch(
        conn,
        # A Smart fulfillment whose fulfillmentCreate is parked is named as such: it will not reach
        # Shopify on its own, so the line must not read as if it were merely on its way.
        "SELECT f.branch_id, ol.variant_id, f.workflow, fl.quantity, o.status AS action FROM online_fulfillment f"
        " JOIN online_fulfillment_line fl ON fl.fulfillment_id = f.id"
        " JOIN online_order_line ol ON ol.id = fl.order_line_id"
        " LEFT JOIN outbox o ON o.key = 'order_action:fulfill:' || CAST(f.id AS TEXT)"
        " WHERE f.status = 'pending' AND f.workflow IN ('manual', 'smart') AND ol.variant_id IS NOT NULL",
    )
    for r in rows:
        if r["workflow"] == "manual":
            kind = MANUAL_FULFILLMENT
        else:
            kind = PARKED_FULFILLMENT if r["action"] == "parked" else SMART_FULFILLMENT
        add((r["branch_id"], r["variant_id"]), kind, "on_hand", -r["quantity"])

    for key in await _webhooks_in_flight(conn, locations, variant_gids):
        add(key, UNPROCESSED_WEBHOOK, "on_hand", 0)
    return {key: list(parts.values()) for key, parts in found.items()}


async def _webhooks_in_flight(
    conn: BaseDBAsyncClient, locations: dict[str, int], variant_gids: dict[str, int]
) -> set[Key]:
    """(branch, variant) pairs an unprocessed inbox webhook (models/inbox.py) speaks of: fulfillments,
    refunds, orders. Payloads are REST-shaped: variants and locations appear as numeric ids at any
    depth (`line_items[].variant_id`, `location_id`), so they are gathered wherever they are."""
    rows = await fetch(
        conn,
        "SELECT topic, payload FROM webhook_inbox"
        # exception and parked rows wait for a person, but Branchline has not taken them in either
        " WHERE status IN ('pending', 'processing', 'retrying', 'exception', 'parked')"
        " AND (topic LIKE 'orders/%' OR topic LIKE 'fulfillments/%' OR topic LIKE 'refunds/%')",
    )
    by_number_variant = {gid.rsplit("/", 1)[-1]: vid for gid, vid in variant_gids.items()}
    by_number_location = {gid.rsplit("/", 1)[-1]: bid for gid, bid in locations.items()}
    touched: set[Key] = set()
    for r in rows:
        found_variants, found_locations = set(), set()
        _gather(json_value(r["payload"]), found_variants, found_locations)
        vids = {by_number_variant[v] for v in found_variants if v in by_number_variant}
        bids = {by_number_location[x] for x in found_locations if x in by_number_location} or set(locations.values())
        touched |= {(b, v) for b in bids for v in vids}
    return touched


def _gather(value, variants: set, locations: set) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "variant_id" and v is not None:
                variants.add(str(v).rsplit("/", 1)[-1])
            elif k == "location_id" and v is not None:
                locations.add(str(v).rsplit("/", 1)[-1])
            else:
                _gather(v, variants, locations)
    elif isinstance(value, list):
        for v in value:
            _gather(v, variants, locations)


async def moved_since(
    conn: BaseDBAsyncClient, movement_watermark: int, since: datetime, locations: dict[str, int], items: dict[str, int]
) -> set[Key]:
    """Levels that moved on either side while Shopify's export ran: the two sides were read at
    different moments there, so a difference is no evidence of drift. Branchline: a movement after
    the watermark taken at the export's start, or a push that finished during it. Shopify: an
    inventory_levels/update webhook received during it."""
    moved: set[Key] = set()
    rows = await fetch(
        conn, "SELECT DISTINCT branch_id, variant_id FROM stock_movement WHERE id > ?", [movement_watermark]
    )
    moved |= {(r["branch_id"], r["variant_id"]) for r in rows}
    rows = await fetch(
        conn,
        "SELECT payload FROM outbox WHERE topic = ? AND status = 'done' AND done_at >= ?",
        [PUSH_TOPIC, db_time(conn, since)],
    )
    for r in rows:
        p = json_value(r["payload"])
        moved.add((p["branchId"], p["variantId"]))
    rows = await fetch(
        conn,
        "SELECT inventory_item_id, location_id FROM drift_signal WHERE received_at >= ?",
        [db_time(conn, since)],
    )
    for r in rows:
        if r["location_id"] in locations and r["inventory_item_id"] in items:
            moved.add((locations[r["location_id"]], items[r["inventory_item_id"]]))
    return moved


async def movement_watermark(conn: BaseDBAsyncClient) -> int:
    rows = await fetch(conn, "SELECT MAX(id) AS n FROM stock_movement")
    return (rows[0]["n"] if rows else None) or 0
