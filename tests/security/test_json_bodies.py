"""Finding: a JSON scalar as the request body (`1`, `"x"`, `null`, `true`) answered HTTP 500.

Strawberry reads the parsed body with `.get()`; our view now answers 400 with a readable error
unless the body is a JSON object (or a list of them: a batch, which Strawberry refuses itself).
"""

import httpx
import pytest

SCALARS = ["1", '"x"', "null", "true", "3.5"]


@pytest.mark.parametrize("body", SCALARS)
async def test_a_json_scalar_body_is_a_400_with_a_readable_error(server, body):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        answer = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert "must be a JSON object" in answer.text


@pytest.mark.parametrize("body", ["[]", "[1]", "{}", "{", '{"query": 1}'])
async def test_other_malformed_bodies_stay_400(server, body):
    """Not the finding (these were already 400): they must stay readable 400s."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        answer = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.text, (answer.status_code, answer.text)


async def test_a_real_request_still_works(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        answer = await client.post("/graphql", json={"query": "{ __typename }"})
    assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}


async def test_a_subscription_over_plain_http_is_a_400_not_a_fault(server, owner_token):
    """Subscriptions stream over WebSocket; over HTTP POST Strawberry ran one as a query and answered
    "Unexpected error." (an ERROR with a traceback in the log)."""
    query = 'subscription { stockChanged(branchIds: ["QnJhbmNoOjE="]) { sequence } }'
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        answer = await client.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {owner_token}"}
        )
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert "Unexpected error" not in answer.text and "subscriptions are not allowed" in answer.text.lower()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:  # anonymous: the same 400
        anonymous = await client.post("/graphql", json={"query": "subscription { syncStatusChanged { __typename } }"})
    assert anonymous.status_code == 400 and "Unexpected error" not in anonymous.text
