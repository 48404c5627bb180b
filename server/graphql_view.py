"""The GraphQL endpoint: HTTP and WebSocket (graphql-transport-ws, legacy graphql-ws).

What a WebSocket lives by (its session re-checked per operation, closed when the session ends,
operation and socket limits) is in server/ws_handlers.py.
"""

from typing import Any

from cross_web import HTTPException
from starlette.responses import HTMLResponse
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from operations.directory import authenticate
from operations.kernel import ANONYMOUS
from schema.context import Context
from server import subscription_executor
from server.graphiql import graphiql_page
from server.ws_handlers import ClosableWebSocketAdapter, LegacyWSHandler, SocketLimits, TransportWSHandler, bearer_token

NOT_A_REQUEST = 'the body must be a JSON object, a GraphQL request such as {"query": "{ me { id } }"}'


class BranchlineGraphQL(GraphQL):
    websocket_adapter_class = ClosableWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, *args: Any, socket_limits: SocketLimits, **kwargs: Any) -> None:
        super().__init__(*args, max_subscriptions_per_connection=socket_limits.max_operations, **kwargs)
        self.socket_limits = socket_limits

    async def get_context(self, request: Any, response: Any) -> Context:
        # On a WebSocket this runs once per socket, so its loaders keep no rows (they would live as
        # long as the connection; schema/loaders.py); an HTTP request gets loaders of its own. A
        # WebSocket signs in with connection_init instead (ws_handlers.SocketSession).
        context = Context.of(request, response)
        token = bearer_token(request.headers.get("authorization")) if request.scope["type"] == "http" else None
        if token:
            context.actor = await authenticate(token) or ANONYMOUS
        return context

    async def on_ws_connect(self, context: Context) -> dict | None:
        """The socket's handler has read connection_init's token into `context.actor` just before."""
        if context.actor is ANONYMOUS:
            raise ConnectionRejectionError({"reason": "sign in first: send authToken in connection_init"})
        return {"server": "branchline", "staff": context.actor.name}

    async def render_graphql_ide(self, request: Any) -> Any:
        """Strawberry's page loads GraphiQL and React from a CDN; ours from this package (server/graphiql.py)."""
        return HTMLResponse(graphiql_page())

    def parse_json(self, data: str | bytes) -> Any:
        """Strawberry reads a parsed body with `.get()`: a JSON scalar (`1`, `"x"`, `null`) answered
        500 (strawberry/http/async_base_view.py `parse_http_body`). Only objects, or lists of them
        (batches, which Strawberry refuses when batching is off), are requests."""
        parsed = super().parse_json(data)
        if isinstance(parsed, dict) or (isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed)):
            return parsed
        raise HTTPException(400, NOT_A_REQUEST)


def graphql_app(schema, *, debug: bool, socket_limits: SocketLimits | None = None) -> BranchlineGraphQL:
    subscription_executor.install(schema)
    return BranchlineGraphQL(
        schema,
        graphql_ide="graphiql" if debug else None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        socket_limits=socket_limits or SocketLimits(),
    )
