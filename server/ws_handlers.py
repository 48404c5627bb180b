"""The rules one GraphQL WebSocket lives by, over graphql-transport-ws and legacy graphql-ws alike.

Strawberry 0.341 checks a socket's token once, on connection_init (`on_ws_connect`), then runs
whatever the socket sends (strawberry/subscriptions/protocols/graphql_transport_ws/handlers.py
`handle_subscribe`, graphql_ws/handlers.py `handle_start`). These handlers add:

- the sign-in is registered in subscriptions/sessions.py, so a logout, a deactivation or the
  session's expiry closes the socket with 4403, whichever process it happens on;
- every operation re-checks the session first (one indexed read): an ended session's socket is
  closed with 4403 instead of answering, whether or not the announcement reached this process;
- at most `ws_max_subscriptions` operations at once per socket (a clear error on the one over),
  and at most `ws_max_sockets_per_session` sockets per session in this process (closed with 4429);
- a socket that is already closed (by us, as a slow consumer, or by the peer) ends the operations
  sending on it quietly instead of logging each as a crash.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as StarletteClosed
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from models.staff import StaffSession
from operations.directory import authenticate
from operations.kernel import ANONYMOUS
from schema.context import Context
from subscriptions.sessions import (
    ENDED,
    SESSION_ENDED_CLOSE_CODE,
    TOO_MANY_SOCKETS_CLOSE_CODE,
    OpenSocket,
    TooManySockets,
    registry,
)


@dataclass(frozen=True)
class SocketLimits:
    max_operations: int = 20
    max_sockets_per_session: int = 10


def bearer_token(header: object) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (HTTP, or a connection_init payload)."""
    if not isinstance(header, str):
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_from_params(params: object) -> str | None:
    """Browsers cannot set headers on a WebSocket: the token comes in connection_init's payload."""
    if not isinstance(params, dict):
        return None
    token = params.get("authToken") or bearer_token(params.get("Authorization") or params.get("authorization"))
    return token if isinstance(token, str) and token else None


class ClosableWebSocketAdapter(ASGIWebSocketAdapter):
    """Starlette raises its own WebSocketDisconnected (a RuntimeError) on a send or close after the
    socket closed; Strawberry only expects WebSocketDisconnect. Both mean the same here."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await super().send_json(message)
        except StarletteClosed as closed:
            raise WebSocketDisconnected from closed

    async def close(self, code: int, reason: str) -> None:
        try:
            await self.ws.close(code=code, reason=reason)
        except (StarletteClosed, WebSocketDisconnect):
            pass  # closed already


class SocketSession:
    """The sign-in behind one socket: admitted on connection_init, re-checked before each operation."""

    def __init__(self, close: Callable[[int, str], Awaitable[None]], limits: SocketLimits) -> None:
        self._close = close
        self.limits = limits
        self.attempted = False
        self._token: str | None = None
        self._socket: OpenSocket | None = None

    async def sign_in(self, context: Context, params: object) -> tuple[int, str] | None:
        """Sets `context.actor` from the token (anonymous if none: `on_ws_connect` refuses it then);
        returns a refusal (close code, reason) when the session has all the sockets it may have.
        Once per socket: a second connection_init is the protocol's to refuse or ignore."""
        self.attempted = True
        token = token_from_params(params)
        actor = await authenticate(token) if token else None
        context.actor = actor or ANONYMOUS
        if actor is None or actor.session_id is None or actor.staff_id is None:
            return None
        expiry = await StaffSession.filter(id=actor.session_id).values_list("expires_at", flat=True)
        try:
            self._socket = registry.open(
                actor.session_id,
                actor.staff_id,
                expiry[0] if expiry else datetime.now(UTC),
                self._close,
                limit=self.limits.max_sockets_per_session,
            )
        except TooManySockets as refused:
            context.actor = ANONYMOUS
            return TOO_MANY_SOCKETS_CLOSE_CODE, str(refused)
        self._token = token
        return None

    async def still_signed_in(self, context: Context) -> bool:
        """Re-reads the session; closes the socket (4403) if it ended. Refreshes the caller's rights."""
        if self._socket is None:
            return True  # not signed in: the protocol refuses operations before connection_ack itself
        actor = await authenticate(self._token)
        if actor is None or actor.session_id != self._socket.session_id:
            await self._close(SESSION_ENDED_CLOSE_CODE, ENDED)
            return False
        context.actor = actor
        return True

    def end(self) -> None:
        registry.forget(self._socket)
        self._socket = None


def _too_many(limit: int) -> dict[str, Any]:
    return {
        "message": f"at most {limit} operations at once on one connection: complete one first",
        "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
    }


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits: SocketLimits = self.view.socket_limits
        self.session = SocketSession(self.websocket.close, self.limits)

    async def handle_connection_init(self, message: Any) -> None:
        if not self.connection_init_received and not self.connection_timed_out:
            refusal = await self.session.sign_in(self.context, message.get("payload"))
            if refusal is not None:
                await self.websocket.close(*refusal)
                return
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations:
            if not await self.session.still_signed_in(self.context):
                return
            if len(self.operations) >= self.limits.max_operations:
                error = _too_many(self.limits.max_operations)
                await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
                return
        await super().handle_subscribe(message)

    async def handle_task_exception(self, error: Exception) -> None:
        if not isinstance(error, WebSocketDisconnected):
            await super().handle_task_exception(error)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            self.session.end()


class LegacyWSHandler(BaseGraphQLWSHandler):
    """Its operation limit is Strawberry's own (`max_subscriptions_per_connection`, same setting)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = SocketSession(self.websocket.close, self.view.socket_limits)

    async def handle_connection_init(self, message: Any) -> None:
        if not self.session.attempted:
            refusal = await self.session.sign_in(self.context, message.get("payload"))
            if refusal is not None:
                await self.websocket.close(*refusal)
                return
        await super().handle_connection_init(message)

    async def handle_start(self, message: Any) -> None:
        if self.connection_acknowledged and not await self.session.still_signed_in(self.context):
            return
        await super().handle_start(message)

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self.session.end()


async def ended_sessions(session_ids: set[int]) -> set[int]:
    """Those of these sessions that are revoked, expired, gone, or whose staff member is inactive."""
    rows = await StaffSession.filter(id__in=list(session_ids)).values_list(
        "id", "revoked_at", "expires_at", "staff__active"
    )
    now = datetime.now(UTC)
    valid = {pk for pk, revoked_at, expires_at, active in rows if revoked_at is None and expires_at > now and active}
    return session_ids - valid


__all__ = [
    "ClosableWebSocketAdapter",
    "LegacyWSHandler",
    "SocketLimits",
    "TransportWSHandler",
    "bearer_token",
    "ended_sessions",
    "token_from_params",
]
