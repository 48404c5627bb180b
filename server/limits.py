"""The request body limit, applied before anything reads a body.

uvicorn and Starlette read whatever a client sends: without this, a 200 MB anonymous POST to
/graphql was held in memory whole (twice, while joined) before GraphQL looked at it. This is a pure
ASGI middleware around the whole app (Starlette's BaseHTTPMiddleware would wrap every response and
does not see WebSockets):

- a declared Content-Length over the limit is answered 413 before a byte of the body is read;
- a body without one (chunked) is counted as the app reads it, and refused with 413 as soon as it
  passes the limit; the app never sees more than the limit;
- the 413 says `Connection: close`, so uvicorn stops reading the rest of the body.

Paths may have their own limit: Shopify's webhooks get `max_webhook_bytes` (docs/webhooks.md).
WebSocket messages are limited by uvicorn itself (`ws_max_size`, server/cli.py): 1009 when over.
"""

from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if started:  # the app answered before reading the whole body: nothing to add
                return
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # uvicorn refuses malformed ones itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = orjson.dumps({"errors": [{"message": f"request body too large: at most {limit} bytes"}]})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
