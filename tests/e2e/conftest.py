"""Real servers for end-to-end tests: `branchline serve` in a subprocess, a real uvicorn, spoken to
over HTTP and WebSocket with gql as a POS client would."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, broadcast_url: str, port: int | None = None, **settings: str):
        self.port = port or free_port()  # a restarted server takes its predecessor's port (webhooks point there)
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "BRANCHLINE_DATABASE_URL": database_url,
            "BRANCHLINE_BROADCAST_URL": broadcast_url,
            # The session's servers share the test database with every other test: a push worker in
            # them would pick up other tests' outbox rows (and Shopify connections). Tests that want
            # the worker pass run_workers="true".
            "BRANCHLINE_RUN_WORKERS": "false",
            # `serve` without --demo refuses the built-in development secret.
            "BRANCHLINE_SECRET_KEY": TEST_SECRET_KEY,
            **{f"BRANCHLINE_{k.upper()}": v for k, v in settings.items()},
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        self._wait_healthy()

    # A deadline, not a speed check: a server migrating a fresh PostgreSQL database while both CI
    # passes share the machine took more than 30 s.
    def _wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: the process dies where it stands, mid-request and mid-transaction, no cleanup."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def http_client(self, token: str | None) -> Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = HTTPXAsyncTransport(url=f"{self.url}/graphql", timeout=30, headers=headers)
        return Client(transport=transport, execute_timeout=30)

    def ws_client(self, token: str | None) -> Client:
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{self.port}/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # not the legacy protocol
            init_payload={"authToken": token} if token else {},
        )
        return Client(transport=transport, execute_timeout=30)


@contextmanager
def running_server(database_url: str, broadcast_url: str, **settings: str):
    server = Server(database_url, broadcast_url, **settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(database_url, broadcast_url):
    with running_server(database_url, broadcast_url) as s:
        yield s


@pytest.fixture
async def owner_token(db) -> str:
    """An owner signed in (created in the shared database the server processes use)."""
    from models.staff import Role
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM

    await create_staff(SYSTEM, NewStaff("owner@e2e.pk", "E2E Owner", Role.OWNER, "e2e-password-1"))
    return (await login("owner@e2e.pk", "e2e-password-1")).token


def redis_url_for_two_processes(broadcast_url: str) -> str | None:
    """Two processes need a shared bus: the test Redis, or a local one if it answers."""
    if broadcast_url.startswith("redis"):
        return broadcast_url
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/0"
    except OSError:
        return None
