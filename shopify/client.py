"""Branchline's client for the Shopify Admin GraphQL API.

Built on gql's httpx transport. What this module adds on top of "POST a document":

* pacing against Shopify's cost bucket *before* sending (``shopify.throttle``), so steady-state calls
  are never refused, plus retry after ``THROTTLED`` when they are anyway (other processes share the bucket);
* a retry policy that knows which failures can heal (429, 5xx, timeouts, dropped connections) and
  which cannot (401/403, 404, 402/423, invalid documents), with exponential backoff and full jitter;
* ``@idempotent(key:)`` on mutations, and a refusal to blindly resend a *keyless* mutation after an
  ambiguous failure (it may have been applied; resending could double a stock movement);
* errors with stable codes and without credentials in them (``shopify.errors``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportProtocolError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import GraphQLError, OperationType, parse, print_ast
from graphql.language import ast

from shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyInputError,
    ShopifyNotFound,
    ShopifyShopUnavailable,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from shopify.throttle import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DEFAULT_COST,
    CostBucket,
    ThrottleStatus,
    backoff_delay,
    parse_retry_after,
    requested_cost,
)

if TYPE_CHECKING:
    from shopify.bulk import BulkOperation

API_VERSION = "2026-10"

log = logging.getLogger("shopify.client")

_SHOP_SUFFIX = ".myshopify.com"
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_THROTTLE_JITTER = 0.05  # seconds; de-synchronises callers woken by the same THROTTLED answer
_RETRY_AFTER_CAP = 300.0  # never park a worker longer than this on one Retry-After


def validate_shop_domain(domain: str) -> str:
    """Normalise a shop's permanent domain (``zari-demo.myshopify.com``) or raise ``ShopifyInputError``.

    Accepts what merchants paste (``https://Zari-Demo.myshopify.com/``). Rejects custom storefront
    domains and anything with a path, port or extra label: the token must only ever be sent to
    ``*.myshopify.com``, so a typo must fail here, before any request.
    """
    if not isinstance(domain, str) or not domain.strip():
        raise ShopifyInputError("shop domain is empty; expected <shop>.myshopify.com", code="INVALID_SHOP_DOMAIN")
    shown = repr(domain[:100])
    value = domain.strip().lower()
    for scheme in ("https://", "http://"):
        if value.startswith(scheme):
            value = value[len(scheme) :]
    value = value.rstrip("/")
    if not value.endswith(_SHOP_SUFFIX):
        raise ShopifyInputError(
            f"{shown} is not a Shopify shop domain; expected <shop>.myshopify.com (not the storefront domain)",
            code="INVALID_SHOP_DOMAIN",
        )
    if not _SUBDOMAIN.fullmatch(value[: -len(_SHOP_SUFFIX)]):
        raise ShopifyInputError(
            f"{shown} has an invalid shop name; use letters, digits and hyphens before .myshopify.com",
            code="INVALID_SHOP_DOMAIN",
        )
    return value


def payload(data: dict[str, Any], field: str) -> dict[str, Any]:
    """The payload of mutation ``field`` from ``data``; raises ``ShopifyUserErrors`` if it reports any.

    Shopify reports business-rule failures in ``userErrors`` (``orderCancelUserErrors`` for
    ``orderCancel``, and similar ``*UserErrors`` elsewhere) with HTTP 200, so they must be checked
    on every mutation or a rejected change looks like a success.
    """
    result = data.get(field) if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise ShopifyGraphQLError(f"response has no {field!r} payload", data=data)
    raw_errors: list[dict[str, Any]] = []
    for key, value in result.items():
        if (key == "userErrors" or key.endswith("UserErrors")) and value:
            raw_errors.extend(value)
    if raw_errors:
        raise ShopifyUserErrors([UserError.from_dict(e) for e in raw_errors], field=field)
    return result


def add_idempotency_key(document: str, key: str) -> str:
    """Return ``document`` with ``@idempotent(key: "<key>")`` on its mutation's top-level field.

    The AST is edited rather than the text so that arguments, aliases and comments cannot confuse
    where the directive goes; the key is a string literal (not a variable) because that is the form
    Shopify documents.
    """
    if not isinstance(key, str) or not key.strip():
        raise ShopifyInputError("idempotency_key must be a non-empty string", code="INVALID_IDEMPOTENCY_KEY")
    doc = _parse(document)
    operations = [d for d in doc.definitions if isinstance(d, ast.OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        raise ShopifyInputError("an idempotency key needs a document with exactly one mutation operation")
    operation = operations[0]
    fields = operation.selection_set.selections
    if len(fields) != 1 or not isinstance(fields[0], ast.FieldNode):
        raise ShopifyInputError("an idempotency key needs a mutation with exactly one top-level field")
    field = fields[0]
    if any(d.name.value == "idempotent" for d in field.directives or ()):
        raise ShopifyInputError("the mutation already has @idempotent; pass the key in one place only")
    directive = ast.DirectiveNode(
        name=ast.NameNode(value="idempotent"),
        arguments=(ast.ArgumentNode(name=ast.NameNode(value="key"), value=ast.StringValueNode(value=key)),),
    )
    # graphql-core 3.3 AST nodes are frozen dataclasses: rebuild the path from the field up.
    new_field = dataclasses.replace(field, directives=(*(field.directives or ()), directive))
    new_selection = dataclasses.replace(operation.selection_set, selections=(new_field,))
    new_operation = dataclasses.replace(operation, selection_set=new_selection)
    definitions = tuple(new_operation if d is operation else d for d in doc.definitions)
    return print_ast(dataclasses.replace(doc, definitions=definitions))


def _parse(document: str) -> ast.DocumentNode:
    try:
        return parse(document)
    except GraphQLError as exc:
        raise ShopifyGraphQLError(f"invalid GraphQL document: {exc.message}") from None


def _operation(doc: ast.DocumentNode) -> tuple[OperationType, str]:
    operations = [d for d in doc.definitions if isinstance(d, ast.OperationDefinitionNode)]
    if len(operations) != 1:
        raise ShopifyInputError(f"send one operation per document (found {len(operations)})")
    op = operations[0]
    name = op.name.value if op.name else op.selection_set.selections[0].name.value  # type: ignore[union-attr]
    return op.operation, name


def _codes(body: Any) -> set[str]:
    """``extensions.code`` of every error in a GraphQL response body."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return set()
    return {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}


class _HTTPStatus(Exception):
    """Raised from the httpx response hook so the status survives gql's exception wrapping."""

    def __init__(self, status: int, retry_after: str | None, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.body = body


async def _raise_for_status(response: httpx.Response) -> None:
    # gql happily returns the JSON body of a 4xx/5xx as a normal result and drops the status; checking
    # here is the only way to tell a 429 or 503 from a GraphQL error and to read Retry-After.
    if response.status_code < 400:
        return
    await response.aread()
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = response.text[:500]
    raise _HTTPStatus(response.status_code, response.headers.get("retry-after"), body)


@dataclass
class _Failure:
    """One failed attempt that may be retried."""

    reason: str
    status: int | None = None
    wait: float | None = None  # a server-given wait (Retry-After); None means use backoff
    throttled: bool = False
    ambiguous: bool = False  # the request may have been executed


def _no_delay_transport() -> httpx.AsyncHTTPTransport:
    """httpx writes a request's headers and body separately; with Nagle's algorithm on, the body
    waits for the server's delayed ACK of the headers — about 40 ms added to every call."""
    return httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])


class ShopifyClient:
    """Async client for one shop. Use ``async with ShopifyClient(...) as shopify:`` or call ``aclose()``.

    Concurrent calls on one instance share the transport and one cost bucket; create one client per
    shop and reuse it rather than one per call, or the pacing cannot work.
    """

    def backoff(self, attempt: int) -> float:
        """The wait before retry `attempt` + 1 when Shopify gave none (Retry-After)."""
        return backoff_delay(attempt, self.rng, base=self.backoff_base, cap=self.backoff_cap)

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        base_url: str | None = None,
        api_version: str = API_VERSION,
        timeout: float = 10.0,
        max_attempts: int = 8,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.shop_domain = validate_shop_domain(shop_domain)
        if not isinstance(access_token, str) or not access_token.strip():
            raise ShopifyInputError("access token is empty", code="INVALID_ACCESS_TOKEN")
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", api_version):
            raise ShopifyInputError(f"api_version {api_version!r} is not YYYY-MM or 'unstable'")
        if max_attempts < 1:
            raise ShopifyInputError("max_attempts must be at least 1")
        self.__token = access_token
        self.api_version = api_version
        self.timeout = float(timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.rng = rng
        root = base_url.rstrip("/") if base_url else f"https://{self.shop_domain}"
        self.endpoint = f"{root}/admin/api/{api_version}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": access_token}
        if base_url:
            # Talking to a stand-in (simulator, proxy): name the shop the way DNS would have.
            self._headers["Host"] = self.shop_domain
        self.bucket = CostBucket(sleep)
        self._costs: dict[str, int] = {}
        self._gql: Client | None = None
        self._session: Any = None
        self._connect_lock = asyncio.Lock()
        self._storage: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"ShopifyClient(shop_domain={self.shop_domain!r}, api_version={self.api_version!r}, access_token='***')"

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> ShopifyClient:
        await self._connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _connect(self) -> Any:
        async with self._connect_lock:
            if self._session is None:
                transport = HTTPXAsyncTransport(
                    self.endpoint,
                    headers=self._headers,
                    timeout=httpx.Timeout(self.timeout),
                    event_hooks={"response": [_raise_for_status]},
                    json_deserialize=orjson.loads,
                    transport=_no_delay_transport(),
                )
                # No schema fetch: introspecting the Admin API costs points and time on every start.
                # execute_timeout bounds a whole attempt (httpx's timeout is per phase, not total).
                self._gql = Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=self.timeout)
                self._session = await self._gql.connect_async()
            return self._session

    async def aclose(self) -> None:
        async with self._connect_lock:
            if self._gql is not None and self._session is not None:
                await self._gql.close_async()
            self._gql = self._session = None
            if self._storage is not None:
                await self._storage.aclose()
                self._storage = None

    def storage_client(self) -> httpx.AsyncClient:
        """A plain httpx client for bulk result files: no Shopify headers, so the token never leaves
        for the cloud-storage host that serves the signed URL."""
        if self._storage is None:
            self._storage = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), follow_redirects=True, transport=_no_delay_transport()
            )
        return self._storage

    def scrub(self, text: str) -> str:
        """Remove the access token from text that came back from a server before it goes into an error."""
        return text.replace(self.__token, "***") if self.__token else text

    # -- public calls --------------------------------------------------------------------------------

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, *, cost_hint: int | None = None
    ) -> dict[str, Any]:
        """Run a query and return its ``data``.

        ``cost_hint`` is the expected requested cost; without it the client uses what Shopify charged
        for this document last time (or 50 the first time).
        """
        kind, name = _operation(_parse(document))
        if kind is not OperationType.QUERY:
            raise ShopifyInputError(f"query() got a {kind.value} ({name}); use mutate() for mutations")
        return await self._execute(
            document, document, variables, name=name, cost_hint=cost_hint, resend=True, unkeyed_mutation=False
        )

    async def mutate(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        retry_ambiguous: bool = True,
    ) -> dict[str, Any]:
        """Run a mutation and return its ``data`` (check it with ``payload(data, field)``).

        With ``idempotency_key`` the key is attached as ``@idempotent`` and every retry of this call
        resends the same key, so Shopify applies it at most once.

        Without a key, a failure after which the mutation may already have run (5xx, read timeout) is
        still retried by default: most of Shopify's keyless mutations refuse a repeat on their own
        (``orderCancel`` of a cancelled order, a second fulfillment of fulfilled lines). Pass
        ``retry_ambiguous=False`` for one that would not; such a failure then raises
        ``ShopifyUnavailable(maybe_applied=True)`` at once, for the caller to re-read state.
        """
        kind, name = _operation(_parse(document))
        if kind is not OperationType.MUTATION:
            raise ShopifyInputError(f"mutate() got a {kind.value} ({name}); use query() for queries")
        to_send = add_idempotency_key(document, idempotency_key) if idempotency_key is not None else document
        unkeyed = idempotency_key is None
        return await self._execute(
            to_send,
            document,
            variables,
            name=name,
            cost_hint=None,
            resend=not unkeyed or retry_ambiguous,
            unkeyed_mutation=unkeyed,
        )

    # -- bulk operations (implemented in shopify.bulk) ---------------------------------------------

    async def run_bulk_query(self, inner_query: str, *, group_objects: bool = False) -> BulkOperation:
        from shopify import bulk

        return await bulk.run_bulk_query(self, inner_query, group_objects=group_objects)

    async def bulk_operation(self, operation_id: str) -> BulkOperation:
        from shopify import bulk

        return await bulk.bulk_operation(self, operation_id)

    async def wait_for_bulk(
        self,
        operation_id: str,
        *,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
        timeout: float = 3600,  # noqa: ASYNC109 - a polling budget, not a cancel scope
    ) -> BulkOperation:
        from shopify import bulk

        return await bulk.wait_for_bulk(
            self, operation_id, poll_interval=poll_interval, max_interval=max_interval, timeout=timeout
        )

    async def download(self, url: str, dest: Path) -> int:
        from shopify import bulk

        return await bulk.download(self, url, dest)

    # -- the retry loop ------------------------------------------------------------------------------

    async def _execute(
        self,
        document: str,
        cost_key: str,
        variables: dict[str, Any] | None,
        *,
        name: str,
        cost_hint: int | None,
        resend: bool,
        unkeyed_mutation: bool,
    ) -> dict[str, Any]:
        """Send with pacing and retries. ``resend=False`` stops at the first ambiguous failure."""
        session = await self._connect()
        request = GraphQLRequest(document, variable_values=variables)
        extra_wait = 0.0
        last: _Failure | None = None
        throttled_cost: int | None = None
        maybe_applied = False  # a keyless mutation got an ambiguous failure at least once
        for attempt in range(1, self.max_attempts + 1):

            def expected(floor: int | None = throttled_cost) -> int:
                cost = cost_hint if cost_hint is not None else self._costs.get(cost_key, DEFAULT_COST)
                # After THROTTLED Shopify told us what this call needs; a hint that was too low must not loop us.
                return max(cost, floor) if floor is not None else cost

            ticket = await self.bucket.acquire(expected, extra_wait=extra_wait)
            extra_wait = 0.0
            log.debug("shopify call %s attempt=%d reserved_cost=%s", name, attempt, ticket.cost)
            extensions: Any = None
            try:
                try:
                    result = await session.execute(request, get_execution_result=True)
                    extensions = result.extensions
                    self._record_cost(cost_key, name, attempt, extensions)
                    return result.data
                except TransportQueryError as exc:
                    extensions = exc.extensions
                    self._record_cost(cost_key, name, attempt, extensions)
                    failure = self._query_error(exc, name)
                except TransportConnectionFailed as exc:
                    cause = exc.__cause__
                    if isinstance(cause, _HTTPStatus) and isinstance(cause.body, dict):
                        extensions = cause.body.get("extensions")
                    failure = self._connection_error(cause, name)
                except TimeoutError:
                    failure = _Failure(f"no answer within {self.timeout:g}s", ambiguous=True)
                except TransportProtocolError:
                    failure = _Failure("answer was not GraphQL JSON", ambiguous=True)
            finally:
                await self.bucket.release(ticket, ThrottleStatus.from_extensions(extensions))

            last = failure
            maybe_applied = maybe_applied or (failure.ambiguous and unkeyed_mutation)
            if failure.ambiguous and not resend:
                raise ShopifyUnavailable(
                    f"Shopify mutation {name} failed ambiguously ({failure.reason}); it may or may not have been"
                    " applied, so it was not resent. Re-read the state, or send it with an idempotency key.",
                    attempts=attempt,
                    last_status=failure.status,
                    maybe_applied=True,
                )
            if attempt == self.max_attempts:
                break
            if failure.throttled:
                throttled_cost = requested_cost(extensions) or throttled_cost
            if failure.wait is None and failure.throttled and ThrottleStatus.from_extensions(extensions):
                # The bucket now holds the server's reading and this call's requested cost, so the next
                # acquire() waits exactly (requested - available) / restoreRate; add a little jitter.
                extra_wait = self.rng() * _THROTTLE_JITTER
                log.debug("shopify call %s throttled; waiting for the bucket", name)
            else:
                # Retry-After when given, else backoff (also for a THROTTLED answer without a reading).
                delay = failure.wait if failure.wait is not None else self.backoff(attempt)
                log.debug("shopify %s attempt=%d failed (%s); retry in %.2fs", name, attempt, failure.reason, delay)
                if failure.ambiguous and unkeyed_mutation:
                    log.warning("shopify mutation %s has no idempotency key and may have run; resending it", name)
                await self.sleep(delay)
        assert last is not None
        raise ShopifyUnavailable(
            f"Shopify call {name} failed after {self.max_attempts} attempts; last failure: {last.reason}",
            attempts=self.max_attempts,
            last_status=last.status,
            maybe_applied=maybe_applied,
        )

    def _record_cost(self, cost_key: str, name: str, attempt: int, extensions: Any) -> None:
        cost = requested_cost(extensions)
        if cost is not None:
            self._costs[cost_key] = cost
        if log.isEnabledFor(logging.DEBUG) and isinstance(extensions, dict):
            info = extensions.get("cost") or {}
            available = (info.get("throttleStatus") or {}).get("currentlyAvailable")
            log.debug(
                "shopify call %s attempt=%d requested_cost=%s actual_cost=%s available=%s",
                name,
                attempt,
                info.get("requestedQueryCost"),
                info.get("actualQueryCost"),
                available,
            )

    def _query_error(self, exc: TransportQueryError, name: str) -> _Failure:
        """Classify a 200 answer with top-level ``errors``: throttled is retried, the rest raises."""
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in (exc.errors or [])]
        codes = _codes({"errors": errors})
        if "THROTTLED" in codes:
            return _Failure("throttled", throttled=True)
        if "INTERNAL_SERVER_ERROR" in codes:
            return _Failure("Shopify internal error", ambiguous=True)
        messages = "; ".join(self.scrub(str(e.get("message", ""))) for e in errors) or "unknown error"
        raise ShopifyGraphQLError(f"Shopify rejected {name}: {messages}", errors=errors, data=exc.data) from None

    def _connection_error(self, cause: BaseException | None, name: str) -> _Failure:
        """Classify transport failures: HTTP statuses from the hook, timeouts, network errors."""
        if isinstance(cause, _HTTPStatus):
            status = cause.status
            if status in (401, 403):
                raise ShopifyAuthError(
                    f"Shopify refused the access token for {self.shop_domain} (HTTP {status}): it is invalid,"
                    " revoked or lacks a scope; reconnect the shop",
                    status=status,
                ) from None
            if status == 404:
                raise ShopifyNotFound(
                    f"Shopify has no shop at {self.shop_domain} or does not serve API version"
                    f" {self.api_version} (HTTP 404)"
                ) from None
            if status in (402, 423):
                state = "frozen or unpaid" if status == 402 else "locked"
                raise ShopifyShopUnavailable(
                    f"shop {self.shop_domain} is {state} (HTTP {status}); calls will fail until the merchant"
                    " resolves it",
                    status=status,
                ) from None
            if status == 429:
                # Some report Shopify's THROTTLED answer arriving as 429; it then carries the bucket reading.
                wait = parse_retry_after(cause.retry_after)
                wait = min(wait, _RETRY_AFTER_CAP) if wait is not None else None
                return _Failure("HTTP 429", status=status, wait=wait, throttled="THROTTLED" in _codes(cause.body))
            if status >= 500:
                return _Failure(f"HTTP {status}", status=status, ambiguous=True)
            raise ShopifyGraphQLError(
                f"Shopify rejected {name} (HTTP {status}): {self._body_message(cause.body)}",
                errors=cause.body.get("errors") if isinstance(cause.body, dict) else None,
            ) from None
        if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError):
            # Nothing reached Shopify, so even a keyless mutation can be resent.
            return _Failure(type(cause).__name__)
        if isinstance(cause, httpx.TimeoutException):
            return _Failure(f"no answer within {self.timeout:g}s", ambiguous=True)
        return _Failure(type(cause).__name__ if cause else "connection failed", ambiguous=True)

    def _body_message(self, body: Any) -> str:
        if isinstance(body, dict):
            errors = body.get("errors")
            if isinstance(errors, list):
                parts = (str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
                return self.scrub("; ".join(parts))
            if isinstance(errors, str):
                return self.scrub(errors)
        return self.scrub(str(body)[:200])


__all__ = [
    "API_VERSION",
    "ShopifyClient",
    "ShopifyError",
    "add_idempotency_key",
    "payload",
    "validate_shop_domain",
]
