"""The Starlette application factory and its lifespan.

Settings come in here once: `create_app` turns them into the domain's settings, which its lifespan
installs for operations (operations/kernel/settings.py) while the app runs, and into the edge's limits,
which it hands to what uses them (the schema, the GraphQL view, the body limit, and, through the
lifespan's state, the WebSocket protocol uvicorn builds).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from models.config import tortoise_config
from models.database import apply_migrations
from operations.kernel import current_settings, settings_installed
from operations.sync import WEBHOOK_PATH, fail_interrupted_jobs
from schema import build_schema
from server import workers
from server.graphql_view import graphql_app
from server.health import health
from server.limits import BodyLimit
from server.settings import Settings, domain_settings, get_settings
from server.shopify_webhooks import shopify_webhook
from server.websocket_protocol import LIMITS_STATE_KEY, OutboundLimits
from server.ws_handlers import SocketLimits, ended_sessions
from subscriptions import live, sessions
from subscriptions.bus import Bus

log = logging.getLogger("branchline")


async def _sweep_expired_holds(every: float = 60) -> None:
    """Drafts that held stock past their expiry give it back, and loyalty points past theirs expire
    (in-process; a worker later)."""
    from operations.counter import release_expired_holds
    from operations.directory import expire_points

    while True:
        await asyncio.sleep(every)
        try:
            released = await release_expired_holds()
            if released:
                log.info("released the stock held by %d expired drafts", released)
        except Exception:  # keep sweeping; the next round retries
            log.exception("releasing expired draft holds failed")
        try:
            expired = await expire_points()
            if expired:
                log.info("expired the unused loyalty points of %d earns", expired)
        except Exception:
            log.exception("expiring loyalty points failed")


# The demo's Shopify state between runs, beside the demo's SQLite file (both in the working directory).
DEMO_SHOP_FILE = "branchline-demo-shop.json"


@asynccontextmanager
async def _demo_shop() -> AsyncIterator[None]:
    """The demo's Shopify: the simulator on a free port of this process, connected and imported
    (Branchline's Shopify calls go there while the demo runs: settings changed, a new object installed)."""
    from server.demo import seed_demo
    from server.demo_shop import open_demo_shop, save_demo_shop
    from shopify.simulator import serve_simulator

    saved = Path(DEMO_SHOP_FILE)
    shop = open_demo_shop(saved)
    async with serve_simulator(shop) as url:
        reach = current_settings().changed(shopify={"base_url": url})
        with settings_installed(reach):
            log.info("demo Shopify (simulator) for %s at %s", shop.domain, url)
            await seed_demo(url, shop)
            try:
                yield
            finally:
                save_demo_shop(shop, saved)
                shop.close()


def create_app(settings: Settings | None = None, *, demo: bool = False) -> Starlette:
    settings = settings or get_settings()
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_aliases,
        max_cost=settings.max_query_cost,
        max_text_length=settings.max_text_length,
        introspection=settings.debug or settings.introspection,
    )
    socket_limits = SocketLimits(settings.ws_max_subscriptions, settings.ws_max_sockets_per_session)
    gql = graphql_app(schema, debug=settings.debug, socket_limits=socket_limits)
    # uvicorn builds the WebSocket protocol (server/cli.py names it) and hands it the lifespan's state.
    outbound = OutboundLimits(settings.ws_outbound_buffer_bytes, settings.ws_send_timeout)
    operations_settings = domain_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Installed for as long as the app runs (and what was installed before, if anything, after).
        with settings_installed(operations_settings):
            await apply_migrations(settings.database_url)
            async with RegisterTortoise(app, config=tortoise_config(settings.database_url), generate_schemas=False):
                if interrupted := await fail_interrupted_jobs():
                    log.warning("%d import(s) were cut short by a stop; marked failed", interrupted)
                bus = Bus(settings.broadcast_url, queue_size=settings.subscriber_queue_size)
                await bus.connect()
                live.install(bus)
                revocations = asyncio.create_task(sessions.watch_revocations(bus, ended_sessions))
                sweeper = asyncio.create_task(_sweep_expired_holds())
                stack = AsyncExitStack()
                try:
                    if demo:
                        await stack.enter_async_context(_demo_shop())
                    if settings.run_workers:  # entered last, so stopped first: before the demo's Shopify goes
                        await stack.enter_async_context(workers.running(settings))
                    yield {LIMITS_STATE_KEY: outbound}
                finally:
                    await stack.aclose()
                    sweeper.cancel()
                    revocations.cancel()
                    live.install(None)
                    await bus.disconnect()

    return Starlette(
        debug=False,  # never send tracebacks to clients, whatever the setting
        routes=[
            Route("/graphql", gql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", gql),
            Route("/health", health),
            Route(WEBHOOK_PATH, shopify_webhook, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                BodyLimit,
                max_bytes=settings.max_request_bytes,
                per_path={WEBHOOK_PATH: settings.max_webhook_bytes},
            )
        ],
        lifespan=lifespan,
    )
