"""Helpers shared by the ShopifyClient tests (this module has no tests of its own).

``counted_sim`` serves the simulator behind a tiny ASGI wrapper that records every HTTP request, because
the simulator's own ``shop.calls`` only lists requests that reached GraphQL execution (not 401/404 answers
or injected 5xx/429 failures), and the retry tests must count what really went over the wire.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from shopify.client import ShopifyClient
from shopify.simulator import SimShop, create_simulator_app, serve_app


class Waits:
    """Injected ``sleep``: records every wait and returns at once, so retry tests take milliseconds."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class RealWaits(Waits):
    """Records and really sleeps: the simulator's bucket refills in real time."""

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(seconds)


class ShortRealWaits(Waits):
    """Records, and sleeps for real but briefly: polling needs the simulator's jobs to make progress."""

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.02))


def client_for(sim, **kwargs) -> ShopifyClient:
    """A client for the simulator handle ``sim`` (``.domain``, ``.token``, ``.url``); override anything."""
    kwargs.setdefault("sleep", Waits())
    kwargs.setdefault("rng", lambda: 0.5)
    token = kwargs.pop("token", sim.token)
    domain = kwargs.pop("domain", sim.domain)
    return ShopifyClient(domain, token, base_url=sim.url, **kwargs)


@dataclass
class CountedSim:
    shop: SimShop
    url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) as the server got them

    @property
    def domain(self) -> str:
        return self.shop.domain

    @property
    def token(self) -> str:
        return self.shop.access_token

    def graphql_requests(self) -> int:
        return sum(1 for _, path in self.requests if path.endswith("/graphql.json"))


@pytest.fixture
async def counted_sim(sim_shop):
    handle = CountedSim(sim_shop)
    app = create_simulator_app(sim_shop)

    async def counting(scope, receive, send):
        if scope["type"] == "http":
            handle.requests.append((scope["method"], scope["path"]))
        await app(scope, receive, send)

    async with serve_app(counting) as url:
        handle.url = url
        sim_shop.public_url = url
        yield handle
