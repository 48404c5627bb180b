"""The Starlette app: the Admin GraphQL endpoint (auth, host, version, cost, throttling), bulk result downloads
and the /_sim/ test controls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, execute, parse, validate
from graphql.language import OperationDefinitionNode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .bulk import current_status, find_by_token
from .context import RequestContext
from .control import control_routes
from .cost import actual_cost, requested_cost
from .ids import parse_version
from .schema import schema_for

if TYPE_CHECKING:
    from .store import SimShop

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
_FAIL_BODIES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    429: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
}


def _json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _host_ok(shop: SimShop, request: Request) -> bool:
    host = request.headers.get("host", "")
    if host.startswith("["):
        host = host.split("]")[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host == shop.domain or host in LOCAL_HOSTS


def _cost_ext(shop: SimShop, requested: int, actual: int | None) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": shop.bucket.status(),
        }
    }


def _record(
    shop: SimShop, requested: int, actual: int | None, throttled: bool, operation: str | None, status: int = 200
) -> None:
    """One entry per request that reached the endpoint (401s and injected failures included)."""
    shop.calls.append(
        {
            "time": time.time(),
            "status": status,
            "requested": requested,
            "actual": actual,
            "throttled": throttled,
            "available": shop.bucket.available(),
            "operation": operation,
        }
    )
    if throttled:
        shop.throttled_calls += 1


async def _read_request(request: Request) -> tuple[str | None, dict, str | None]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/graphql"):
        return raw.decode(), {}, None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, {}, None
    if not isinstance(body, dict):
        return None, {}, None
    return body.get("query"), body.get("variables") or {}, body.get("operationName")


def graphql_endpoint(shop: SimShop):
    async def endpoint(request: Request) -> Response:
        version_str = request.path_params["version"]
        version = parse_version(version_str)
        if not _host_ok(shop, request) or version is None:
            return _json({"errors": "Not Found"}, 404)
        if request.headers.get("x-shopify-access-token") != shop.access_token:
            _record(shop, 0, None, False, None, 401)
            return _json({"errors": INVALID_TOKEN}, 401)
        headers = {"X-Shopify-API-Version": version_str, "X-Request-Id": f"sim-{len(shop.calls) + 1}"}
        fault = shop.faults.take_failure()
        if fault is not None:
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            _record(shop, 0, None, False, None, fault.status)
            return _json({"errors": _FAIL_BODIES[fault.status]}, fault.status, headers)
        query, variables, operation_name = await _read_request(request)
        if not query:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
        delay = shop.faults.take_delay()
        if delay and not shop.faults.delay_applies_first:
            await asyncio.sleep(delay)  # the client gives up before anything happened
            delay = 0.0
        body, status = _run_graphql(shop, version, version_str, query, variables, operation_name)
        if delay:
            await asyncio.sleep(delay)  # applied, but the answer arrives too late
        return _json(body, status, headers)

    return endpoint


def _max_cost_error(shop: SimShop, cost: int) -> dict:
    limit = shop.config.max_query_cost
    message = (
        f"Query cost is {cost}, which exceeds the single query max cost limit ({limit}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    )
    return {
        "message": message,
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": limit, "documentation": RATE_LIMIT_DOCS},
    }


def _run_graphql(
    shop: SimShop, version: tuple, version_str: str, query: str, variables: dict, operation_name: str | None
) -> tuple[dict, int]:
    schema = schema_for(version)
    try:
        document = parse(query)
    except GraphQLError as exc:
        _record(shop, 0, 0, False, operation_name)
        return {"errors": [exc.formatted], "extensions": _cost_ext(shop, 0, 0)}, 200
    errors = validate(schema, document)
    if errors:
        _record(shop, 0, 0, False, operation_name)
        return {"errors": [e.formatted for e in errors], "extensions": _cost_ext(shop, 0, 0)}, 200
    requested = requested_cost(schema, document, operation_name, variables)
    if requested > shop.config.max_query_cost:
        _record(shop, requested, None, False, operation_name)
        return {"errors": [_max_cost_error(shop, requested)], "extensions": _cost_ext(shop, requested, None)}, 200
    if shop.faults.take_throttle() or requested > shop.bucket.available():
        _record(shop, requested, None, True, operation_name, shop.config.throttled_http_status)
        error = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}
        body = {"errors": [error], "extensions": _cost_ext(shop, requested, None)}
        return body, shop.config.throttled_http_status
    shop.bucket.take(requested)
    ctx = RequestContext(shop, version, version_str)
    result = execute(schema, document, variable_values=variables, operation_name=operation_name, context_value=ctx)
    op = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
    is_mutation = op is not None and op.operation.value == "mutation"
    actual = min(actual_cost(result.data, is_mutation), requested) if result.data is not None else 0
    shop.bucket.give(requested - actual)
    _record(shop, requested, actual, False, operation_name)
    body: dict = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    body["extensions"] = _cost_ext(shop, requested, actual)
    return body, 200


def bulk_download(shop: SimShop):
    async def endpoint(request: Request) -> Response:
        op = find_by_token(shop, request.path_params["token"])
        if op is None or op.path is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.", "")
        failure = shop.faults.take_download_failure()
        if failure == 410:
            return _xml_error(410, "Gone", "The object is gone.", "")
        if failure is not None:
            return _xml_error(failure, "InternalError", "We encountered an internal error. Please try again.", "")
        if op.expires_at is not None and time.time() > op.expires_at:
            current_status(shop, op)
            expired = datetime.fromtimestamp(op.expires_at, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
            return _xml_error(403, "ExpiredToken", "Invalid argument.", f"Request signature expired at: {expired}")
        return FileResponse(op.path, media_type="application/jsonl", filename=f"bulk-{op.id}.jsonl")

    return endpoint


def _xml_error(status: int, code: str, message: str, details: str) -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message><Details>{details}</Details></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def create_simulator_app(shop: SimShop, *, public_url: str | None = None) -> Starlette:
    """The simulator as an ASGI app. Webhook delivery runs while the app's lifespan is active."""
    if public_url is not None:
        shop.public_url = public_url

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        await shop.webhooks.start()
        try:
            yield
        finally:
            for task in list(getattr(shop, "_bulk_tasks", ())):
                task.cancel()
            await shop.webhooks.stop()

    routes = [
        Route("/admin/api/{version}/graphql.json", graphql_endpoint(shop), methods=["POST"]),
        Route("/bulk-results/{token}.jsonl", bulk_download(shop), methods=["GET"]),
        *control_routes(shop),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.shop = shop
    return app
