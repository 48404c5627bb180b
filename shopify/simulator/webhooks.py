"""Webhook delivery: a background queue that POSTs signed, REST-shaped events to subscriptions (reference 5).

Events are queued by the code that changes state and sent later by one worker task, never inside the request
that caused them. Failures (non-2xx, timeout, connection error) are retried on a scaled-down backoff schedule,
carrying the original body; after `webhook_remove_after` consecutive failed attempts the subscription is
deleted, as Shopify does for API-created subscriptions. Fault hooks can drop, delay, duplicate and reorder.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson

if TYPE_CHECKING:
    from .store import SimShop


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(raw body, client secret)): the X-Shopify-Hmac-Sha256 value."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def topic_enum(topic: str) -> str:
    return topic.upper().replace("/", "_")


def topic_rest(enum_value: str) -> str:
    """ORDERS_CREATE -> orders/create; the last underscore-separated verb is split off after the resource."""
    for known in KNOWN_TOPICS:
        if topic_enum(known) == enum_value:
            return known
    raise ValueError(enum_value)


KNOWN_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/edited",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
    "inventory_levels/update",
    "inventory_levels/connect",
    "inventory_levels/disconnect",
    "inventory_items/create",
    "inventory_items/update",
    "inventory_items/delete",
    "products/create",
    "products/update",
    "products/delete",
    "locations/create",
    "locations/update",
    "locations/delete",
    "app/uninstalled",
    "bulk_operations/finish",
    "customers/create",
    "customers/update",
)


@dataclass
class Delivery:
    topic: str
    subscription_id: int
    uri: str
    body: bytes
    event_id: str
    webhook_id: str
    triggered_at: str
    attempt: int = 1


@dataclass
class DeliveryRecord:
    """One HTTP attempt (or a dropped delivery) as the receiver saw it. `body` is the exact bytes sent."""

    topic: str
    uri: str
    headers: dict
    body: bytes
    webhook_id: str
    event_id: str
    attempt: int
    status: int | None = None
    failed: bool = False
    dropped: bool = False
    duplicate: bool = False
    error: str | None = None
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return orjson.loads(self.body)


class WebhookDispatcher:
    def __init__(self, shop: SimShop) -> None:
        self.shop = shop
        self.log: list[DeliveryRecord] = []
        self._pending: list[Delivery] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._busy = 0

    # ------------------------------------------------------------------ producing
    def enqueue(self, topic: str, payload: dict) -> None:
        body = orjson.dumps(payload)
        event_id = str(uuid.uuid4())
        triggered = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for sub in list(self.shop.subscriptions.values()):
            if sub.topic == topic:
                self._pending.append(Delivery(topic, sub.id, sub.uri, body, event_id, str(uuid.uuid4()), triggered))
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def pending(self) -> int:
        return len(self._pending) + len(self._timers) + self._busy

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._task is not None:
            return
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient()
        self._task = asyncio.create_task(self._run(), name="shopify-sim-webhooks")
        self._notify()

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._busy = 0  # a cancelled batch never finished; its rest stays unsent
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._wake = None

    async def drain(self, within: float = 10.0) -> None:
        """Wait until nothing is queued, in flight or scheduled for retry (tests call this)."""
        deadline = time.monotonic() + within
        while self.pending():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.pending()} webhook deliveries still pending")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ worker
    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                faults = self.shop.faults
                if faults.webhook_reorder:
                    await self._hold_for_reorder()
                batch, self._pending = self._pending, []
                if faults.webhook_reorder and len(batch) > 1:
                    original = list(batch)
                    while batch == original:
                        faults.rng.shuffle(batch)
                self._busy += len(batch)
                for delivery in batch:
                    try:
                        await self._deliver(delivery)
                    finally:
                        self._busy -= 1

    async def _hold_for_reorder(self) -> None:
        """Let a burst accumulate so it can be released shuffled."""
        deadline = time.monotonic() + self.shop.config.reorder_window
        # Polling on purpose: stop at a deadline or a batch size, whichever comes first.
        while time.monotonic() < deadline and len(self._pending) < self.shop.config.reorder_batch:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def _deliver(self, d: Delivery) -> None:
        faults, config = self.shop.faults, self.shop.config
        sub = self.shop.subscriptions.get(d.subscription_id)
        if sub is None:
            return  # deleted meanwhile: Shopify stops delivering
        if d.attempt == 1 and faults.take_drop():
            self.log.append(DeliveryRecord(d.topic, d.uri, {}, d.body, d.webhook_id, d.event_id, 1, dropped=True))
            return
        if faults.webhook_delay:
            await asyncio.sleep(faults.webhook_delay)
        ok = await self._send(d, duplicate=False)
        if ok and d.attempt == 1 and faults.take_duplicate():
            await self._send(d, duplicate=True)
        if ok:
            sub.consecutive_failures = 0
            return
        sub.consecutive_failures += 1
        if sub.consecutive_failures >= config.webhook_remove_after:
            self.shop.subscriptions.pop(sub.id, None)
            return
        if d.attempt <= len(config.webhook_retry_delays):
            retry = replace(d, attempt=d.attempt + 1)
            if config.webhook_new_id_on_retry:
                retry.webhook_id = str(uuid.uuid4())
            self._schedule(retry, config.webhook_retry_delays[d.attempt - 1])

    def _schedule(self, d: Delivery, delay: float) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            self._pending.append(d)
            self._notify()

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    def headers_for(self, d: Delivery) -> dict[str, str]:
        sub = self.shop.subscriptions.get(d.subscription_id)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": d.topic,
            "X-Shopify-Hmac-Sha256": sign(self.shop.client_secret, d.body),
            "X-Shopify-Shop-Domain": self.shop.domain,
            "X-Shopify-API-Version": self.shop.config.webhook_api_version,
            "X-Shopify-Webhook-Id": d.webhook_id,
            "X-Shopify-Event-Id": d.event_id,
            "X-Shopify-Triggered-At": d.triggered_at,
        }
        if sub is not None and sub.name:
            headers["X-Shopify-Name"] = sub.name
        return headers

    async def _send(self, d: Delivery, *, duplicate: bool) -> bool:
        assert self._client is not None
        headers = self.headers_for(d)
        record = DeliveryRecord(d.topic, d.uri, headers, d.body, d.webhook_id, d.event_id, d.attempt)
        record.duplicate = duplicate
        try:
            resp = await self._client.post(
                d.uri, content=d.body, headers=headers, timeout=self.shop.config.webhook_timeout
            )
            record.status = resp.status_code
            record.failed = not 200 <= resp.status_code < 300
        except httpx.HTTPError as exc:
            record.failed = True
            record.error = f"{type(exc).__name__}: {exc}"
        self.log.append(record)
        return not record.failed
