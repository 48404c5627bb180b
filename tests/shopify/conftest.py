"""Fixtures for talking to the local Shopify simulator over real HTTP.

- `sim_shop`: a small seeded SimShop (3 locations, 6 products, 5 customers), fast retry/bulk timings.
- `sim`: the shop served by uvicorn on a free port; `.url`, `.domain`, `.token`, `.shop`, `.client`
  (an httpx.AsyncClient already sending Host + token) and `await sim.gql(query, variables)`.
- `webhook_receiver`: a real HTTP endpoint that records raw webhook bodies + headers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopify.simulator import SimShop, serve_app, serve_simulator

API_VERSION = "2026-10"


@pytest.fixture
def sim_shop():
    shop = SimShop(
        bulk_start_delay=0.01,
        webhook_retry_delays=(0.02, 0.04, 0.08),
        webhook_remove_after=4,
        webhook_timeout=2.0,
        reorder_window=0.1,
    )
    shop.seed_demo(products=6, locations=3, customers=5, rng_seed=1)
    yield shop
    shop.close()


@dataclass
class SimHandle:
    shop: SimShop
    url: str
    client: httpx.AsyncClient
    version: str = API_VERSION

    @property
    def domain(self) -> str:
        return self.shop.domain

    @property
    def token(self) -> str:
        return self.shop.access_token

    def graphql_url(self, version: str | None = None) -> str:
        return f"{self.url}/admin/api/{version or self.version}/graphql.json"

    async def post(self, query: str, variables: dict | None = None, *, version: str | None = None) -> httpx.Response:
        return await self.client.post(self.graphql_url(version), json={"query": query, "variables": variables or {}})

    async def gql(self, query: str, variables: dict | None = None, *, version: str | None = None) -> dict:
        """The full JSON body; fails the test on a non-200 status."""
        resp = await self.post(query, variables, version=version)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def data(self, query: str, variables: dict | None = None, *, version: str | None = None) -> dict:
        """`data`, asserting there were no top-level errors."""
        body = await self.gql(query, variables, version=version)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
async def sim(sim_shop):
    async with serve_simulator(sim_shop) as url:
        headers = {"Host": sim_shop.domain, "X-Shopify-Access-Token": sim_shop.access_token}
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            yield SimHandle(sim_shop, url, client)


@dataclass
class ReceivedWebhook:
    headers: dict
    body: bytes
    at: float


@dataclass
class WebhookReceiver:
    """Answers `status` (default 200) after `delay` seconds and records every request it got."""

    url: str = ""
    status: int = 200
    delay: float = 0.0
    received: list[ReceivedWebhook] = field(default_factory=list)

    def topic(self, topic: str) -> list[ReceivedWebhook]:
        return [r for r in self.received if r.headers.get("x-shopify-topic") == topic]

    async def wait_for(self, n: int, within: float = 5.0, topic: str | None = None) -> list[ReceivedWebhook]:
        deadline = time.monotonic() + within
        while True:
            got = self.topic(topic) if topic else self.received
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} webhooks ({topic or 'any topic'}), got {len(got)}")
            await asyncio.sleep(0.01)


@pytest.fixture
async def webhook_receiver():
    receiver = WebhookReceiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        receiver.received.append(ReceivedWebhook({k.lower(): v for k, v in request.headers.items()}, body, time.time()))
        if receiver.delay:
            await asyncio.sleep(receiver.delay)
        return Response(status_code=receiver.status)

    app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
    async with serve_app(app) as url:
        receiver.url = f"{url}/webhooks"
        yield receiver
