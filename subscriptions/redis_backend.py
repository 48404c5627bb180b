"""A broadcaster backend for Redis pub/sub on redis-py 8 (asyncio) that survives Redis going away.

Why not broadcaster 0.3.1's own ``RedisBackend``:

- with redis-py 8 it delivers nothing: it wakes its reader *before* SUBSCRIBE is registered, the
  reader sees no subscription, leaves ``listen()`` and then waits forever;
- a dropped connection kills its reader task silently and every subscriber hangs;
- it builds its client with ``Redis.from_url(url)``, which in redis-py has zero retries.

Here one supervisor task owns the pub/sub connection and is the only thing that ever reconnects
it. It polls for messages forever; when the connection is lost (or stops answering our PINGs) it
reconnects with capped exponential backoff until ``disconnect()``, subscribes every channel again,
waits for Redis to confirm, and only then emits ``Event(channel, GAP)`` on each channel. Pub/sub
replays nothing, so GAP tells subscribers to backfill from the database (docs/architecture.md, Live events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

GAP = "__gap__"
"""Message text delivered on every subscribed channel after a reconnect: messages may be missing."""

# Everything that means "this connection is gone". Builtin TimeoutError (what asyncio.timeout
# raises) and ConnectionError are OSError subclasses; redis-py's own ones are not.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)

_LIVENESS_PING = "branchline-bus-liveness"
_STABLE_AFTER = 10.0  # seconds up before a new failure restarts the backoff from its base


class RedisPubSubBackend(BroadcastBackend):
    """Redis pub/sub with reconnect, resubscribe and GAP events; see the module docstring.

    ``connected``, ``last_error`` and ``reconnects`` are read by ``health()`` and by tests.
    """

    def __init__(
        self,
        url: str,
        *,
        poll_interval: float = 1.0,
        ping_interval: float = 5.0,
        pong_timeout: float = 3.0,
        confirm_timeout: float = 5.0,
        backoff_base: float = 0.05,
        backoff_cap: float = 2.0,
        publish_retries: int = 3,
        socket_timeout: float = 5.0,
        socket_connect_timeout: float = 2.0,
        health_check_interval: float = 10.0,
    ) -> None:
        self._poll_interval = poll_interval
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._confirm_timeout = confirm_timeout
        self._backoff = ExponentialWithJitterBackoff(cap=backoff_cap, base=backoff_base)
        options: dict[str, Any] = {
            # socket_timeout bounds commands and sends. The read loop below always passes its own
            # short poll timeout to get_message(), so an idle subscription never trips it.
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
            "socket_keepalive": True,
            "health_check_interval": health_check_interval,
        }
        # Publishing: let redis-py retry a few times (a restarted Redis drops every pooled
        # connection, and the first command on each would otherwise fail), then raise.
        self._publisher = aioredis.Redis.from_url(
            url,
            retry=Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.05), publish_retries),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            **options,
        )
        # Subscribing: no retries on purpose. redis-py's retry would reconnect and resubscribe
        # *silently*, so nobody would learn that messages were lost in between. Every failure has
        # to reach the supervisor, which is the one place that reconnects and emits GAP.
        self._subscriber = aioredis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)

        self._channels: set[str] = set()  # what we want subscribed, the source of truth
        self._queue: asyncio.Queue[Event] = asyncio.Queue()  # drained at once by Broadcast's listener
        self._pubsub: PubSub | None = None  # None while down
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._broken: BaseException | None = None  # set outside the reader: rebuild the connection
        self._supervisor: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self.connected = False
        self.last_error: str | None = None
        self.reconnects = 0

    # -- BroadcastBackend -----------------------------------------------------------------

    async def connect(self) -> None:
        # Fail fast at startup (wrong URL, Redis not there). After this we never give up.
        await self._publisher.ping()
        self._pubsub = await self._open()
        self._mark_up()
        self._supervisor = asyncio.create_task(self._supervise(), name="redis-pubsub-supervisor")

    async def disconnect(self) -> None:
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for fut in self._confirmations.values():
            if not fut.done():
                fut.set_result(None)  # release waiting subscribe() calls; the bus is going away
        self._confirmations.clear()
        await self._drop_pubsub()
        self.connected = False
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def subscribe(self, channel: str) -> None:
        """Subscribe and wait until Redis confirms, so a publish right after this is delivered.

        Never fails because Redis is unreachable: the channel is remembered, the supervisor
        subscribes it when the connection is back and then sends GAP on it.
        """
        # Registered before anything is sent or awaited: a reconnect racing with us includes it.
        self._channels.add(channel)
        pubsub = self._pubsub
        if pubsub is None or not self.connected:
            return
        fut = self._confirmations.get(channel)
        if fut is None or fut.done():
            fut = self._confirmations[channel] = asyncio.get_running_loop().create_future()
        try:
            await pubsub.subscribe(channel)
            async with asyncio.timeout(self._confirm_timeout):
                await asyncio.shield(fut)
        except CONNECTION_ERRORS as exc:
            self._break(pubsub, exc)
        finally:
            if self._confirmations.get(channel) is fut:
                del self._confirmations[channel]

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)  # from now on the reader drops its messages
        pubsub = self._pubsub
        if pubsub is None or not self.connected:
            return
        try:
            await pubsub.unsubscribe(channel)
        except CONNECTION_ERRORS as exc:
            self._break(pubsub, exc)

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    # -- health ---------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """``{"ok", "detail"}``: reader alive, pub/sub connected, and a PING answered within 1 s."""
        problems: list[str] = []
        task = self._supervisor
        if task is None:
            return {"ok": False, "detail": "not connected"}
        if task.done():
            exc = None if task.cancelled() else task.exception()
            problems.append(f"pub/sub reader stopped: {exc!r}")
        if not self.connected:
            down_for = asyncio.get_running_loop().time() - (self._down_since or 0.0)
            problems.append(f"pub/sub disconnected for {down_for:.1f}s: {self.last_error}")
        try:
            async with asyncio.timeout(1.0):
                await self._publisher.ping()
        except Exception as exc:
            problems.append(f"PING failed: {type(exc).__name__}: {exc}")
        if problems:
            return {"ok": False, "detail": "; ".join(problems)}
        return {
            "ok": True,
            "detail": f"connected; {len(self._channels)} channels; {self.reconnects} reconnects",
        }

    # -- the supervisor -------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Read forever; on any failure reconnect with backoff, resubscribe, emit GAP."""
        loop = asyncio.get_running_loop()
        failures = 0
        up_since = loop.time()
        while True:
            try:
                if self._pubsub is None:
                    await self._reconnect()
                    up_since = loop.time()
                await self._read(self._pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the reader must never die: everything means "reconnect"
                if not isinstance(exc, CONNECTION_ERRORS):
                    log.exception("unexpected error in the Redis pub/sub reader; reconnecting")
                elif self.connected:
                    log.warning("Redis pub/sub connection lost (%s); reconnecting", exc)
                if self.connected and loop.time() - up_since > _STABLE_AFTER:
                    failures = 0  # it had been stable: start the backoff from the bottom again
                self._mark_down(exc)
                await self._drop_pubsub()
                failures += 1
                # Capped exponent: the backoff computes base * 2**failures as a float, which
                # overflows after ~1000 failures, and we retry for as long as Redis is away.
                await asyncio.sleep(self._backoff.compute(min(failures, 16)))

    async def _reconnect(self) -> None:
        pubsub = await self._open()
        # Nothing awaited from here on: a subscribe() arriving now either saw us down (and its
        # channel was included by _open) or sees us up and subscribes on the new connection.
        self._pubsub = pubsub
        self._broken = None
        self._mark_up()
        self.reconnects += 1
        for fut in self._confirmations.values():
            if not fut.done():
                fut.set_result(None)  # those channels are subscribed on the new connection
        for channel in sorted(self._channels):
            self._queue.put_nowait(Event(channel, GAP))
        log.info("Redis pub/sub reconnected; GAP sent on %d channels", len(self._channels))

    async def _open(self) -> PubSub:
        """A connected PubSub subscribed to every wanted channel, confirmed by Redis."""
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.connect()
            subscribed: set[str] = set()
            async with asyncio.timeout(self._confirm_timeout):
                # Loop until stable: subscribe() may add channels while we wait for confirmations.
                while missing := self._channels - subscribed:
                    await pubsub.subscribe(*sorted(missing))
                    pending = set(missing)
                    while pending:
                        msg = await pubsub.get_message(timeout=self._poll_interval)
                        if msg is not None and msg["type"] == "subscribe":
                            pending.discard(_text(msg["channel"]))
                        # Messages read here were published before GAP is sent: the subscriber
                        # backfills past them anyway, so they are dropped, not reordered.
                    subscribed |= missing
            if stale := subscribed - self._channels:
                await pubsub.unsubscribe(*sorted(stale))
            assert pubsub.connection is not None
            pubsub.connection.register_connect_callback(self._on_silent_reconnect)
            return pubsub
        except BaseException:
            await self._close(pubsub)
            raise

    async def _read(self, pubsub: PubSub | None) -> None:
        """Deliver messages until the connection fails; PING when quiet to catch a dead peer."""
        assert pubsub is not None
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        ping_sent: float | None = None
        while True:
            if self._broken is not None:
                raise RedisConnectionError(f"pub/sub connection broken: {self._broken!r}")
            now = loop.time()
            if ping_sent is not None and now - ping_sent > self._pong_timeout:
                # A half-open TCP connection (peer gone without FIN/RST) never errors on read.
                raise RedisTimeoutError(f"no reply to PING within {self._pong_timeout}s")
            if ping_sent is None and now - last_heard >= self._ping_interval:
                await pubsub.ping(_LIVENESS_PING)
                ping_sent = now
            msg = await pubsub.get_message(timeout=self._poll_interval)
            if msg is None:
                continue
            last_heard = loop.time()
            kind = msg["type"]
            if kind == "message":
                channel = _text(msg["channel"])
                if channel in self._channels:  # not an unsubscribed channel's late message
                    self._queue.put_nowait(Event(channel, _text(msg["data"])))
            elif kind == "subscribe":
                fut = self._confirmations.get(_text(msg["channel"]))
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif kind == "pong":
                ping_sent = None

    # -- state ----------------------------------------------------------------------------

    def _break(self, pubsub: PubSub, exc: BaseException) -> None:
        """A command outside the reader failed: make the reader rebuild the connection."""
        if pubsub is not self._pubsub:
            return  # that connection has already been replaced
        log.warning("Redis pub/sub command failed (%s); reconnecting", exc)
        if self._broken is None:
            self._broken = exc

    def _on_silent_reconnect(self, connection: Connection) -> None:
        # redis-py reconnects on its own in a few places (even with zero retries its error path
        # reconnects before raising; a send on a dropped connection reconnects first) and
        # resubscribes quietly. Whatever was published meanwhile is lost, so treat it as a drop:
        # the supervisor rebuilds and sends GAP. It logs that, so nothing is logged here.
        if self._broken is None:
            self._broken = RedisConnectionError("pub/sub connection was re-established by redis-py")

    def _mark_up(self) -> None:
        self.connected = True
        self._down_since = None

    def _mark_down(self, exc: BaseException) -> None:
        self.connected = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        if self._down_since is None:
            self._down_since = asyncio.get_running_loop().time()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await self._close(pubsub)

    async def _close(self, pubsub: PubSub) -> None:
        if pubsub.connection is not None:
            # The pool hands this Connection object out again; our callback must not go with it.
            pubsub.connection.deregister_connect_callback(self._on_silent_reconnect)
        with contextlib.suppress(Exception):
            await pubsub.aclose()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
