"""The Starlette application factory and its lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from models.config import tortoise_config
from models.database import apply_migrations
from operations.keys import use_secret
from schema import build_schema
from server.graphql_view import graphql_app
from server.health import health
from server.settings import Settings, get_settings
from subscriptions import live
from subscriptions.bus import Bus

log = logging.getLogger("branchline")


def create_app(settings: Settings | None = None, *, demo: bool = False) -> Starlette:
    settings = settings or get_settings()
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_aliases,
        introspection=settings.debug or settings.introspection,
    )
    gql = graphql_app(schema, debug=settings.debug)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        use_secret(settings.secret_key)
        await apply_migrations(settings.database_url)
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url), generate_schemas=False):
            bus = Bus(settings.broadcast_url, queue_size=settings.subscriber_queue_size)
            await bus.connect()
            live.install(bus)
            try:
                if demo:
                    from server.demo import seed_demo

                    await seed_demo()
                yield
            finally:
                live.install(None)
                await bus.disconnect()

    return Starlette(
        debug=False,  # never send tracebacks to clients, whatever the setting
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )
