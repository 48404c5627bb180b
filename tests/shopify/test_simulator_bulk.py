"""Bulk query operations: validation, lifecycle, JSONL shape, ungrouped order, expiry, failure with partial data."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from shopify.simulator import SimShop, serve_simulator

RUN = """mutation($q: String!, $group: Boolean!) { bulkOperationRunQuery(query: $q, groupObjects: $group) {
  bulkOperation { id status } userErrors { field message code } } }"""
POLL = """query($id: ID!) { node(id: $id) { ... on BulkOperation {
  id status errorCode objectCount rootObjectCount fileSize url partialDataUrl type query } } }"""
VARIANTS_WITH_LEVELS = """{ productVariants { edges { node {
  __typename id sku
  product { id title }
  inventoryItem { id tracked inventoryLevels { edges { node {
    __typename id location { id name } quantities(names: ["available", "on_hand", "committed"]) { name quantity }
  } } } }
} } } }"""
PRODUCTS_WITH_VARIANTS = "{ products { edges { node { id title variants { edges { node { id sku } } } } } } }"


async def run_bulk(sim, query: str, group: bool = False) -> dict:
    data = await sim.data(RUN, {"q": query, "group": group})
    payload = data["bulkOperationRunQuery"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["bulkOperation"]


async def wait_done(sim, op_id: str, within: float = 10) -> dict:
    for _ in range(int(within / 0.02)):
        op = (await sim.data(POLL, {"id": op_id}))["node"]
        if op["status"] not in ("CREATED", "RUNNING", "CANCELING"):
            return op
        await asyncio.sleep(0.02)
    raise AssertionError("bulk operation did not finish")


async def download(url: str) -> list[dict]:
    async with httpx.AsyncClient() as client:  # a plain GET: no Shopify token, no Host override
        resp = await client.get(url)
    assert resp.status_code == 200, resp.text
    return [json.loads(line) for line in resp.text.splitlines()]


async def test_variants_with_levels_parent_ids_and_counts(sim):
    started = await run_bulk(sim, VARIANTS_WITH_LEVELS)
    assert started["status"] == "CREATED"
    op = await wait_done(sim, started["id"])
    assert op["status"] == "COMPLETED" and op["type"] == "QUERY"
    lines = await download(op["url"])
    shop = sim.shop
    variants = [x for x in lines if x["__typename"] == "ProductVariant"]
    levels = [x for x in lines if x["__typename"] == "InventoryLevel"]
    assert len(variants) == len(shop.variants) and len(levels) == len(shop.levels)
    # UnsignedInt64 counts are JSON strings.
    assert op["objectCount"] == str(len(lines)) and op["rootObjectCount"] == str(len(variants))
    assert op["fileSize"] == str(
        sum(len(json.dumps(x, separators=(",", ":"), ensure_ascii=False).encode()) + 1 for x in lines)
    )
    variant_ids = {v["id"] for v in variants}
    assert all("__parentId" not in v for v in variants)
    assert all(lv["__parentId"] in variant_ids for lv in levels)  # the variant, not the inline inventoryItem
    # Connection wrappers are gone and the inline object keeps only its scalars.
    assert all("edges" not in json.dumps(x) and "inventoryLevels" not in x["inventoryItem"] for x in variants)
    one = levels[0]
    variant = shop.variants[int(one["__parentId"].rsplit("/", 1)[1])]
    level = shop.level(variant.inventory_item_id, int(one["location"]["id"].rsplit("/", 1)[1]))
    assert one["id"] == level.gid
    assert {q["name"]: q["quantity"] for q in one["quantities"]} == {
        "available": level.get("available"),
        "on_hand": level.get("on_hand"),
        "committed": level.get("committed"),
    }


async def test_ungrouped_output_puts_some_children_before_parents(sim):
    op = await wait_done(sim, (await run_bulk(sim, PRODUCTS_WITH_VARIANTS, group=False))["id"])
    lines = await download(op["url"])
    position = {x["id"]: n for n, x in enumerate(lines)}
    children = [(n, x) for n, x in enumerate(lines) if "__parentId" in x]
    assert any(position[x["__parentId"]] > n for n, x in children)
    assert not all(position[x["__parentId"]] == n - 1 for n, x in children)


async def test_grouped_output_keeps_children_under_parents(sim):
    op = await wait_done(sim, (await run_bulk(sim, PRODUCTS_WITH_VARIANTS, group=True))["id"])
    lines = await download(op["url"])
    seen: set[str] = set()
    for x in lines:
        if "__parentId" in x:
            assert x["__parentId"] in seen
        seen.add(x["id"])
    assert "__typename" not in lines[0]  # only when selected


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ('{ node(id: "gid://shopify/Product/1") { id } }', "node"),
        ("{ shop { id } }", "connection"),
        ("{ products { edges { node { id } } } locations { edges { node { id } } } }", "one top-level"),
        (
            "{ products { edges { node { id variants { edges { node { id"
            " inventoryItem { inventoryLevels { edges { node { id } } } } } } } } } } }",
            "depth",
        ),
        ("{ products { edges { node { nope } } } }", "Invalid bulk query"),
        ("{ products { edges { node { id ", "Invalid bulk query"),
    ],
)
async def test_invalid_inner_queries(sim, query, fragment):
    data = await sim.data(RUN, {"q": query, "group": False})
    payload = data["bulkOperationRunQuery"]
    assert payload["bulkOperation"] is None
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert fragment in payload["userErrors"][0]["message"]


async def test_limit_reached_and_cancel(sim):
    # Long enough that the five are still running when the sixth asks, however busy the machine (0.5 s was not).
    sim.shop.config.bulk_start_delay = 3.0
    ids = [(await run_bulk(sim, PRODUCTS_WITH_VARIANTS))["id"] for _ in range(5)]
    data = await sim.data(RUN, {"q": PRODUCTS_WITH_VARIANTS, "group": False})
    assert data["bulkOperationRunQuery"]["userErrors"][0]["code"] == "LIMIT_REACHED"
    cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }"
    data = await sim.data(cancel, {"id": ids[0]})
    assert data["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
    assert (await wait_done(sim, ids[0]))["status"] == "CANCELED"
    for other in ids[1:]:
        assert (await wait_done(sim, other))["status"] == "COMPLETED"


async def test_expired_url_is_403_and_status_expired(sim, webhook_receiver):
    sim.shop.subscribe("bulk_operations/finish", webhook_receiver.url)
    op = await wait_done(sim, (await run_bulk(sim, PRODUCTS_WITH_VARIANTS))["id"])
    [hook] = await webhook_receiver.wait_for(1)
    assert json.loads(hook.body) | {"completed_at": None, "created_at": None} == {
        "admin_graphql_api_id": op["id"],
        "completed_at": None,
        "created_at": None,
        "error_code": None,
        "status": "completed",
        "type": "query",
    }
    sim.shop.faults.expire_bulk_results()
    async with httpx.AsyncClient() as client:
        resp = await client.get(op["url"])
    assert resp.status_code == 403
    assert "<Code>ExpiredToken</Code>" in resp.text
    current = await sim.data("{ currentBulkOperation { id status } }")
    assert current["currentBulkOperation"] == {"id": op["id"], "status": "EXPIRED"}


async def test_url_ttl_is_configurable():
    # Long enough that a busy CI machine still polls and downloads inside it, short enough to wait out.
    shop = SimShop(bulk_url_ttl=2.0, bulk_start_delay=0.0)
    shop.seed_demo(products=2, locations=1, customers=0)
    async with (
        serve_simulator(shop) as url,
        httpx.AsyncClient(headers={"Host": shop.domain, "X-Shopify-Access-Token": shop.access_token}) as client,
    ):
        endpoint = f"{url}/admin/api/2026-10/graphql.json"
        started = (
            await client.post(endpoint, json={"query": RUN, "variables": {"q": PRODUCTS_WITH_VARIANTS, "group": False}})
        ).json()
        op_id = started["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        for _ in range(500):  # polled as a client would, not waited a fixed while
            op = (await client.post(endpoint, json={"query": POLL, "variables": {"id": op_id}})).json()["data"]["node"]
            if op["status"] not in ("CREATED", "RUNNING"):
                break
            await asyncio.sleep(0.01)
        assert op["status"] == "COMPLETED"
        assert (await client.get(op["url"])).status_code == 200
        for _ in range(1000):  # until the link has expired (a deadline of ~10 s, not a speed check)
            if (status := (await client.get(op["url"])).status_code) != 200:
                break
            await asyncio.sleep(0.01)
        assert status == 403
    shop.close()


async def test_failure_with_partial_data(sim):
    sim.shop.faults.bulk_fail_next("INTERNAL_SERVER_ERROR", partial=True)
    op = await wait_done(sim, (await run_bulk(sim, PRODUCTS_WITH_VARIANTS))["id"])
    assert op["status"] == "FAILED" and op["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert op["url"] is None and op["partialDataUrl"]
    partial = await download(op["partialDataUrl"])
    total = len(sim.shop.products) + len(sim.shop.variants)
    assert 0 < len(partial) < total
    assert op["objectCount"] == str(len(partial))


async def test_empty_result_has_null_url(sim):
    q = '{ products(query: "title:doesnotexist") { edges { node { id } } } }'
    op = await wait_done(sim, (await run_bulk(sim, q))["id"])
    assert op["status"] == "COMPLETED" and op["objectCount"] == "0" and op["url"] is None


async def test_large_export_streams_from_a_file():
    shop = SimShop(bulk_start_delay=0.0, bulk_page_size=1000)
    loc = shop.add_location("Warehouse")
    for n in range(300):
        product = shop.add_product(f"P{n}", [{"sku": f"P{n}-{s}", "options": {"Size": s}} for s in "SMLXY"] * 4)
        for vid in product.variant_ids:
            shop.stock(shop.variants[vid], loc, available=n % 7)
    assert len(shop.variants) == 6000
    async with (
        serve_simulator(shop) as url,
        httpx.AsyncClient(
            headers={"Host": shop.domain, "X-Shopify-Access-Token": shop.access_token},
            timeout=30,
            # A fresh connection per poll: while the export is written a kept-alive one may be closed by the
            # server just as the next poll goes out (a reset, seen once on a busy CI machine).
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client,
    ):
        endpoint = f"{url}/admin/api/2026-10/graphql.json"
        body = {"query": RUN, "variables": {"q": VARIANTS_WITH_LEVELS, "group": False}}
        op_id = (await client.post(endpoint, json=body)).json()["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        for _ in range(500):
            op = (await client.post(endpoint, json={"query": POLL, "variables": {"id": op_id}})).json()["data"]["node"]
            if op["status"] == "COMPLETED":
                break
            await asyncio.sleep(0.05)
        assert op["objectCount"] == "12000" and op["rootObjectCount"] == "6000"
        count = 0
        async with client.stream("GET", op["url"]) as resp:
            async for line in resp.aiter_lines():
                count += bool(line)
        assert count == 12000
    shop.close()
