"""In-process GraphQL over HTTP (httpx ASGITransport). It skips the app's lifespan, so the
`db` and `bus` fixtures provide the ORM and the bus."""

import itertools

import httpx
import pytest

from models.staff import Role
from operations.directory.staff import NewStaff, create_staff, login
from operations.kernel.access import SYSTEM
from server.app import create_app
from server.settings import Settings

PASSWORD = "correct horse battery"
_n = itertools.count(1)


class Api:
    def __init__(self, client: httpx.AsyncClient, token: str | None = None):
        self.client = client
        self.token = token

    def as_token(self, token: str | None) -> "Api":
        return Api(self.client, token)

    async def as_staff(self, role: Role, branch_ids: list[int] = (), pin: str | None = None) -> "Api":
        """A client signed in as a new staff member with this role at these branches."""
        email = f"{role.value}{next(_n)}@test.pk"
        await create_staff(SYSTEM, NewStaff(email, f"{role.value} user", role, PASSWORD, pin, list(branch_ids)))
        return self.as_token((await login(email, PASSWORD)).token)

    async def raw(self, query: str, variables: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400), response.text
        return response.json()

    async def __call__(self, query: str, variables: dict | None = None) -> dict:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture
async def anonymous(bus, database_url):
    app = create_app(Settings(database_url=database_url, debug=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield Api(client)


@pytest.fixture
async def api(anonymous):
    """Signed in as an owner (every permission, every branch)."""
    return await anonymous.as_staff(Role.OWNER)
