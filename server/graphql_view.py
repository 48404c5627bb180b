"""The GraphQL endpoint: HTTP and WebSocket (graphql-transport-ws, legacy graphql-ws)."""

from typing import Any

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from operations.access import ANONYMOUS
from operations.staff import authenticate
from schema.context import Context


class BranchlineGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any) -> Context:
        # On a WebSocket this runs once per socket; loaders built here would cache rows for the
        # connection's life, so subscriptions read through operations, not these loaders.
        context = Context(request=request, response=response)
        token = _bearer(request.headers.get("authorization"))
        if token:
            context.actor = await authenticate(token) or ANONYMOUS
        return context

    async def on_ws_connect(self, context: Context) -> dict | None:
        """Browsers cannot set headers on a WebSocket: the token comes in connection_init."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        token = params.get("authToken") or _bearer(params.get("Authorization") or params.get("authorization"))
        actor = await authenticate(token) if isinstance(token, str) else None
        if actor is None:
            raise ConnectionRejectionError({"reason": "sign in first: send authToken in connection_init"})
        context.actor = actor
        return {"server": "branchline", "staff": actor.name}


def _bearer(header: str | None) -> str | None:
    if not header or not isinstance(header, str):
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def graphql_app(schema, *, debug: bool) -> BranchlineGraphQL:
    return BranchlineGraphQL(
        schema,
        graphql_ide="graphiql" if debug else None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )
