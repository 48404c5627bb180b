"""The GraphQL endpoint: HTTP and WebSocket (graphql-transport-ws, legacy graphql-ws)."""

from typing import Any

from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from schema.context import Context


class BranchlineGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any) -> Context:
        # On a WebSocket this runs once per socket; loaders built here would cache rows for the
        # connection's life, so subscriptions read through operations, not these loaders.
        return Context(request=request, response=response)

    async def on_ws_connect(self, context: Context) -> dict | None:
        # The token travels in connection_init; staff sign-in (counter billing issue) checks it here.
        return {"server": "branchline"}


def graphql_app(schema, *, debug: bool) -> BranchlineGraphQL:
    return BranchlineGraphQL(
        schema,
        graphql_ide="graphiql" if debug else None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )
