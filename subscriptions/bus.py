"""The process-wide event bus behind live pushes (stock, orders): publish after commit, fan out.

Built on ``broadcaster.Broadcast`` (the transport library), with its 0.3.1 defects fixed here
(found on broadcaster 0.3.1):

1. Concurrent first subscribers to one channel race (the second overwrites the first's queue set,
   the first never hears anything). We take a per-channel lock and count subscribers, so the
   backend subscribes and unsubscribes exactly once per channel.
2. Every subscriber gets an unbounded queue and the listener ``await``s ``put`` on it. Ours are
   bounded; the listener never waits: a full queue marks that one subscriber overflowed, its
   queue is emptied and its next read raises ``SlowConsumer`` (callers close the socket with
   ``SLOW_CONSUMER_CLOSE_CODE``). Nobody else is slowed down and memory stays bounded.
3. The listener task can die unnoticed and subscribers hang. ``health()`` reports it and every
   open subscription fails with ``BusClosed`` instead of waiting forever. The Redis backend
   (``redis_backend.py``) is written not to die at all.

``memory://`` uses broadcaster's MemoryBackend (one process); ``redis://``/``rediss://`` use our
``RedisPubSubBackend``, never broadcaster's own (it delivers nothing with redis-py 8).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend

from subscriptions.redis_backend import GAP, RedisPubSubBackend

__all__ = ["GAP", "SLOW_CONSUMER_CLOSE_CODE", "Bus", "BusClosed", "Event", "SlowConsumer", "Subscription"]

log = logging.getLogger(__name__)

SLOW_CONSUMER_CLOSE_CODE = 4801
"""WebSocket close code for a subscriber dropped because it could not keep up (not used by the
graphql-transport-ws protocol, which owns 4400-4500)."""


class SlowConsumer(Exception):
    """The subscription's bounded queue overflowed; it receives nothing more."""


class BusClosed(Exception):
    """The bus was disconnected, or its listener stopped: this subscription will receive nothing."""


class Subscription:
    """One bounded queue fed by every channel it was opened on."""

    def __init__(self, channels: tuple[str, ...], queue_size: int) -> None:
        self.channels = channels
        # None is only ever put to wake a reader after _fail(); events are never None.
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=queue_size)
        self._failure: Exception | None = None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            event = await self.get()
            assert event is not None  # no timeout, so get() returns an event or raises
            yield event

    async def get(self, timeout: float | None = None) -> Event | None:  # noqa: ASYNC109 (public API)
        """The next event, or None after ``timeout`` seconds; raises SlowConsumer or BusClosed."""
        if self._failure is not None:
            raise self._failure
        try:
            async with asyncio.timeout(timeout):
                event = await self._queue.get()
        except TimeoutError:
            return None
        if event is None:
            assert self._failure is not None
            raise self._failure
        return event

    def _offer(self, event: Event) -> None:
        """Called by the listener for every event; never blocks."""
        if self._failure is not None:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._fail(SlowConsumer(f"more than {self._queue.maxsize} events waiting on {self.channels}"))

    def _fail(self, failure: Exception) -> None:
        if self._failure is not None:
            return
        self._failure = failure
        # Free what is queued (it will never be read) and wake a reader blocked in get().
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


class _Broadcast(Broadcast):
    """``broadcaster.Broadcast`` with a non-blocking listener and reference-counted channels.

    Its own ``subscribe`` (racy, unbounded) is replaced by ``attach``/``detach``.
    """

    def __init__(self, url: str, backend: BroadcastBackend | None) -> None:
        super().__init__(url, backend=backend)
        self._subscribers: dict[str, set[Subscription]] = {}  # type: ignore[assignment]
        # One lock per channel ever used: bounded by the number of branches, so never pruned.
        self._channel_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._listener_task: asyncio.Task[None] | None = None
        self.closed = False

    def subscribe(self, channel: str) -> Any:
        raise NotImplementedError("use Bus.subscribe")

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            for subscription in tuple(self._subscribers.get(event.channel, ())):
                subscription._offer(event)
            # Let subscribers run between events. A burst read from one socket buffer would
            # otherwise be fanned out in one go, and queue_size would bound the burst size
            # instead of how far a subscriber lags behind.
            await asyncio.sleep(0)

    async def attach(self, channel: str, subscription: Subscription) -> None:
        async with self._channel_locks[channel]:
            subscribers = self._subscribers.get(channel)
            if subscribers:
                subscribers.add(subscription)
                return
            # Registered before the backend subscribes, so nothing that arrives once it has is lost.
            self._subscribers[channel] = {subscription}
            try:
                await self._backend.subscribe(channel)
            except BaseException:
                del self._subscribers[channel]
                raise

    async def detach(self, channel: str, subscription: Subscription) -> None:
        async with self._channel_locks[channel]:
            subscribers = self._subscribers.get(channel)
            if subscribers is None or subscription not in subscribers:
                return
            subscribers.discard(subscription)
            if subscribers:
                return
            del self._subscribers[channel]
            if not self.closed:
                await self._backend.unsubscribe(channel)

    def fail_all(self, failure: Exception) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._fail(failure)

    async def disconnect(self) -> None:
        # Broadcast.disconnect re-raises a dead listener's error and cancels without awaiting
        # (a pending-task warning at shutdown). Stop everything in order instead.
        self.closed = True
        self.fail_all(BusClosed("the bus was disconnected"))
        task, self._listener_task = self._listener_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                pass  # already logged by Bus._on_listener_done
        await self._backend.disconnect()


class Bus:
    """Publish/subscribe for live events: ``memory://`` (one process) or ``redis://host:port/db``.

    ``backend=`` replaces the backend built from ``url`` (tests use it to tune the Redis timings).
    """

    def __init__(self, url: str, *, queue_size: int = 1000, backend: BroadcastBackend | None = None) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        scheme = urlparse(url).scheme
        if backend is None:
            if scheme in ("redis", "rediss"):
                backend = RedisPubSubBackend(url)
            elif scheme != "memory":  # broadcaster's postgres/kafka/stream backends have the same flaws
                raise ValueError(f"unsupported bus URL {url!r}: use memory:// or redis://")
        self.url = url
        self.backend_name = "redis" if isinstance(backend, RedisPubSubBackend) else "memory"
        self._queue_size = queue_size
        self._broadcast = _Broadcast(url, backend)
        self._connected = False
        # Subscriptions whose channel subscription is in place, per channel: `subscribed()`.
        self._attached: Counter[str] = Counter()

    async def connect(self) -> None:
        if self._connected:
            return
        await self._broadcast.connect()
        assert self._broadcast._listener_task is not None
        self._broadcast._listener_task.add_done_callback(self._on_listener_done)
        self._connected = True

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        await self._broadcast.disconnect()

    async def publish(self, channel: str, message: str) -> None:
        """Deliver ``message`` to current subscribers of ``channel``; at most once, no replay."""
        if not self._connected:
            raise RuntimeError("the bus is not connected")
        await self._broadcast.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channels: Iterable[str]) -> AsyncIterator[Subscription]:
        """One subscription over several channels. Once entered, later publishes are delivered.

        With Redis down this still succeeds; ``GAP`` arrives on each channel when it is back.
        """
        if isinstance(channels, str):
            raise TypeError("subscribe() takes a list of channel names, not a string")
        names = tuple(dict.fromkeys(channels))  # unique, in the caller's order
        if not names:
            raise ValueError("subscribe() needs at least one channel")
        if not self._connected:
            raise RuntimeError("the bus is not connected")
        subscription = Subscription(names, self._queue_size)
        attached: list[str] = []
        try:
            for channel in names:
                await self._broadcast.attach(channel, subscription)
                attached.append(channel)
                self._attached[channel] += 1
            yield subscription
        finally:
            # Shielded: a websocket closing cancels this task, and a half-done detach would leave
            # the channel counted but unsubscribed.
            await asyncio.shield(self._detach(attached, subscription))

    def subscribed(self, channel: str) -> int:
        """How many subscriptions on this bus listen to `channel` now, each subscribed with the backend:
        a readiness signal (a test waits for its WebSocket's subscription to be in place before it makes
        the change the subscription should see, instead of sleeping a while)."""
        return self._attached[channel]

    async def _detach(self, channels: list[str], subscription: Subscription) -> None:
        for channel in channels:
            self._attached[channel] -= 1
            if not self._attached[channel]:
                del self._attached[channel]
            try:
                await self._broadcast.detach(channel, subscription)
            except Exception:
                log.exception("could not unsubscribe from %s", channel)

    async def health(self) -> dict[str, Any]:
        """``{"ok", "backend", "detail"}``: part of the server's /health."""
        task = self._broadcast._listener_task
        if not self._connected or task is None:
            return {"ok": False, "backend": self.backend_name, "detail": "not connected"}
        if task.done():
            exc = None if task.cancelled() else task.exception()
            return {"ok": False, "backend": self.backend_name, "detail": f"listener stopped: {exc!r}"}
        backend = self._broadcast._backend
        if isinstance(backend, RedisPubSubBackend):
            report = await backend.health()
            return {"ok": report["ok"], "backend": self.backend_name, "detail": report["detail"]}
        return {"ok": True, "backend": self.backend_name, "detail": "listener running"}

    def _on_listener_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        log.error("the bus listener stopped", exc_info=exc)
        self._broadcast.fail_all(BusClosed(f"the bus listener stopped: {exc!r}"))
