"""In-process GraphQL over HTTP (httpx ASGITransport). It skips the app's lifespan, so the
`db` and `bus` fixtures provide the ORM and the bus."""

import httpx
import pytest

from server.app import create_app
from server.settings import Settings


class Api:
    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def raw(self, query: str, variables: dict | None = None) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code in (200, 400), response.text
        return response.json()

    async def __call__(self, query: str, variables: dict | None = None) -> dict:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture
async def api(bus, database_url):
    app = create_app(Settings(database_url=database_url, debug=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield Api(client)
