"""Bulk queries through ShopifyClient: start, wait, stream the JSONL to disk; failures are never success."""

import json
import os
import tracemalloc

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


# -- download() from the simulator's real, expiring result URL ----------------------------------------


async def completed(sim, shopify: ShopifyClient) -> BulkOperation:
    started = await shopify.run_bulk_query(INNER)
    return await shopify.wait_for_bulk(started.id, poll_interval=0.05, timeout=30)


def grow(path: str, size: int) -> int:
    block = b'{"id":"gid://shopify/Product/1"}\n' * 2048  # ~66 KB
    with open(path, "ab") as fh:
        while fh.tell() < size:
            fh.write(block)
    return os.path.getsize(path)


async def test_download_streams_without_buffering_the_file(catalogue, tmp_path):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        done = await completed(sim, shopify)
        # A big result: the simulator's own result file, grown to 32 MB (a catalogue that size would take
        # minutes to run through the bulk runner), served by its real signed URL.
        op = sim.shop.bulk_operations[int(done.id.rsplit("/", 1)[1])]
        size = grow(op.path, 32 * 1024 * 1024)
        tracemalloc.start()
        try:
            written = await shopify.download(done.url, tmp_path / "big.jsonl")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert written == (tmp_path / "big.jsonl").stat().st_size == size >= 32 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the download is buffering"


async def test_download_retries_server_errors(catalogue, tmp_path):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        done = await completed(sim, shopify)
        shopify.sleep.waits.clear()
        sim.shop.faults.fail_downloads(1, 503)
        sim.shop.faults.fail_downloads(1, 500)
        written = await shopify.download(done.url, tmp_path / "r.jsonl")
    assert written == (tmp_path / "r.jsonl").stat().st_size > 0
    assert shopify.sleep.waits == [0.25, 0.5]
    assert sim.shop.faults.download_failures == []


async def test_download_gives_up_after_max_attempts(catalogue, tmp_path):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        done = await completed(sim, shopify)
        shopify.max_attempts = 3
        sim.shop.faults.fail_downloads(4, 503)
        with pytest.raises(ShopifyUnavailable) as info:
            await shopify.download(done.url, tmp_path / "r.jsonl")
    assert info.value.code == "SHOPIFY_UNAVAILABLE"
    assert sim.shop.faults.download_failures == [503]  # three attempts, then it gave up
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("status", [403, 410])
async def test_download_of_an_expired_url(catalogue, tmp_path, status):
    sim = catalogue
    async with client_for(sim, sleep=ShortRealWaits()) as shopify:
        done = await completed(sim, shopify)
        shopify.sleep.waits.clear()
        if status == 403:
            sim.shop.expire_bulk_results()  # the signed URL's time is up: storage answers 403
        else:
            sim.shop.faults.fail_downloads(1, 410)
        with pytest.raises(BulkResultExpired) as info:
            await shopify.download(done.url, tmp_path / "r.jsonl")
        assert "x-shopify-access-token" not in shopify.storage_client().headers
    assert info.value.code == "BULK_RESULT_EXPIRED"
    assert shopify.sleep.waits == []
    assert not (tmp_path / "r.jsonl").exists()
