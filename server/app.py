"""The Starlette application factory and its lifespan."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from models.config import tortoise_config
from models.database import apply_migrations
from operations.kernel.policy import configure as configure_policy
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from schema import build_schema
from server import websocket_protocol, workers
from server.graphql_view import graphql_app
from server.health import health
from server.limits import BodyLimit
from server.security import apply_security_settings
from server.settings import Settings, get_settings
from server.shopify_webhooks import shopify_webhook
from server.ws_handlers import SocketLimits, ended_sessions
from subscriptions import live, sessions
from subscriptions.bus import Bus

log = logging.getLogger("branchline")


async def _sweep_expired_holds(every: float = 60) -> None:
    """Drafts that held stock past their expiry give it back (in-process; a worker later)."""
    from operations.counter.drafts import release_expired_holds

    while True:
        await asyncio.sleep(every)
        try:
            released = await release_expired_holds()
            if released:
                log.info("released the stock held by %d expired drafts", released)
        except Exception:  # keep sweeping; the next round retries
            log.exception("releasing expired draft holds failed")


# The demo's Shopify state between runs, beside the demo's SQLite file (both in the working directory).
DEMO_SHOP_FILE = "branchline-demo-shop.json"


@asynccontextmanager
async def _demo_shop(settings: Settings) -> AsyncIterator[None]:
    """The demo's Shopify: the simulator on a free port of this process, connected and imported."""
    from server.demo import seed_demo
    from server.demo_shop import open_demo_shop, save_demo_shop
    from shopify.simulator import serve_simulator

    saved = Path(DEMO_SHOP_FILE)
    shop = open_demo_shop(saved)
    async with serve_simulator(shop) as url:
        shopify_connection.configure(public_url=settings.public_url, base_url=url)
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
    # uvicorn builds the WebSocket protocol (server/cli.py names it); its limits are set here.
    websocket_protocol.configure(settings.ws_outbound_buffer_bytes, settings.ws_send_timeout)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        apply_security_settings(settings)
        configure_policy(
            retailer_name=settings.retailer_name,
            prices_include_tax=settings.prices_include_tax,
            discount_approval_percent=settings.discount_approval_percent,
            refund_approval_amount=settings.refund_approval_amount,
            adjustment_approval_units=settings.adjustment_approval_units,
        )
        shopify_connection.configure(public_url=settings.public_url, base_url=settings.shopify_base_url)
        workers.configure(settings)  # COD gateways and the like are read by GraphQL operations too
        await apply_migrations(settings.database_url)
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url), generate_schemas=False):
            if interrupted := await shopify_import.fail_interrupted_jobs():
                log.warning("%d import(s) were cut short by a stop; marked failed", interrupted)
            bus = Bus(settings.broadcast_url, queue_size=settings.subscriber_queue_size)
            await bus.connect()
            live.install(bus)
            revocations = asyncio.create_task(sessions.watch_revocations(bus, ended_sessions))
            sweeper = asyncio.create_task(_sweep_expired_holds())
            stack = AsyncExitStack()
            try:
                if demo:
                    await stack.enter_async_context(_demo_shop(settings))
                if settings.run_workers:  # entered last, so stopped first: before the demo's Shopify goes
                    await stack.enter_async_context(workers.running(settings))
                yield
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
            Route(shopify_connection.WEBHOOK_PATH, shopify_webhook, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                BodyLimit,
                max_bytes=settings.max_request_bytes,
                per_path={shopify_connection.WEBHOOK_PATH: settings.max_webhook_bytes},
            )
        ],
        lifespan=lifespan,
    )
