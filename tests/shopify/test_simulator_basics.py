"""The simulator's endpoint contract: auth, host and version routing, GraphQL errors, paging, cost, throttling."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shopify.simulator import SimShop, serve_simulator

SHOP_Q = "{ shop { id name myshopifyDomain currencyCode plan { displayName } } }"


async def test_shop_query_has_cost_and_version_header(sim):
    resp = await sim.post(SHOP_Q)
    assert resp.status_code == 200
    assert resp.headers["x-shopify-api-version"] == "2026-10"
    body = resp.json()
    assert body["data"]["shop"] == {
        "id": "gid://shopify/Shop/73100000001",
        "name": "Zari Demo",
        "myshopifyDomain": "zari-demo.myshopify.com",
        "currencyCode": "PKR",
        "plan": {"displayName": "Basic"},
    }
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2  # shop + plan objects
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


async def test_wrong_token_is_401_with_shopify_body(sim):
    resp = await sim.client.post(sim.graphql_url(), json={"query": SHOP_Q}, headers={"X-Shopify-Access-Token": "nope"})
    assert resp.status_code == 401
    assert resp.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


async def test_missing_token_is_401(sim):
    async with httpx.AsyncClient(headers={"Host": sim.domain}) as client:
        resp = await client.post(sim.graphql_url(), json={"query": SHOP_Q})
    assert resp.status_code == 401


async def test_unknown_host_is_404_but_localhost_works(sim):
    resp = await sim.client.post(sim.graphql_url(), json={"query": SHOP_Q}, headers={"Host": "other.myshopify.com"})
    assert resp.status_code == 404
    assert resp.json() == {"errors": "Not Found"}
    async with httpx.AsyncClient(headers={"X-Shopify-Access-Token": sim.token}) as client:
        local = await client.post(sim.graphql_url(), json={"query": SHOP_Q})  # Host: 127.0.0.1:port
    assert local.status_code == 200
    assert local.json()["data"]["shop"]["myshopifyDomain"] == sim.domain


@pytest.mark.parametrize("version", ["2024-10", "2025-07", "2026-02", "latest", "2026-13"])
async def test_unsupported_versions_are_404(sim, version):
    resp = await sim.post(SHOP_Q, version=version)
    assert resp.status_code == 404


async def test_invalid_documents_get_graphql_errors(sim):
    body = await sim.gql("{ shop { id nonsense } }")
    assert "data" not in body
    assert "nonsense" in body["errors"][0]["message"]
    body = await sim.gql("{ shop { id ")
    assert body["errors"][0]["message"].startswith("Syntax Error")
    body = await sim.gql('{ inventoryItem(id: "gid://shopify/InventoryLevel/1?inventory_item_id=2") { id } }')
    assert body["data"]["inventoryItem"] is None
    assert "Invalid id" in body["errors"][0]["message"]


async def test_unknown_quantity_name_is_an_error(sim):
    level = next(iter(sim.shop.levels.values()))
    q = 'query($id: ID!) { inventoryLevel(id: $id) { quantities(names: ["available", "sold"]) { name quantity } } }'
    body = await sim.gql(q, {"id": level.gid})
    assert "sold" in body["errors"][0]["message"]


async def test_node_and_nodes_resolve_every_kind(sim):
    shop = sim.shop
    variant = next(iter(shop.variants.values()))
    level = next(iter(shop.levels.values()))
    q = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""
    ids = [variant.gid, shop.items[variant.inventory_item_id].gid, level.gid, "gid://shopify/Product/1"]
    data = await sim.data(q, {"ids": ids})
    assert [n and n["__typename"] for n in data["nodes"]] == ["ProductVariant", "InventoryItem", "InventoryLevel", None]
    assert data["nodes"][2]["id"] == level.gid
    assert "?inventory_item_id=" in level.gid


async def test_pagination_walks_every_variant_once(sim):
    q = """query($after: String) { productVariants(first: 7, after: $after) {
        edges { cursor node { id sku } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await sim.data(q, {"after": after}))["productVariants"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(sim.shop.variants)


async def test_first_is_capped_at_250_and_required(sim):
    body = await sim.gql("{ products(first: 251) { nodes { id } } }")
    assert "250" in body["errors"][0]["message"]
    body = await sim.gql("{ products { nodes { id } } }")
    assert "first or last" in body["errors"][0]["message"]


async def test_variant_search_by_sku(sim):
    variant = list(sim.shop.variants.values())[3]
    data = await sim.data(
        "query($q: String) { productVariants(first: 5, query: $q) { nodes { id sku } } }", {"q": f"sku:{variant.sku}"}
    )
    assert data["productVariants"]["nodes"] == [{"id": variant.gid, "sku": variant.sku}]


async def test_connection_cost_uses_first_and_refunds_to_actual(sim):
    body = await sim.gql("{ locations(first: 50) { edges { node { id name } } } }")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 52
    assert cost["actualQueryCost"] == 2 + 3  # three locations came back
    assert sim.shop.calls[-1]["actual"] == 5


async def test_query_over_1000_points_is_rejected_before_running(sim):
    q = "{ products(first: 100) { edges { node { id variants(first: 100) { edges { node { id } } } } } } }"
    body = await sim.gql(q)
    err = body["errors"][0]
    assert err["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert err["extensions"]["cost"] > 1000
    assert "data" not in body


async def test_empty_bucket_throttles_with_shopify_shape():
    shop = SimShop(bucket_size=100.0, restore_rate=200.0)
    shop.seed_demo(products=2, locations=1, customers=0)
    q = "{ productVariants(first: 60) { nodes { id } } }"  # requested 62
    async with (
        serve_simulator(shop) as url,
        httpx.AsyncClient(headers={"Host": shop.domain, "X-Shopify-Access-Token": shop.access_token}) as client,
    ):
        endpoint = f"{url}/admin/api/2026-10/graphql.json"
        first = (await client.post(endpoint, json={"query": q})).json()
        assert "errors" not in first
        shop.bucket.drain(10)
        resp = await client.post(endpoint, json={"query": q})
        assert resp.status_code == 200
        body = resp.json()
        assert body["errors"] == [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ]
        assert "data" not in body
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 62
        assert cost["actualQueryCost"] is None
        assert cost["throttleStatus"]["currentlyAvailable"] < 62
        assert shop.throttled_calls == 1
        # Waiting (requested - available) / restoreRate is enough.
        await asyncio.sleep((62 - cost["throttleStatus"]["currentlyAvailable"]) / 200.0 + 0.05)
        again = (await client.post(endpoint, json={"query": q})).json()
        assert "errors" not in again
    assert [c["throttled"] for c in shop.calls] == [False, True, False]


async def test_fault_injection_on_the_endpoint(sim):
    sim.shop.faults.throttle_next(1)
    sim.shop.faults.fail_next(1, status=429, retry_after=2.0)
    sim.shop.faults.fail_next(1, status=503)
    r1 = await sim.post(SHOP_Q)
    assert r1.status_code == 429
    assert r1.headers["retry-after"] == "2.0"
    r2 = await sim.post(SHOP_Q)
    assert r2.status_code == 503
    r3 = await sim.post(SHOP_Q)
    assert r3.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    r4 = await sim.post(SHOP_Q)
    assert r4.json()["data"]["shop"]["name"] == "Zari Demo"


async def test_delay_fault_makes_client_time_out(sim):
    sim.shop.faults.delay_next(1, seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.client.post(sim.graphql_url(), json={"query": SHOP_Q}, timeout=0.1)
    ok = await sim.client.post(sim.graphql_url(), json={"query": SHOP_Q}, timeout=1)
    assert ok.status_code == 200


async def test_control_endpoints_and_state(sim):
    state = (await sim.client.get(f"{sim.url}/_sim/state")).json()
    assert state["locations"] == 3 and state["products"] == 6
    resp = await sim.client.post(f"{sim.url}/_sim/faults", json={"throttle_next": 1})
    assert resp.json()["ok"] is True
    assert (await sim.gql(SHOP_Q))["errors"][0]["extensions"]["code"] == "THROTTLED"
    await sim.client.post(f"{sim.url}/_sim/faults", json={"fail_next": {"n": 1, "status": 502}})
    await sim.client.post(f"{sim.url}/_sim/reset_faults")
    assert (await sim.post(SHOP_Q)).status_code == 200


async def test_dump_and_load_round_trip(tmp_path, sim_shop):
    sim_shop.place_order([(next(iter(sim_shop.variants.values())).gid, 1)])
    path = tmp_path / "shop.json"
    sim_shop.dump(str(path))
    copy = SimShop().load(str(path))
    assert copy.summary()["variants"] == sim_shop.summary()["variants"]
    assert {k: v.snapshot() for k, v in copy.levels.items()} == {k: v.snapshot() for k, v in sim_shop.levels.items()}
    order = next(iter(copy.orders.values()))
    assert order.line_items[0].quantity == 1
    assert copy.next_big_id() == sim_shop.next_big_id()
