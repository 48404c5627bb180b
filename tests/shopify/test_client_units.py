"""Pure parts of the Shopify client: no HTTP. (The behaviour against a server is in test_client*.py.)"""

import asyncio

import pytest
from graphql import parse, print_ast

from shopify.bulk import BulkOperation
from shopify.client import ShopifyClient, add_idempotency_key, payload, validate_shop_domain
from shopify.errors import (
    BulkOperationFailed,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyInputError,
    ShopifyUserErrors,
    UserError,
)
from shopify.throttle import CostBucket, ThrottleStatus, backoff_delay, parse_retry_after


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zari-demo.myshopify.com", "zari-demo.myshopify.com"),
        ("  https://Zari-Demo.MyShopify.com/ ", "zari-demo.myshopify.com"),
        ("http://a1.myshopify.com", "a1.myshopify.com"),
        ("x.myshopify.com", "x.myshopify.com"),
    ],
)
def test_validate_shop_domain_normalises(raw, expected):
    assert validate_shop_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "zari-demo",
        "zari.com",
        "shop.example.com",
        "-bad.myshopify.com",
        "bad-.myshopify.com",
        "evil.com.myshopify.com",
        "zari.myshopify.com/admin",
        "zari.myshopify.com:8443",
        "za ri.myshopify.com",
        ".myshopify.com",
        "zari.myshopify.com.evil.com",
        "a" * 64 + ".myshopify.com",
    ],
)
def test_validate_shop_domain_rejects(raw):
    with pytest.raises(ShopifyInputError) as info:
        validate_shop_domain(raw)
    assert info.value.code == "INVALID_SHOP_DOMAIN"
    assert "myshopify.com" in str(info.value)


def test_client_rejects_bad_domain_and_empty_token():
    with pytest.raises(ShopifyInputError):
        ShopifyClient("zari.com", "shpat_x")
    with pytest.raises(ShopifyInputError):
        ShopifyClient("zari.myshopify.com", "")


def test_endpoint_and_repr_mask_token():
    client = ShopifyClient("Zari.myshopify.com", "shpat_supersecret")
    assert client.endpoint == "https://zari.myshopify.com/admin/api/2026-10/graphql.json"
    assert "shpat_supersecret" not in repr(client)
    assert "shpat_supersecret" not in str(client)
    local = ShopifyClient("zari.myshopify.com", "t", base_url="http://127.0.0.1:9/", api_version="2026-07")
    assert local.endpoint == "http://127.0.0.1:9/admin/api/2026-07/graphql.json"


def test_add_idempotency_key_targets_the_top_level_field():
    doc = """
    mutation Adjust($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) { userErrors { field message code } }
    }"""
    out = add_idempotency_key(doc, 'k-1"quoted')
    parsed = parse(out)
    field = parsed.definitions[0].selection_set.selections[0]
    (directive,) = field.directives
    assert directive.name.value == "idempotent"
    assert directive.arguments[0].name.value == "key"
    assert directive.arguments[0].value.value == 'k-1"quoted'  # escaped, not injected
    # Only the top-level field got it, and the rest of the document is unchanged.
    assert out.count("@idempotent") == 1
    assert print_ast(parse(doc)) in out.replace(' @idempotent(key: "k-1\\"quoted")', "")


@pytest.mark.parametrize(
    "doc",
    [
        "query { shop { name } }",
        "mutation { a { x } b { y } }",
        'mutation { a @idempotent(key: "x") { x } }',
        "mutation A { a { x } } mutation B { b { x } }",
    ],
)
def test_add_idempotency_key_refuses_ambiguous_documents(doc):
    with pytest.raises(ShopifyInputError):
        add_idempotency_key(doc, "k")


def test_add_idempotency_key_needs_a_key():
    with pytest.raises(ShopifyInputError):
        add_idempotency_key("mutation { a { x } }", " ")


def test_syntax_error_is_a_graphql_error():
    with pytest.raises(ShopifyGraphQLError) as info:
        add_idempotency_key("mutation { a { ", "k")
    assert info.value.code == "SHOPIFY_GRAPHQL"


def test_payload_returns_payload_or_raises_user_errors():
    ok = {"inventoryAdjustQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}}
    assert payload(ok, "inventoryAdjustQuantities")["inventoryAdjustmentGroup"] == {"id": "g"}

    bad = {
        "inventoryAdjustQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                {"field": ["input", "changes", "0"], "message": "stale", "code": "CHANGE_FROM_QUANTITY_STALE"}
            ],
        }
    }
    with pytest.raises(ShopifyUserErrors) as info:
        payload(bad, "inventoryAdjustQuantities")
    assert info.value.codes == ["CHANGE_FROM_QUANTITY_STALE"]
    assert info.value.errors == [UserError(["input", "changes", "0"], "stale", "CHANGE_FROM_QUANTITY_STALE")]
    assert info.value.code == "SHOPIFY_USER_ERRORS"

    cancel = {"orderCancel": {"job": None, "orderCancelUserErrors": [{"field": None, "message": "no", "code": "X"}]}}
    with pytest.raises(ShopifyUserErrors) as info:
        payload(cancel, "orderCancel")
    assert info.value.errors[0].field is None

    with pytest.raises(ShopifyGraphQLError):
        payload({}, "inventoryAdjustQuantities")


def test_bulk_operation_converts_unsigned_int64_strings():
    op = BulkOperation.from_node(
        {
            "id": "gid://shopify/BulkOperation/1",
            "status": "COMPLETED",
            "errorCode": None,
            "objectCount": "12",
            "rootObjectCount": "3",
            "fileSize": "2048",
            "url": "https://storage/x.jsonl",
            "partialDataUrl": None,
            "createdAt": "2026-11-26T10:00:00Z",
            "completedAt": None,
        }
    )
    assert (op.object_count, op.root_object_count, op.file_size) == (12, 3, 2048)
    assert op.created_at is not None and op.created_at.tzinfo is not None
    failed = BulkOperation.from_node({"id": "b", "status": "FAILED", "errorCode": "TIMEOUT", "objectCount": "0"})
    err = BulkOperationFailed(failed)
    assert (err.status, err.error_code, err.code) == ("FAILED", "TIMEOUT", "BULK_FAILED")
    assert "FAILED" in str(err) and "TIMEOUT" in str(err)


def test_every_error_has_a_code():
    codes = {cls.code for cls in ShopifyError.__subclasses__()}
    assert {"SHOPIFY_AUTH", "SHOPIFY_NOT_FOUND", "SHOPIFY_UNAVAILABLE", "SHOPIFY_USER_ERRORS"} <= codes
    assert {"SHOPIFY_GRAPHQL", "BULK_FAILED"} <= codes


def test_backoff_is_full_jitter_capped():
    assert backoff_delay(1, lambda: 1.0) == 0.5
    assert backoff_delay(3, lambda: 1.0) == 2.0
    assert backoff_delay(30, lambda: 1.0) == 30.0
    assert backoff_delay(5, lambda: 0.0) == 0.0


def test_parse_retry_after():
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-1") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == pytest.approx(10.0)


async def test_cost_bucket_waits_for_refill_and_serialises_callers():
    t = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)  # does not advance the clock: the bucket must still reason correctly

    bucket = CostBucket(sleep, clock=lambda: t[0])
    probe = await bucket.acquire(50)
    assert probe.probe and waits == []
    await bucket.release(probe, ThrottleStatus(100.0, 30.0, 10.0))

    first = await bucket.acquire(50)  # 30 available, needs 20 more at 10/s
    assert waits == [pytest.approx(2.0)]
    second = await bucket.acquire(lambda: 10)  # the first 50 is in flight: 0 left, needs 1 s more
    assert waits[-1] == pytest.approx(1.0)
    await bucket.release(second, None)
    await bucket.release(first, None)
    assert bucket.estimate() == pytest.approx(0.0)


async def test_cost_bucket_probe_blocks_concurrent_first_callers():
    async def sleep(_: float) -> None:
        return None

    bucket = CostBucket(sleep)
    probe = await bucket.acquire(10)
    waiter = asyncio.create_task(bucket.acquire(10))
    await asyncio.sleep(0.01)
    assert not waiter.done()  # nothing known about the bucket until the probe answers
    await bucket.release(probe, ThrottleStatus(1000.0, 990.0, 100.0))
    ticket = await asyncio.wait_for(waiter, 1)
    assert ticket.cost == 10 and not ticket.probe


async def test_cost_bucket_ignores_an_overtaken_reading():
    async def sleep(_: float) -> None:
        return None

    bucket = CostBucket(sleep, clock=lambda: 0.0)
    await bucket.release(await bucket.acquire(1), ThrottleStatus(100.0, 100.0, 1.0))
    older = await bucket.acquire(10)
    newer = await bucket.acquire(10)
    await bucket.release(newer, ThrottleStatus(100.0, 80.0, 1.0))
    await bucket.release(older, ThrottleStatus(100.0, 90.0, 1.0))  # arrived late, is stale
    assert bucket.estimate() == pytest.approx(80.0)


async def test_answers_are_recorded_while_another_caller_waits_for_points():
    # Regression: a caller sleeping for points must not block answers from updating the reading,
    # or every queued caller plans from a stale reading and waits far too long.
    bucket = CostBucket(asyncio.sleep)
    await bucket.release(await bucket.acquire(1), ThrottleStatus(100.0, 100.0, 50.0))
    in_flight = await bucket.acquire(100)
    waiter = asyncio.create_task(bucket.acquire(10))  # must wait ~0.2 s for the 100 in flight
    await asyncio.sleep(0.01)
    await asyncio.wait_for(bucket.release(in_flight, ThrottleStatus(100.0, 60.0, 50.0)), 0.05)
    assert bucket.estimate() == pytest.approx(60.0, abs=2.0)
    await asyncio.wait_for(waiter, 1)
