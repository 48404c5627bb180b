"""Branchline's webhook endpoint on a real uvicorn, connected to the simulated Shopify.

`branchline` serves the real Starlette app (create_app) on a free port in this event loop; its
lifespan is skipped because the `db` and `bus` fixtures already provide the ORM and the bus (the
same way tests/api serves it through ASGITransport), so requests and the test share one database.
"""

import asyncio
import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from models.inbox import WebhookInbox
from operations.kernel import settings
from operations.kernel.access import SYSTEM
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from operations.sync import push as shopify_push
from server.app import create_app
from server.settings import Settings
from shopify.simulator import serve_app
from shopify.webhooks import webhook_hmac
from tests.conftest import settings_changed
from tests.shopify.conftest import sim, sim_shop  # noqa: F401  (fixtures)

_n = itertools.count(1)


def without_lifespan(app):
    async def wrapped(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)

    return wrapped


@dataclass
class Branchline:
    url: str
    client: httpx.AsyncClient
    secret: str
    domain: str

    async def deliver(
        self,
        topic: str,
        payload: dict | bytes,
        *,
        webhook_id: str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        domain: str | None = None,
        tamper: bytes | None = None,
    ) -> httpx.Response:
        """POST a webhook the way Shopify does: exact bytes, signed with the client secret."""
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature or webhook_hmac(body, secret or self.secret),
            "X-Shopify-Shop-Domain": domain or self.domain,
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": "2026-11-26T10:00:00.000000Z",
        }
        return await self.client.post(f"{self.url}/webhooks/shopify", content=tamper or body, headers=headers)


@pytest.fixture
def fast_inbox():
    with settings_changed(inbox={"lease_seconds": 30.0, "max_attempts": 3, "backoff_base": 0.01, "backoff_cap": 0.05}):
        yield settings.current().inbox


@pytest.fixture
async def branchline(db, bus, sim, fast_inbox):  # noqa: F811
    """The real app on a real port, connected to the simulator, whose webhooks come to that port."""
    app = create_app(Settings(database_url=db, debug=False))
    async with serve_app(without_lifespan(app)) as url:
        with settings_changed(shopify={"public_url": url, "base_url": sim.url, "timeout": 2.0}):
            await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
            async with httpx.AsyncClient(timeout=10) as client:
                try:
                    yield Branchline(url, client, sim.shop.client_secret, sim.domain)
                finally:
                    await shopify_push.close_clients()


@pytest.fixture
async def imported(branchline):
    """Connected and imported: locations, products and variants are in Branchline."""
    job, _ = await shopify_import.start_import(SYSTEM)
    job = await shopify_import.run_job(job.id)
    assert job.status.value == "completed", job.error
    return branchline


def order_payload(order_id: int, updated_at: str, **extra) -> dict:
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id}",
        "updated_at": updated_at,
        "line_items": [],
        **extra,
    }


def next_id() -> int:
    return 9_000_000 + next(_n)


async def rows(**filters) -> list[WebhookInbox]:
    return await WebhookInbox.filter(**filters).order_by("id")


async def lease_ran_out(webhook_id: str) -> None:
    """Waits until the row's lease (next_attempt_at while PROCESSING) is over, by the database's rows."""
    while True:
        [row] = await rows(webhook_id=webhook_id)
        if row.next_attempt_at is not None and row.next_attempt_at <= datetime.now(UTC):
            return
        await asyncio.sleep(0.02)


class Recorder:
    """A test-only handler: records each call, and raises what it is told to for given orders."""

    def __init__(self):
        self.calls: list[tuple[str, dict, str | None]] = []
        self.raise_for: dict[str, list[BaseException]] = {}

    async def __call__(self, topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
        self.calls.append((topic, payload, webhook_id))
        pending = self.raise_for.get(payload.get("admin_graphql_api_id"))
        if pending:
            raise pending.pop(0) if len(pending) > 1 else pending[0]

    def ids(self) -> list[str]:
        return [p.get("admin_graphql_api_id") for _, p, _ in self.calls]
