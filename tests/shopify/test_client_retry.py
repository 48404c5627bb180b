"""Throttling and retries against the simulator: pace before sending, retry what can heal, stop on what cannot."""

import asyncio

import httpx
import pytest

from shopify.client import ShopifyClient
from shopify.errors import ShopifyAuthError, ShopifyUnavailable
from shopify.simulator import SimShop, serve_simulator
from tests.shopify.test_client_support import RealWaits, Waits, client_for, counted_sim

SHOP_QUERY = "query ShopName { shop { name } }"
# Requested cost 2 + 10 x 1 = 12; with 10 products the actual cost is about the same, so a burst really
# drains the bucket (Shopify refunds requested - actual after execution).
PRODUCTS_QUERY = "query Ten { products(first: 10) { edges { node { id } } } }"

__all__ = ["counted_sim"]  # fixture imported for use here


def small_shop(bucket_size: float, restore_rate: float) -> SimShop:
    shop = SimShop(restore_rate=restore_rate, bucket_size=bucket_size)
    for n in range(10):
        shop.add_product(f"Kurta {n}", variants=[{"sku": f"K-{n}"}])
    return shop


@pytest.fixture
async def small_bucket():
    """A 30-point bucket refilling at 100 points/s. Each 12-point call restores itself in 120 ms, far longer
    than a local round trip, so anything faster than that must wait or be throttled."""
    shop = small_shop(30.0, 100.0)
    async with serve_simulator(shop) as url:
        yield shop, url
    shop.close()


async def _raw_post(url: str, shop: SimShop) -> dict:
    async with httpx.AsyncClient(base_url=url, headers={"Host": shop.domain}) as http:
        response = await http.post(
            "/admin/api/2026-10/graphql.json",
            json={"query": PRODUCTS_QUERY},
            headers={"X-Shopify-Access-Token": shop.access_token},
        )
        return response.json()


async def test_control_a_naive_burst_is_throttled(small_bucket):
    """Proves the burst tests below can fail: without pacing this bucket refuses calls."""
    shop, url = small_bucket
    await asyncio.gather(*(_raw_post(url, shop) for _ in range(10)))
    assert shop.throttled_calls > 0


async def test_concurrent_burst_waits_instead_of_being_throttled(small_bucket):
    shop, url = small_bucket
    sleep = RealWaits()
    async with ShopifyClient(shop.domain, shop.access_token, base_url=url, sleep=sleep) as shopify:
        results = await asyncio.gather(*(shopify.query(PRODUCTS_QUERY) for _ in range(10)))
    assert all(len(r["products"]["edges"]) == 10 for r in results)
    assert shop.throttled_calls == 0
    assert len(shop.calls) == 10
    assert shopify.bucket.waits, "the client should have paced the burst"


async def test_sequential_calls_wait_instead_of_being_throttled(small_bucket):
    shop, url = small_bucket
    async with ShopifyClient(shop.domain, shop.access_token, base_url=url, sleep=RealWaits()) as shopify:
        for _ in range(6):
            await shopify.query(PRODUCTS_QUERY)
    assert shop.throttled_calls == 0
    assert len(shop.calls) == 6
    assert shopify.bucket.waits


async def test_cost_hint_paces_the_first_call(small_bucket):
    shop, url = small_bucket
    async with ShopifyClient(shop.domain, shop.access_token, base_url=url, sleep=RealWaits()) as shopify:
        await shopify.query(SHOP_QUERY)  # learn the bucket
        await asyncio.gather(*(shopify.query(PRODUCTS_QUERY, cost_hint=12) for _ in range(6)))
    assert shop.throttled_calls == 0


async def test_throttled_answer_is_retried(counted_sim):
    counted_sim.shop.faults.throttle_next(2)
    async with client_for(counted_sim) as shopify:
        data = await shopify.query(SHOP_QUERY)
    assert data["shop"]["name"] == counted_sim.shop.name
    assert counted_sim.graphql_requests() == 3
    assert counted_sim.shop.throttled_calls == 2
    # The bucket was known (2000 points), so the only waits are the small anti-herd jitters.
    assert all(w < 0.1 for w in shopify.sleep.waits)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried_with_backoff(counted_sim, status):
    counted_sim.shop.faults.fail_next(2, status=status)
    async with client_for(counted_sim) as shopify:
        data = await shopify.query(SHOP_QUERY)
    assert data["shop"]["name"] == counted_sim.shop.name
    assert counted_sim.graphql_requests() == 3
    # Full jitter with rng() = 0.5: half of 0.5 s, then half of 1 s.
    assert shopify.sleep.waits == [pytest.approx(0.25), pytest.approx(0.5)]


async def test_429_honours_retry_after(counted_sim):
    counted_sim.shop.faults.fail_next(1, status=429, retry_after=1.5)
    async with client_for(counted_sim) as shopify:
        await shopify.query(SHOP_QUERY)
    assert counted_sim.graphql_requests() == 2
    assert shopify.sleep.waits == [pytest.approx(1.5)]


async def test_timeout_is_retried(counted_sim):
    counted_sim.shop.faults.delay_next(1, seconds=1.0)
    async with client_for(counted_sim, timeout=0.25) as shopify:
        data = await shopify.query(SHOP_QUERY)
    assert data["shop"]["name"] == counted_sim.shop.name
    assert counted_sim.graphql_requests() == 2


async def test_exhausted_attempts_raise_unavailable(counted_sim):
    counted_sim.shop.faults.fail_next(10, status=503)
    async with client_for(counted_sim, max_attempts=3) as shopify:
        with pytest.raises(ShopifyUnavailable) as info:
            await shopify.query(SHOP_QUERY)
    assert info.value.code == "SHOPIFY_UNAVAILABLE"
    assert (info.value.attempts, info.value.last_status) == (3, 503)
    assert counted_sim.graphql_requests() == 3
    assert len(shopify.sleep.waits) == 2  # no pointless wait after the last attempt
    counted_sim.shop.faults.reset()


async def test_connection_refused_is_retried_then_unavailable():
    # A port nobody listens on: nothing reaches a server, every attempt fails to connect.
    sleep = Waits()
    shopify = ShopifyClient("zari-demo.myshopify.com", "t", base_url="http://127.0.0.1:9", max_attempts=3, sleep=sleep)
    async with shopify:
        with pytest.raises(ShopifyUnavailable) as info:
            await shopify.query(SHOP_QUERY)
    assert info.value.attempts == 3
    assert len(sleep.waits) == 2


async def test_401_is_not_retried(counted_sim):
    async with client_for(counted_sim, token="shpat_nope") as shopify:
        with pytest.raises(ShopifyAuthError):
            await shopify.query(SHOP_QUERY)
    assert counted_sim.graphql_requests() == 1
    assert shopify.sleep.waits == []


async def test_keyless_mutation_with_retry_ambiguous_false_is_not_resent(counted_sim):
    counted_sim.shop.faults.fail_next(1, status=502)
    async with client_for(counted_sim) as shopify:
        with pytest.raises(ShopifyUnavailable) as info:
            await shopify.mutate(
                "mutation Run($q: String!) { bulkOperationRunQuery(query: $q) { userErrors { message } } }",
                {"q": "{ products { edges { node { id } } } }"},
                retry_ambiguous=False,
            )
    assert info.value.maybe_applied
    assert counted_sim.graphql_requests() == 1


async def test_keyless_mutation_is_retried_after_503_by_default(counted_sim):
    counted_sim.shop.faults.fail_next(1, status=503)
    async with client_for(counted_sim) as shopify:
        bulk = await shopify.run_bulk_query("{ products { edges { node { id } } } }")
    assert bulk.status in ("CREATED", "RUNNING")
    assert counted_sim.graphql_requests() == 2
