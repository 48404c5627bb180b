"""Finding: no request size limit. A 200 MB anonymous body was read whole (and a WebSocket message
could be 16 MB, uvicorn's default).

Now bodies over `max_request_bytes` (1 MB) are refused with 413: at once when Content-Length says
so, before a byte of the body is read; while streaming when a chunked body passes the limit, so the
server stops reading it. Shopify's webhooks have their own, larger limit. WebSocket messages over
the same limit close the socket with 1009. Spoken over raw sockets: clients would refuse to send
such requests, or hide what the server did.
"""

import asyncio
import json
import socket

from tests.e2e.conftest import running_server
from tests.security.live_sockets import closed_with, receive, rss_bytes, signed_in_socket

MiB = 1024 * 1024
LIMIT = 1024 * 1024  # the default max_request_bytes
HUGE = 200 * MiB
MESSAGE_TOO_BIG = 1009


class RawHttp:
    """One HTTP/1.1 connection on a plain socket. Not asyncio's streams: the server closes after a
    413 with the rest of the body unread, so its kernel answers what we still send with a reset,
    and asyncio's StreamReader then raises instead of handing over the response it already holds
    (a socket still returns the data that arrived before the reset)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sent = 0

    @classmethod
    async def to(cls, server) -> "RawHttp":
        sock = socket.socket()
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        return cls(sock)

    async def send(self, data: bytes) -> bool:
        """False once the server stopped taking data (it closed the connection)."""
        try:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        self.sent += len(data)
        return True

    async def response(self, within: float) -> tuple[int, dict[str, str], bytes]:
        async def read() -> tuple[int, dict[str, str], bytes]:
            data = b""
            while True:
                head, found, body = data.partition(b"\r\n\r\n")
                if found:
                    status_line, *lines = head.decode().split("\r\n")
                    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
                    if len(body) >= int(headers.get("content-length", "0")):
                        return int(status_line.split()[1]), headers, body
                try:
                    more = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
                except ConnectionResetError:
                    more = b""
                if not more:
                    raise AssertionError(f"the connection ended before a whole response: {data[:200]!r}")
                data += more

        return await asyncio.wait_for(read(), within)

    def close(self) -> None:
        self.sock.close()


def _head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server):
    http = await RawHttp.to(server)
    await http.send(_head("/graphql", Content_Length=str(HUGE)))  # and not one byte of the body
    status, headers, body = await http.response(within=10)
    http.close()
    assert (status, headers.get("connection")) == (413, "close"), (status, headers)
    assert f"at most {LIMIT} bytes" in json.loads(body)["errors"][0]["message"]


async def test_a_chunked_body_is_cut_off_at_the_limit(server):
    before = rss_bytes(server.process.pid)
    http = await RawHttp.to(server)
    await http.send(_head("/graphql", Transfer_Encoding="chunked"))
    chunk = b"x" * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    async def send_all() -> None:
        while http.sent < HUGE:
            if not await http.send(framed):  # waits while the server is not reading
                return
        await http.send(b"0\r\n\r\n")

    sender = asyncio.create_task(send_all())
    try:
        status, _, body = await http.response(within=60)
    finally:
        sender.cancel()
        http.close()
    sent = http.sent
    growth = rss_bytes(server.process.pid) - before
    print(f"answered {status} after {sent / MiB:.1f} MiB sent (kernel buffers included); RSS +{growth / MiB:.1f} MiB")
    assert status == 413, (status, body[:200])
    assert sent < HUGE / 2 and growth < 32 * MiB, (sent, growth)


async def test_a_websocket_message_over_the_limit_closes_the_socket_with_1009(server, owner_token):
    ws = await signed_in_socket(server, owner_token)
    await ws.send(json.dumps({"type": "ping", "payload": {"padding": "x" * (LIMIT + 1)}}))
    close_code, _, seen = await closed_with(ws, deadline=10)
    assert (close_code, seen) == (MESSAGE_TOO_BIG, []), (close_code, seen)


async def test_a_websocket_message_under_the_limit_is_answered(server, owner_token):
    """Not a finding: the limit must leave room for real messages."""
    ws = await signed_in_socket(server, owner_token)
    await ws.send(json.dumps({"type": "ping", "payload": {"padding": "x" * (LIMIT - 1000)}}))
    assert (await receive(ws))["type"] == "pong"
    await ws.close()


async def test_shopify_webhooks_have_their_own_larger_limit(server):
    """Not a finding (the webhook endpoint had its own 5 MB check): the 1 MB limit must not refuse a
    large order's webhook, and more than 5 MB is still refused before it is read."""
    http = await RawHttp.to(server)
    body = b'{"id": 1, "note": "' + b"x" * (2 * MiB) + b'"}'
    await http.send(_head("/webhooks/shopify", Content_Length=str(len(body))) + body)
    status, _, _ = await http.response(within=30)
    http.close()
    assert status == 401  # read whole and checked: not signed by Shopify
    http = await RawHttp.to(server)
    await http.send(_head("/webhooks/shopify", Content_Length=str(6 * MiB)))
    status, _, _ = await http.response(within=10)
    http.close()
    assert status == 413


async def test_the_limit_is_a_setting_for_bodies_and_websocket_messages(database_url, broadcast_url, owner_token):
    with running_server(database_url, broadcast_url, max_request_bytes="4096") as small:
        query = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 5000}}).encode()
        http = await RawHttp.to(small)
        await http.send(_head("/graphql", Content_Length=str(len(query))) + query)
        status, _, _ = await http.response(within=10)
        http.close()
        ws = await signed_in_socket(small, owner_token)
        await ws.send(json.dumps({"type": "ping", "payload": {"padding": "x" * 5000}}))
        close_code, _, _ = await closed_with(ws, deadline=10)
    assert (status, close_code) == (413, MESSAGE_TOO_BIG)
