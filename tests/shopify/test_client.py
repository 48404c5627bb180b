"""ShopifyClient against the local Shopify simulator over real HTTP: basics, errors, secrets."""

import logging

import pytest

from shopify.client import API_VERSION, ShopifyClient
from shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyInputError,
    ShopifyNotFound,
    ShopifyUnavailable,
)
from tests.shopify.test_client_support import client_for, counted_sim

SHOP_QUERY = "query ShopName { shop { name } }"

__all__ = ["counted_sim"]  # fixture imported for use here


async def test_query_shop(sim):
    async with client_for(sim) as shopify:
        data = await shopify.query(SHOP_QUERY)
        assert data["shop"]["name"] == sim.shop.name
        # The client read extensions.cost and now knows the bucket.
        assert shopify.bucket.status is not None
        assert shopify.bucket.status.maximum_available == sim.shop.bucket.size
    call = sim.shop.calls[-1]
    assert not call.get("throttled")


async def test_query_without_context_manager_then_aclose(sim):
    shopify = client_for(sim)
    try:
        assert (await shopify.query(SHOP_QUERY))["shop"]["name"] == sim.shop.name
    finally:
        await shopify.aclose()
    await shopify.aclose()  # idempotent


async def test_wrong_token_is_auth_error_and_not_retried(counted_sim):
    async with client_for(counted_sim, token="shpat_wrong_token_value") as shopify:
        with pytest.raises(ShopifyAuthError) as info:
            await shopify.query(SHOP_QUERY)
    assert info.value.code == "SHOPIFY_AUTH"
    assert info.value.status == 401
    assert counted_sim.graphql_requests() == 1
    assert shopify.sleep.waits == []


async def test_wrong_domain_is_not_found_and_not_retried(counted_sim):
    async with client_for(counted_sim, domain="no-such-shop.myshopify.com") as shopify:
        with pytest.raises(ShopifyNotFound) as info:
            await shopify.query(SHOP_QUERY)
    assert info.value.code == "SHOPIFY_NOT_FOUND"
    assert "no-such-shop.myshopify.com" in str(info.value)
    assert counted_sim.graphql_requests() == 1
    assert shopify.sleep.waits == []


async def test_unknown_api_version_is_not_found(counted_sim):
    async with client_for(counted_sim, api_version="1999-01") as shopify:
        with pytest.raises(ShopifyNotFound) as info:
            await shopify.query(SHOP_QUERY)
    assert "1999-01" in str(info.value)
    assert counted_sim.graphql_requests() == 1


async def test_bad_domain_string_fails_before_any_request(sim):
    before = len(sim.shop.calls)
    with pytest.raises(ShopifyInputError) as info:
        ShopifyClient("zari-demo.example.com", sim.token, base_url=sim.url)
    assert info.value.code == "INVALID_SHOP_DOMAIN"
    assert len(sim.shop.calls) == before


async def test_invalid_document_is_graphql_error_not_retried(sim):
    before = len(sim.shop.calls)
    async with client_for(sim) as shopify:
        with pytest.raises(ShopifyGraphQLError) as info:
            await shopify.query("query { shop { noSuchField } }")
    assert "noSuchField" in str(info.value)
    assert info.value.errors
    assert len(sim.shop.calls) - before == 1
    assert shopify.sleep.waits == []


async def test_syntax_error_is_caught_locally(sim):
    before = len(sim.shop.calls)
    async with client_for(sim) as shopify:
        with pytest.raises(ShopifyGraphQLError):
            await shopify.query("query { shop { name }")
    assert len(sim.shop.calls) == before


async def test_query_and_mutate_refuse_the_wrong_operation_kind(sim):
    async with client_for(sim) as shopify:
        with pytest.raises(ShopifyInputError):
            await shopify.query("mutation { bulkOperationCancel(id: 1) { userErrors { message } } }")
        with pytest.raises(ShopifyInputError):
            await shopify.mutate(SHOP_QUERY)


async def test_api_version_is_in_the_path(sim):
    async with client_for(sim) as shopify:
        assert f"/admin/api/{API_VERSION}/graphql.json" in shopify.endpoint
        await shopify.query(SHOP_QUERY)


def _texts(exc: BaseException) -> list[str]:
    """str and repr of an exception and everything chained to it."""
    out = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out += [str(exc), repr(exc), repr(getattr(exc, "args", ""))]
        exc = exc.__cause__ or exc.__context__
    return out


async def test_token_never_in_logs_or_errors(sim, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, including gql's and httpx's
    wrong = "shpat_wrong_token_must_not_leak"
    errors: list[ShopifyError] = []

    async with client_for(sim) as shopify:
        await shopify.query(SHOP_QUERY)
        assert sim.token not in repr(shopify) and sim.token not in str(shopify)
        sim.shop.faults.fail_next(3, status=503)
        shopify.max_attempts = 2
        try:
            await shopify.query(SHOP_QUERY)
        except ShopifyUnavailable as exc:
            errors.append(exc)
        try:
            await shopify.query("query { shop { noSuchField } }")
        except ShopifyGraphQLError as exc:
            errors.append(exc)
    sim.shop.faults.reset()
    async with client_for(sim, token=wrong) as shopify:
        assert wrong not in repr(shopify)
        try:
            await shopify.query(SHOP_QUERY)
        except ShopifyAuthError as exc:
            errors.append(exc)

    assert len(errors) == 3
    assert any("ShopName" in r.getMessage() for r in caplog.records if r.name == "shopify.client")
    for secret in (sim.token, wrong):
        assert secret not in caplog.text
        for exc in errors:
            assert all(secret not in text for text in _texts(exc))
