"""A real server and the installed `branchline-client` (pip install ./client_sdk), used as a partner would.

The servers come from tests/e2e/conftest.py (`branchline serve` in a subprocess)."""

import asyncio
import itertools
import shutil
import socket
import subprocess
import time

import pytest

from tests.e2e.conftest import Server, free_port, owner_token, server  # noqa: F401  (fixtures)
from tests.e2e.shop import build_shop

branchline_client = pytest.importorskip(
    "branchline_client", reason="the partner client is not installed: pip install -e ./client_sdk"
)

OWNER_EMAIL, OWNER_PASSWORD = "owner@e2e.pk", "e2e-password-1"  # made by tests/e2e/conftest.py `owner_token`
_codes = itertools.count(1)


def code() -> str:
    return f"P{next(_codes)}"


@pytest.fixture
async def partner(server, owner_token):  # noqa: F811
    """A signed-in client on the session's server (the owner, made in the test's database)."""
    async with branchline_client.BranchlineClient(f"{server.url}/graphql") as client:
        await client.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        yield client


async def shop(live_server: Server, token: str, skus: list[str], stock: int) -> tuple[str, dict[str, str]]:
    """A branch with a product of these SKUs, `stock` each (built with plain gql, as the other e2e tests do)."""
    async with live_server.http_client(token) as session:
        return await build_shop(session, code(), skus, stock)


class TcpProxy:
    """Between the client and the server: `cut()` drops every open connection at once, as a flaky
    network or a restarted load balancer would (new connections are accepted again right after)."""

    def __init__(self, target_port: int, lose_answers: int = 0):
        self.target_port = target_port
        self.lose_answers = lose_answers  # the first N connections: the request gets through, the answer is lost
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self._arrived = asyncio.Condition()

    async def __aenter__(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()

    async def opened(self, count: int) -> None:
        """Until `count` connections have come through (a client reconnected), within a minute."""
        async with asyncio.timeout(60), self._arrived:
            await self._arrived.wait_for(lambda: self.connections >= count)

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        async with self._arrived:  # counted once through: a cut() from now on drops it
            self.connections += 1
            self._arrived.notify_all()

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        if self.lose_answers > 0:
            self.lose_answers -= 1

            async def lose(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                await src.read(1)  # the server has done the work and answers: the line breaks here
                dst.transport.abort()

            await asyncio.gather(copy(reader, up_writer), lose(up_reader, writer))
        else:
            await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._writers -= {writer, up_writer}


class OwnRedis:
    """A redis-server of the test's own on a free port, which the test may restart (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis(broadcast_url):
    if not broadcast_url.startswith("redis"):
        pytest.skip("the Redis backend only (BRANCHLINE_TEST_REDIS_URL)")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = OwnRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
