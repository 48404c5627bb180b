"""A raw graphql-transport-ws client (websockets) for what gql hides: close codes, a client that stops
reading, frames over the limit. And the server's memory, from /proc."""

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
ME = "query { me { id email } }"


async def open_socket(
    server, *, receive_buffer: int | None = None, max_queue: int = 16, compression: str | None = "deflate"
) -> ClientConnection:
    sock = None
    if receive_buffer is not None:  # set before connecting, so the window the server sees is small from the start
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    return await connect(
        f"ws://127.0.0.1:{server.port}/graphql",
        sock=sock,
        subprotocols=[PROTOCOL],
        max_queue=max_queue,
        compression=compression,
        ping_interval=None,  # the client must not answer for itself while the test is "not reading"
        max_size=None,
        open_timeout=10,
    )


async def signed_in_socket(server, token: str, **options) -> ClientConnection:
    ws = await open_socket(server, **options)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": token}}))
    ack = await receive(ws)
    assert ack["type"] == "connection_ack", ack
    return ws


async def subscribe(ws: ClientConnection, op_id: str, query: str, **variables) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def receive(ws: ClientConnection, within: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), within))


async def closed_with(ws: ClientConnection, deadline: float) -> tuple[int | None, str, list[dict]]:
    """Reads until the server closes the socket (within `deadline` seconds): its close code and reason,
    and what arrived before."""
    seen: list[dict] = []

    async def drain() -> None:
        try:
            async for message in ws:
                seen.append(json.loads(message))
        except ConnectionClosed:
            pass

    await asyncio.wait_for(drain(), deadline)
    return ws.close_code, ws.close_reason or "", seen


async def wait_for(condition: Callable[[], Awaitable[bool] | bool], deadline: float, what: str) -> float:
    """Polls `condition` until it holds; the seconds it took. Fails after `deadline` seconds."""
    started = time.monotonic()
    while True:
        outcome = condition()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > deadline:
            raise AssertionError(f"not within {deadline}s: {what}")
        await asyncio.sleep(0.02)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class InProcessServer:
    """The real app on uvicorn in this process, on a real port: a WebSocket client reaches it as it
    would `branchline serve`, and the test can see the process's bus (`subscribed()`) for readiness."""

    url: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@asynccontextmanager
async def in_process_server(database_url: str, **settings) -> AsyncIterator[InProcessServer]:
    """Serves the app with the bus the test installed (the `bus` fixture): no lifespan, so no second bus.
    `settings` are server/settings.py Settings fields (e.g. ws_send_timeout)."""
    from server.app import create_app
    from server.settings import Settings
    from shopify.simulator import serve_app
    from tests.webhooks.conftest import without_lifespan

    app = create_app(Settings(database_url=database_url, debug=False, **settings))
    async with serve_app(without_lifespan(app)) as url:
        yield InProcessServer(url)


async def until_subscribed(bus, channel: str, subscriptions: int = 1) -> None:
    """Waits until `subscriptions` subscriptions listen to `channel` on `bus` (the server's own)."""
    await wait_for(lambda: bus.subscribed(channel) >= subscriptions, 10, f"{subscriptions} subscribed to {channel}")


async def signed_in_owner() -> str:
    """A token for an owner made in the test's (empty) database: for sockets to an in-process server."""
    from models.staff import Role
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM

    await create_staff(SYSTEM, NewStaff("owner@live.pk", "Live Owner", Role.OWNER, "live-password-1"))
    return (await login("owner@live.pk", "live-password-1")).token


async def next_data(ws: ClientConnection, op_id: str, within: float = 10) -> dict:
    """The next `next` message's data for operation `op_id` (fails on an error for it)."""
    while True:
        message = await receive(ws, within)
        if message.get("id") != op_id:
            continue
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        return message["payload"]["data"]
