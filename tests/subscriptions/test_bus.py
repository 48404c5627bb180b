"""The event bus: fan-out, bounded queues, and surviving Redis going away (GAP, health).

Redis tests use BRANCHLINE_TEST_REDIS_URL, else BRANCHLINE_TEST_BUS_REDIS_URL (a Redis for these tests
alone, in a pass whose bus is the in-memory one), else redis://127.0.0.1:6379/0 (skipped only when that
default is unreachable). They drop every client on that Redis: never point them at a shared one. The
shared server is never stopped: tests that need a Redis to die start
their own redis-server on a free port. Channel names are random so concurrent runs don't mix.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from broadcaster import Event
from broadcaster._backends.memory import MemoryBackend
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from subscriptions.bus import GAP, Bus, BusClosed, SlowConsumer, Subscription
from subscriptions.redis_backend import RedisPubSubBackend

REDIS_URL = (
    os.environ.get("BRANCHLINE_TEST_REDIS_URL")
    or os.environ.get("BRANCHLINE_TEST_BUS_REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)


def new_channel() -> str:
    return f"test-bus:{uuid.uuid4().hex}"


def admin_client(url: str) -> aioredis.Redis:
    # Retries: CLIENT KILL drops this client's pooled connection too.
    return aioredis.Redis.from_url(url, retry=Retry(NoBackoff(), 3), socket_connect_timeout=1)


async def shared_redis_url() -> str:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisConnectionError, OSError) as exc:
        if {"BRANCHLINE_TEST_REDIS_URL", "BRANCHLINE_TEST_BUS_REDIS_URL"} & set(os.environ):
            pytest.fail(f"the test Redis {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    return REDIS_URL


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Poll ``check`` (plain or async) until it returns something truthy; return that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


async def next_event(sub: Subscription, within: float = 3.0) -> Event:
    event = await sub.get(timeout=within)
    assert event is not None, f"no event within {within}s"
    return event


async def next_message(sub: Subscription, within: float = 3.0) -> Event:
    """The next event that is not a GAP. On the shared Redis another suite's CLIENT KILL can
    cause one; tests that are not about GAP must not fail because of it."""
    while (event := await next_event(sub, within)).message == GAP:
        pass
    return event


async def assert_no_message(sub: Subscription, within: float = 0.3) -> None:
    while (event := await sub.get(timeout=within)) is not None:
        assert event.message == GAP, f"unexpected {event}"


async def publish_until_delivered(bus: Bus, sub: Subscription, channel: str, within: float = 10.0) -> list[Event]:
    """Publish ``after-N`` repeatedly until one arrives; return everything received meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    received: list[Event] = []
    n = 0
    while loop.time() < deadline:
        try:
            await bus.publish(channel, f"after-{n}")
        except RedisConnectionError:
            pass  # the publisher's retries can run out while Redis comes back
        n += 1
        while (event := await sub.get(timeout=0.2)) is not None:
            received.append(event)
        if any(e.channel == channel and e.message.startswith("after-") for e in received):
            return received
    raise AssertionError(f"nothing delivered within {within}s; received {received}")


def assert_gap_before_messages(received: list[Event], channel: str) -> None:
    on_channel = [e.message for e in received if e.channel == channel]
    assert GAP in on_channel, f"no GAP on {channel}: {received}"
    first_after = next(i for i, m in enumerate(on_channel) if m.startswith("after-"))
    assert on_channel.index(GAP) < first_after, f"message before GAP: {received}"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Awaitable[Bus]]]:
    buses: list[Bus] = []

    async def make(queue_size: int = 1000) -> Bus:
        url = "memory://" if request.param == "memory" else await shared_redis_url()
        bus = Bus(url, queue_size=queue_size)
        await bus.connect()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.disconnect()


@pytest.fixture
async def redis_bus() -> AsyncIterator[Bus]:
    bus = Bus(await shared_redis_url())
    await bus.connect()
    yield bus
    await bus.disconnect()


class OwnRedis:
    """A throwaway redis-server this test may stop and start again on the same port."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._workdir)),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        async def answers() -> bool:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=0.5)
            try:
                return bool(await client.ping())
            except (RedisConnectionError, OSError):
                return False
            finally:
                await client.aclose()

        await eventually(answers, within=5)

    async def stop(self) -> None:
        client = aioredis.Redis.from_url(self.url)
        try:
            await client.shutdown(nosave=True)
        finally:
            await client.aclose()
        assert self._proc is not None
        await asyncio.wait_for(self._proc.wait(), 5)

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH")
    server = OwnRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


# -- delivery (memory and Redis) ------------------------------------------------------------


async def test_publish_reaches_only_the_subscribed_channel(make_bus) -> None:
    bus = await make_bus()
    a, b = new_channel(), new_channel()
    async with bus.subscribe([a]) as on_a, bus.subscribe([b]) as on_b:
        await bus.publish(new_channel(), "nobody listens")
        await bus.publish(a, "to-a")
        assert await next_message(on_a) == Event(a, "to-a")
        await assert_no_message(on_b)
        await bus.publish(b, "to-b")
        assert await next_message(on_b) == Event(b, "to-b")
        await assert_no_message(on_a)


async def test_one_subscription_over_several_channels(make_bus) -> None:
    bus = await make_bus()
    a, b, other = new_channel(), new_channel(), new_channel()
    async with bus.subscribe([a, b]) as sub:
        await bus.publish(a, "1")
        await bus.publish(other, "x")
        await bus.publish(b, "2")
        await bus.publish(a, "3")
        got = [await next_message(sub) for _ in range(3)]
        assert got == [Event(a, "1"), Event(b, "2"), Event(a, "3")]
        await assert_no_message(sub)


async def test_every_subscriber_gets_every_message(make_bus) -> None:
    bus = await make_bus()
    channel = new_channel()
    async with AsyncExitStack() as stack:
        subs = [await stack.enter_async_context(bus.subscribe([channel])) for _ in range(5)]
        for i in range(10):
            await bus.publish(channel, f"m{i}")
        for sub in subs:
            assert [(await next_message(sub)).message for _ in range(10)] == [f"m{i}" for i in range(10)]


async def test_concurrent_first_subscribers_all_receive(make_bus) -> None:
    bus = await make_bus()
    channel = new_channel()
    admin = admin_client(REDIS_URL) if bus.backend_name == "redis" else None

    async def numsub() -> int:
        assert admin is not None
        return dict(await admin.pubsub_numsub(channel))[channel.encode()]

    try:
        async with AsyncExitStack() as last, AsyncExitStack() as first_nine:
            subs = await asyncio.gather(
                *(first_nine.enter_async_context(bus.subscribe([channel])) for _ in range(9)),
                last.enter_async_context(bus.subscribe([channel])),
            )
            if admin is not None:
                assert await numsub() == 1  # one Redis subscription, however many subscribers
            await bus.publish(channel, "hello")
            for sub in subs:
                assert await next_message(sub) == Event(channel, "hello")

            await first_nine.aclose()  # the channel stays subscribed while anyone listens
            if admin is not None:
                assert await numsub() == 1
            await bus.publish(channel, "still here")
            assert await next_message(subs[-1]) == Event(channel, "still here")
        if admin is not None:

            async def unsubscribed() -> bool:
                return await numsub() == 0

            await eventually(unsubscribed)  # once, when the last subscriber left
    finally:
        if admin is not None:
            await admin.aclose()


class _SlowSubscribeBackend(MemoryBackend):
    """Subscribing takes I/O time, as with any real backend; counts the backend calls."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.subscribes = self.unsubscribes = 0
        self.release = asyncio.Event()

    async def subscribe(self, channel: str) -> None:
        self.subscribes += 1
        await self.release.wait()
        await super().subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.unsubscribes += 1
        await super().unsubscribe(channel)


async def test_first_subscribe_happens_once_and_before_anyone_enters() -> None:
    backend = _SlowSubscribeBackend("memory://")
    bus = Bus("memory://", backend=backend)
    await bus.connect()
    channel = new_channel()
    entered = 0

    async def listen() -> Event:
        nonlocal entered
        async with bus.subscribe([channel]) as sub:
            entered += 1
            return await next_event(sub)

    try:
        listeners = [asyncio.create_task(listen()) for _ in range(10)]
        await asyncio.sleep(0.05)
        # Entering means "subscribed": nobody may get in while the backend is still subscribing.
        assert entered == 0
        backend.release.set()
        await eventually(lambda: entered == 10)
        await bus.publish(channel, "hello")
        assert await asyncio.gather(*listeners) == [Event(channel, "hello")] * 10
        assert (backend.subscribes, backend.unsubscribes) == (1, 1)
    finally:
        await bus.disconnect()


async def test_slow_consumer_is_dropped_without_slowing_others(make_bus) -> None:
    bus = await make_bus(queue_size=5)
    channel = new_channel()
    async with bus.subscribe([channel]) as slow, bus.subscribe([channel]) as fast:
        received: list[str] = []

        async def read_everything() -> None:
            while len(received) < 20:
                received.append((await next_message(fast)).message)

        reader = asyncio.create_task(read_everything())
        for i in range(20):
            await bus.publish(channel, f"m{i}")
        await asyncio.wait_for(reader, 5)
        assert received == [f"m{i}" for i in range(20)]

        with pytest.raises(SlowConsumer):
            await slow.get(timeout=1)
        with pytest.raises(SlowConsumer):
            async for _ in slow:
                pass
        assert slow._queue.qsize() <= 1  # what it had queued was released

        await bus.publish(channel, "later")
        assert await next_message(fast) == Event(channel, "later")


# -- memory-only behaviour --------------------------------------------------------------------


async def test_subscribe_rejects_bad_arguments() -> None:
    bus = Bus("memory://")
    with pytest.raises(RuntimeError):
        async with bus.subscribe(["a"]):
            pass
    await bus.connect()
    try:
        with pytest.raises(TypeError):
            async with bus.subscribe("stock:1"):  # type: ignore[arg-type]
                pass
        with pytest.raises(ValueError):
            async with bus.subscribe([]):
                pass
    finally:
        await bus.disconnect()
    with pytest.raises(ValueError):
        Bus("postgres://localhost/db")


async def test_memory_health_and_disconnect_ends_subscriptions() -> None:
    bus = Bus("memory://")
    assert (await bus.health())["ok"] is False
    await bus.connect()
    assert await bus.health() == {"ok": True, "backend": "memory", "detail": "listener running"}
    async with bus.subscribe([new_channel()]) as sub:
        waiting = asyncio.create_task(sub.get())
        await asyncio.sleep(0.01)
        await bus.disconnect()
        with pytest.raises(BusClosed):
            await asyncio.wait_for(waiting, 1)
    health = await bus.health()
    assert health["ok"] is False and health["detail"] == "not connected"


class _CrashingBackend(MemoryBackend):
    async def next_published(self) -> Event:
        event = await super().next_published()
        if event.message == "crash":
            raise RuntimeError("listener crash")
        return event


async def test_dead_listener_is_reported_and_fails_subscribers() -> None:
    bus = Bus("memory://", backend=_CrashingBackend("memory://"))
    await bus.connect()
    try:
        channel = new_channel()
        async with bus.subscribe([channel]) as sub:
            await bus.publish(channel, "crash")
            with pytest.raises(BusClosed, match="listener crash"):
                await sub.get(timeout=2)  # fails instead of hanging forever
            health = await bus.health()
            assert health["ok"] is False
            assert "listener crash" in health["detail"]
    finally:
        await bus.disconnect()


# -- Redis: idle, dropped connections, restarts, health ---------------------------------------


async def test_idle_longer_than_the_socket_timeout(tmp_path: Path) -> None:
    # On our own server when we can: a CLIENT KILL from another suite on the shared one during
    # these 6.5 s would look exactly like the failure this test is looking for.
    server = OwnRedis(tmp_path) if shutil.which("redis-server") else None
    if server is not None:
        await server.start()
    bus = Bus(server.url if server is not None else await shared_redis_url())
    await bus.connect()
    try:
        channel = new_channel()
        async with bus.subscribe([channel]) as sub:
            await asyncio.sleep(6.5)  # redis-py 8 defaults socket_timeout to 5 s
            await bus.publish(channel, "after idle")
            assert await next_event(sub) == Event(channel, "after idle")  # not a GAP: never dropped
        backend = bus._broadcast._backend
        assert isinstance(backend, RedisPubSubBackend) and backend.reconnects == 0
    finally:
        await bus.disconnect()
        if server is not None:
            await server.kill()


async def test_killed_connections_resume_with_gap(redis_bus: Bus) -> None:
    a, b = new_channel(), new_channel()
    backend = redis_bus._broadcast._backend
    assert isinstance(backend, RedisPubSubBackend)
    async with redis_bus.subscribe([a, b]) as sub:
        await redis_bus.publish(a, "before")
        assert await next_message(sub) == Event(a, "before")

        killer = admin_client(REDIS_URL)
        try:
            # RESP3 subscribers count as "normal" clients, RESP2 ones as "pubsub": kill both.
            await killer.client_kill_filter(_type="pubsub")
            await killer.client_kill_filter(_type="normal")
        finally:
            await killer.aclose()

        received = await publish_until_delivered(redis_bus, sub, a)
        assert_gap_before_messages(received, a)
        assert Event(b, GAP) in received  # every channel of the subscription is told

        received = await publish_until_delivered(redis_bus, sub, b)  # b is live again too
        assert any(e.channel == b and e.message.startswith("after-") for e in received)
        assert backend.reconnects >= 1
        await eventually(lambda: _ok(redis_bus))


async def _ok(bus: Bus) -> bool:
    return (await bus.health())["ok"]


async def test_real_redis_restart_resumes_with_gap(own_redis: OwnRedis) -> None:
    bus = Bus(own_redis.url)
    await bus.connect()
    try:
        a, b = new_channel(), new_channel()
        async with bus.subscribe([a]) as sub:
            await bus.publish(a, "before")
            assert await next_event(sub) == Event(a, "before")

            await own_redis.stop()
            # Subscribing while Redis is down works; the channel is subscribed when it is back.
            async with bus.subscribe([b]) as late:
                await own_redis.start()
                received = await publish_until_delivered(bus, sub, a)
                assert_gap_before_messages(received, a)
                assert await next_event(late) == Event(b, GAP)
                await bus.publish(b, "on b")
                assert await next_event(late) == Event(b, "on b")
            await eventually(lambda: _ok(bus))
    finally:
        await bus.disconnect()


async def test_health_follows_a_redis_outage(own_redis: OwnRedis) -> None:
    bus = Bus(own_redis.url)
    await bus.connect()
    try:
        health = await bus.health()
        assert health["ok"] is True and health["backend"] == "redis"
        channel = new_channel()
        async with bus.subscribe([channel]) as sub:
            await own_redis.stop()

            async def reported_down() -> dict[str, Any] | None:
                report = await bus.health()
                return report if "disconnected" in report["detail"] else None

            report = await eventually(reported_down, within=5)
            assert report["ok"] is False and report["backend"] == "redis"
            assert "PING failed" in report["detail"]
            with pytest.raises(RedisConnectionError):
                await bus.publish(channel, "nobody can hear this")  # retries, then raises

            await own_redis.start()
            await eventually(lambda: _ok(bus), within=10)
            assert await next_event(sub, within=5) == Event(channel, GAP)
    finally:
        await bus.disconnect()


async def test_unresponsive_redis_is_detected_by_ping(own_redis: OwnRedis) -> None:
    # CLIENT PAUSE keeps the TCP connection open but answers nothing: only the liveness PING
    # can tell, as with a peer that vanished without closing the connection.
    backend = RedisPubSubBackend(own_redis.url, poll_interval=0.1, ping_interval=0.3, pong_timeout=0.5)
    bus = Bus(own_redis.url, backend=backend)
    await bus.connect()
    admin = admin_client(own_redis.url)
    try:
        channel = new_channel()
        async with bus.subscribe([channel]) as sub:
            await asyncio.sleep(1.0)  # several quiet PING rounds: all answered, nothing dropped
            assert backend.connected and backend.reconnects == 0
            await admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")

            async def noticed() -> bool:
                return not backend.connected

            await eventually(noticed, within=3)
            assert "PING" in (backend.last_error or "")
            assert await next_event(sub, within=5) == Event(channel, GAP)
            await bus.publish(channel, "after pause")
            assert await next_event(sub) == Event(channel, "after pause")
    finally:
        await admin.aclose()
        await bus.disconnect()
