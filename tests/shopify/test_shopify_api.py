"""The Shopify API end to end: a real `branchline serve` (uvicorn) talking to the simulator over HTTP,
driven with gql over HTTP and graphql-transport-ws as an owner's dashboard would."""

import asyncio

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from models.branches import Branch
from models.staff import Role
from operations.directory.staff import NewStaff, create_staff, login
from operations.kernel.access import SYSTEM
from tests.e2e.conftest import owner_token, running_server  # noqa: F401  (fixture)

CONNECT = """
mutation($input: ConnectShopifyInput!) {
  connectShopify(input: $input) {
    connection { shopDomain shopName apiVersion connected webhookTopics }
    errors { field message code }
  }
}
"""
START = """
mutation($key: String!) {
  startShopifyImport(input: {idempotencyKey: $key}) { job { id status phase } errors { field message code } }
}
"""
PROGRESS = """
subscription($job: ID!) { importProgress(jobId: $job) { job { id } status phase objectsDone objectsTotal rate error } }
"""
STATUS = """
{ syncStatus { connection { shopDomain connected } lastImport { status objectsDone counts { kind outcome count } } } }
"""
LOCATIONS = "{ shopifyLocations { shopifyLocationId name branch { id } ignored } }"


def request(document: str, **variables) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables)


async def cashier_token() -> str:
    branch = await Branch.first()
    await create_staff(
        SYSTEM, NewStaff("cashier@shop.pk", "Cashier", Role.CASHIER, "cashier-password-1", branch_ids=[branch.id])
    )
    return (await login("cashier@shop.pk", "cashier-password-1")).token


async def test_owner_connects_imports_and_watches_progress(database_url, broadcast_url, sim, owner_token):  # noqa: F811
    with running_server(database_url, broadcast_url, shopify_base_url=sim.url) as server:
        async with server.http_client(owner_token) as http:
            bad = await http.execute(
                request(
                    CONNECT,
                    input={
                        "shopDomain": sim.domain,
                        "accessToken": "wrong",
                        "clientSecret": "s",
                        "idempotencyKey": "c0",
                    },
                )
            )
            assert bad["connectShopify"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
            done = await http.execute(
                request(
                    CONNECT,
                    input={
                        "shopDomain": sim.domain,
                        "accessToken": sim.token,
                        "clientSecret": sim.shop.client_secret,
                        "idempotencyKey": "c1",
                    },
                )
            )
            assert done["connectShopify"]["errors"] == []
            assert done["connectShopify"]["connection"]["apiVersion"] == "2026-10"
            assert "ORDERS_CREATE" in done["connectShopify"]["connection"]["webhookTopics"]

            started = (await http.execute(request(START, key="first-import")))["startShopifyImport"]
            job = started["job"]["id"]
            async with server.ws_client(owner_token) as ws:
                seen = []
                async for event in ws.subscribe(request(PROGRESS, job=job)):
                    seen.append(event["importProgress"])
                    if event["importProgress"]["status"] in ("COMPLETED", "FAILED"):
                        break
            assert seen[-1]["status"] == "COMPLETED", seen[-1]
            assert seen[-1]["objectsDone"] == seen[-1]["objectsTotal"] > 0
            assert {event["job"]["id"] for event in seen} == {job}
            assert [event["phase"] for event in seen][-1] == "COMPLETED"
            replay = (await http.execute(request(START, key="first-import")))["startShopifyImport"]
            assert replay["job"]["id"] == job  # the same key returns the first job, no second import

            status = (await http.execute(request(STATUS)))["syncStatus"]
            assert status["connection"] == {"shopDomain": sim.domain, "connected": True}
            counts = {(c["kind"], c["outcome"]): c["count"] for c in status["lastImport"]["counts"]}
            assert counts[("VARIANTS", "CREATED")] == len(sim.shop.variants)
            locations = (await http.execute(request(LOCATIONS)))["shopifyLocations"]
            assert len(locations) == len(sim.shop.locations) and all(loc["branch"]["id"] for loc in locations)

        async with server.http_client(await cashier_token()) as cashier:
            for document in (STATUS, LOCATIONS, START):
                with pytest.raises(TransportQueryError) as refused:
                    await cashier.execute(request(document, **({"key": "c"} if document is START else {})))
                assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_second_import_while_one_runs_is_refused(database_url, broadcast_url, sim, owner_token):  # noqa: F811
    sim.shop.config.bulk_start_delay = 1.0  # the first import waits on Shopify for a while
    with running_server(database_url, broadcast_url, shopify_base_url=sim.url) as server:
        async with server.http_client(owner_token) as http:
            await http.execute(
                request(
                    CONNECT,
                    input={
                        "shopDomain": sim.domain,
                        "accessToken": sim.token,
                        "clientSecret": sim.shop.client_secret,
                        "idempotencyKey": "c1",
                    },
                )
            )
            first = (await http.execute(request(START, key="first")))["startShopifyImport"]
            second = (await http.execute(request(START, key="second")))["startShopifyImport"]
            assert first["errors"] == []
            assert second["errors"][0]["code"] == "WRONG_STATE"
            for _ in range(100):
                status = (await http.execute(request(STATUS)))["syncStatus"]["lastImport"]["status"]
                if status != "RUNNING":
                    break
                await asyncio.sleep(0.1)
            assert status == "COMPLETED"
