"""Bulk queries through ShopifyClient: start, wait, stream the JSONL to disk; failures are never success."""

import json
import tracemalloc

import httpx
import pytest

import shopify.bulk as bulk_module
from shopify.bulk import BulkOperation
from shopify.client import ShopifyClient
from shopify.errors import (
    BulkOperationFailed,
    BulkResultExpired,
    BulkWaitTimeout,
    ShopifyUnavailable,
    ShopifyUserErrors,
)
from tests.shopify.test_client_support import ShortRealWaits, Waits, client_for

INNER = """
{
  products {
    edges { node { id title variants { edges { node { id sku } } } } }
  }
}
"""


@pytest.fixture
def catalogue(sim):
    for n in range(3):
        sim.shop.add_product(f"Kurta {n}", variants=[{"sku": f"K-{n}-S"}, {"sku": f"K-{n}-M"}])
    return sim


async def test_bulk_query_wait_and_download(catalogue, tmp_path):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        started = await shopify.run_bulk_query(INNER)
        assert isinstance(started, BulkOperation)
        assert started.status in ("CREATED", "RUNNING")
        done = await shopify.wait_for_bulk(started.id, poll_interval=0.05, timeout=30)
        assert done.status == "COMPLETED" and done.url
        dest = tmp_path / "products.jsonl"
        written = await shopify.download(done.url, dest)
        assert "x-shopify-access-token" not in shopify.storage_client().headers

    lines = [json.loads(line) for line in dest.read_text().splitlines()]
    assert written == dest.stat().st_size
    if done.file_size is not None:
        assert done.file_size == written
    shop = sim.shop
    assert done.object_count == len(lines) == len(shop.products) + len(shop.variants)
    assert done.root_object_count == len(shop.products)
    products = {line["id"] for line in lines if "__parentId" not in line}
    variants = [line for line in lines if "__parentId" in line]
    assert len(products) == len(shop.products) and len(variants) == len(shop.variants)
    assert {v["sku"] for v in variants} >= {"K-0-S", "K-2-M"}
    assert all(v["__parentId"] in products for v in variants)
    assert not (tmp_path / "products.jsonl.part").exists()


async def test_invalid_bulk_query_is_a_user_error(sim):
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        with pytest.raises(ShopifyUserErrors) as info:
            await shopify.run_bulk_query("{ shop { name } }")  # no connection
    assert info.value.errors


async def test_failed_bulk_operation_raises_with_partial_url(catalogue):
    sim = catalogue
    sim.shop.faults.bulk_fail_next(error_code="TIMEOUT", partial=True)
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        started = await shopify.run_bulk_query(INNER)
        with pytest.raises(BulkOperationFailed) as info:
            await shopify.wait_for_bulk(started.id, poll_interval=0.05, timeout=30)
    err = info.value
    assert err.code == "BULK_FAILED"
    assert err.status == "FAILED"
    assert err.error_code == "TIMEOUT"
    assert err.partial_data_url
    assert err.operation is not None and err.operation.url is None


async def test_expired_results_are_an_error(catalogue, tmp_path):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        started = await shopify.run_bulk_query(INNER)
        done = await shopify.wait_for_bulk(started.id, poll_interval=0.05, timeout=30)
        sim.shop.expire_bulk_results()
        with pytest.raises(BulkResultExpired):
            await shopify.download(done.url, tmp_path / "late.jsonl")
        with pytest.raises(BulkOperationFailed) as info:  # BulkResultExpired is a BulkOperationFailed
            await shopify.wait_for_bulk(started.id, poll_interval=0.05, timeout=30)
    assert info.value.status == "EXPIRED"
    assert not (tmp_path / "late.jsonl").exists()


async def test_wait_for_bulk_times_out(catalogue, monkeypatch):
    sim = catalogue
    async with client_for(sim, sleep=Waits()) as shopify:
        started = await shopify.run_bulk_query(INNER)
        running = BulkOperation(started.id, "RUNNING", None, 0, 0, None, None, None, None, None)

        async def still_running(_client, _id):
            return running

        monkeypatch.setattr(bulk_module, "bulk_operation", still_running)
        with pytest.raises(BulkWaitTimeout):
            await shopify.wait_for_bulk(started.id, poll_interval=1.0, max_interval=4.0, timeout=20)
    # Growing intervals capped at max_interval, and never past the timeout.
    assert shopify.sleep.waits[:3] == [1.0, 1.5, 2.25]
    assert max(shopify.sleep.waits) <= 4.0
    assert sum(shopify.sleep.waits) == pytest.approx(20.0)


# -- download() against an in-process storage stand-in (no simulator needed) --------------------------


def storage_client_for(handler) -> ShopifyClient:
    shopify = ShopifyClient("zari-demo.myshopify.com", "shpat_secret_token", sleep=Waits(), rng=lambda: 0.5)
    shopify._storage = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return shopify


async def test_download_streams_without_buffering_the_file(tmp_path):
    size = 32 * 1024 * 1024
    block = b'{"id":"gid://shopify/Product/1"}\n' * 2048  # ~66 KB

    async def body():
        sent = 0
        while sent < size:
            yield block
            sent += len(block)

    seen_headers = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.update(request.headers)
        return httpx.Response(200, content=body())

    shopify = storage_client_for(handler)
    tracemalloc.start()
    try:
        written = await shopify.download("https://storage.example/result.jsonl?sig=abc", tmp_path / "big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await shopify.aclose()
    assert written == (tmp_path / "big.jsonl").stat().st_size >= size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the download is buffering"
    assert "x-shopify-access-token" not in {k.lower() for k in seen_headers}


async def test_download_retries_server_errors(tmp_path):
    answers = iter([httpx.Response(503), httpx.Response(500), httpx.Response(200, content=b'{"a":1}\n')])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    shopify = storage_client_for(handler)
    async with shopify:
        assert await shopify.download("https://storage.example/r.jsonl", tmp_path / "r.jsonl") == 8
    assert shopify.sleep.waits == [0.25, 0.5]


async def test_download_gives_up_after_max_attempts(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    shopify = storage_client_for(handler)
    shopify.max_attempts = 3
    async with shopify:
        with pytest.raises(ShopifyUnavailable):
            await shopify.download("https://storage.example/r.jsonl", tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("status", [403, 410])
async def test_download_of_an_expired_url(tmp_path, status):
    shopify = storage_client_for(lambda request: httpx.Response(status, text="<Error>AccessDenied</Error>"))
    async with shopify:
        with pytest.raises(BulkResultExpired) as info:
            await shopify.download("https://storage.example/r.jsonl", tmp_path / "r.jsonl")
    assert info.value.code == "BULK_RESULT_EXPIRED"
    assert shopify.sleep.waits == []
