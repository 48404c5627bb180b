"""Storing a verified webhook in the inbox, once, before Shopify gets its 200.

Two things make a delivery "the same" as one already stored, and either is enough:

- its `X-Shopify-Webhook-Id` (Shopify redelivers after a slow or failed answer);
- its business key: topic, the object it is about, that object's `updated_at` and a digest of the
  exact body. This catches the same event arriving under a different webhook id (a second
  subscription to the topic, a retry with a fresh id). The digest is part of the key on purpose:
  Shopify's timestamps have one-second precision, so two real changes to one inventory level or
  order within the same second share `updated_at` but not their body, and both must be kept. Two
  bodies that are byte-identical describe the same state, so dropping the second loses nothing.

Both are UNIQUE columns and the insert is `ON CONFLICT DO NOTHING`, so two copies arriving at the
same instant on two server processes still store one row. A duplicate bumps `duplicates` on the
row it matched, so redeliveries stay visible.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from models.inbox import InboxStatus
from operations.kernel import ErrorCode, db_time, fetch, transaction
from operations.sync.webhook_topics import HANDLERS

log = logging.getLogger(__name__)

# Tests register their own handlers here (see shopify_inbox.override_handlers); they win over
# operations/sync/webhook_topics.py.
OVERRIDES: dict[str, Any] = {}


def is_handled(topic: str) -> bool:
    return topic in OVERRIDES or topic in HANDLERS


@dataclass
class Delivery:
    """One POST as the endpoint received it (headers already read, signature already checked)."""

    topic: str
    body: bytes
    webhook_id: str | None = None
    event_id: str | None = None
    shop_domain: str = ""
    triggered_at: str | None = None
    ignore_reason: str | None = None  # set by the endpoint, e.g. a webhook for another shop


@dataclass
class Stored:
    id: int
    status: str
    duplicate: bool


def _gid(kind: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def subject_and_resource(topic: str, payload: dict) -> tuple[str | None, str | None]:
    """(the object this payload is, the group it is processed in order with).

    Fulfillments and refunds are grouped with their order: they change the same order lines, so
    an order's intake, its fulfillments and its refunds are handled one after another, as received.
    """
    kind = topic.split("/", 1)[0]
    own = payload.get("admin_graphql_api_id") or None
    if kind == "orders":
        subject = _gid("Order", own or payload.get("id"))
        return subject, subject
    if kind == "fulfillments":
        return _gid("Fulfillment", own or payload.get("id")), _gid("Order", payload.get("order_id"))
    if kind == "refunds":
        return _gid("Refund", own or payload.get("id")), _gid("Order", payload.get("order_id"))
    if kind == "inventory_levels":
        item, location = payload.get("inventory_item_id"), payload.get("location_id")
        level = f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}" if item and location else None
        return level, level
    if kind in ("products", "locations", "customers", "inventory_items"):
        name = {"products": "Product", "locations": "Location", "customers": "Customer"}.get(kind, "InventoryItem")
        subject = _gid(name, own or payload.get("id"))
        return subject, subject
    if kind == "app":
        return "shop", "shop"
    subject = own if isinstance(own, str) else None
    return subject, subject


def parse_time(value: Any) -> datetime | None:
    """Shopify's REST timestamps carry an offset (2026-11-26T15:00:00+05:00); stored in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def business_key(topic: str, subject: str | None, updated_at: str | None, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:32]
    return f"{topic}|{subject or '-'}|{updated_at or '-'}|{digest}"[-255:]


async def store(delivery: Delivery) -> Stored:
    """Write the delivery to the inbox (or recognise it as one already there)."""
    topic = delivery.topic[:80]
    payload: Any = None
    problem: str | None = None
    try:
        payload = orjson.loads(delivery.body)
    except orjson.JSONDecodeError as error:
        problem = f"the body is not JSON: {error}"
    if problem is None and not isinstance(payload, dict):
        problem, payload = f"the body is JSON but not an object ({type(payload).__name__})", None

    subject = resource = None
    updated_raw = None
    if payload is not None:
        subject, resource = subject_and_resource(topic, payload)
        updated_raw = payload.get("updated_at") if isinstance(payload.get("updated_at"), str) else None

    if problem is not None:
        status, code, error = InboxStatus.EXCEPTION, ErrorCode.MALFORMED_WEBHOOK.value, problem
    elif delivery.ignore_reason:
        status, code, error = InboxStatus.IGNORED, None, delivery.ignore_reason
    elif not is_handled(topic):
        status, code, error = InboxStatus.IGNORED, None, f"Branchline does not act on {topic} webhooks"
    else:
        status, code, error = InboxStatus.PENDING, None, None

    digest_key = business_key(topic, subject, updated_raw, delivery.body)
    webhook_id = (delivery.webhook_id or "").strip()[:100] or f"body:{digest_key[-32:]}"
    async with transaction() as tx:
        conn = tx.conn
        now = db_time(conn, datetime.now(UTC))
        updated = parse_time(updated_raw)
        triggered = parse_time(delivery.triggered_at)
        finished = status not in (InboxStatus.PENDING,)
        rows = await fetch(
            conn,
            "INSERT INTO webhook_inbox (webhook_id, business_key, event_id, topic, shop_domain, resource_key,"
            " subject, shopify_updated_at, triggered_at, payload, body, status, attempts, error_code, last_error,"
            " duplicates, received_at, processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                webhook_id,
                digest_key,
                (delivery.event_id or "")[:100] or None,
                topic,
                delivery.shop_domain[:255],
                (resource or "")[:160] or None,
                (subject or "")[:200] or None,
                db_time(conn, updated) if updated else None,
                db_time(conn, triggered) if triggered else None,
                orjson.dumps(payload).decode() if payload is not None else None,
                delivery.body.decode("utf-8", "replace") if problem is not None else None,
                status.value,
                code,
                error,
                now,
                now if finished else None,
            ],
        )
        if rows:
            stored = Stored(rows[0]["id"], status.value, duplicate=False)
        else:
            matched = await fetch(
                conn,
                "UPDATE webhook_inbox SET duplicates = duplicates + 1 WHERE webhook_id = ? OR business_key = ?"
                " RETURNING id, status",
                [webhook_id, digest_key],
            )
            first = min(matched, key=lambda r: r["id"]) if matched else {"id": 0, "status": "duplicate"}
            stored = Stored(first["id"], first["status"], duplicate=True)
    if stored.duplicate:
        log.info("webhook %s (%s) is a redelivery of inbox row %s: not stored again", webhook_id, topic, stored.id)
    elif status is InboxStatus.IGNORED:
        log.info("webhook %s (%s) acknowledged and ignored: %s", webhook_id, topic, error)
    elif status is InboxStatus.EXCEPTION:
        log.warning("webhook %s (%s) stored as an exception: %s", webhook_id, topic, error)
    return stored
