"""The generated client's transport, on gql (copied into branchline_client/generated/ by ariadne-codegen;
edit this file, never the copy, then run scripts/generate-client).

HTTP through httpx with the token in `Authorization`; subscriptions over graphql-transport-ws (pinned:
gql's default would pick the legacy protocol, where Branchline refuses queries) with the token in
connection_init. Network errors and 5xx answers are retried with backoff; business errors never are
(they come back as data: each payload's `errors`). GraphQL errors (not signed in, not allowed, a bug)
raise `BranchlineError` with the server's code.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportClosed,
    TransportConnectionFailed,
    TransportError,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ..errors import AUTH_CODES, AuthError, BranchlineError, ConnectionLost
from .base_model import UNSET

T = TypeVar("T")
IDEMPOTENCY_KEY = "idempotencyKey"


def with_idempotency_keys(variables: dict[str, Any]) -> dict[str, Any]:
    """An input object that takes `idempotencyKey` and was given none gets a fresh one: made once per call,
    so every retry of that call sends the same key and the server applies it at most once."""
    out = {}
    for name, value in variables.items():
        if isinstance(value, dict) and IDEMPOTENCY_KEY in value and value[IDEMPOTENCY_KEY] is None:
            value = {**value, IDEMPOTENCY_KEY: str(uuid.uuid4())}
        out[name] = value
    return out


def _alias_names(cls: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in cls.model_fields.items()}


def to_variables(variables: dict[str, Any] | None) -> dict[str, Any]:
    """Pydantic inputs, dates, decimals → JSON values (inputs keep their GraphQL names). Unset input fields
    stay out, so the server's defaults apply."""

    def convert(value: Any) -> Any:
        if isinstance(value, BaseModel):
            # The idempotency key is kept even when unset (None): it marks where one must be made.
            dumped = value.model_dump(by_alias=True, exclude_unset=True, mode="json")
            if IDEMPOTENCY_KEY in _alias_names(type(value)):
                dumped.setdefault(IDEMPOTENCY_KEY, None)
            return dumped
        if isinstance(value, list):
            return [convert(item) for item in value]
        return to_jsonable_python(value)

    given = {name: value for name, value in (variables or {}).items() if value is not UNSET}
    return with_idempotency_keys({name: convert(value) for name, value in given.items()})


def is_retryable(error: BaseException) -> bool:
    """Network trouble and 5xx: the request may not have reached the server, or it broke there; with the same
    idempotency key a retry is safe. A 4xx or a GraphQL error would only be refused again."""
    if isinstance(error, TransportServerError):
        return error.code is None or error.code >= 500
    return isinstance(error, httpx.TransportError | TransportConnectionFailed | TransportClosed | OSError)


def raise_graphql_error(error: TransportQueryError) -> None:
    first = (error.errors or [{}])[0]
    code = (first.get("extensions") or {}).get("code") or "INTERNAL_SERVER_ERROR"
    kind = AuthError if code in AUTH_CODES else BranchlineError
    raise kind(
        code=code, message=first.get("message") or str(error), path=first.get("path"), errors=error.errors or []
    ) from error


class GqlBaseClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        ws_url: str | None = None,
        retries: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """`url` is the GraphQL endpoint (https://pos.example.pk/graphql); `ws_url` defaults to it with ws(s)://."""
        self.url = url
        self.ws_url = ws_url or ("ws" + url.removeprefix("http") if url.startswith("http") else url)
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._http: Client | None = None
        self._session: Any = None

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the HTTP connections (`async with` does it for you)."""
        http, self._http, self._session = self._http, None, None
        if http is not None:
            await http.close_async()

    async def _http_session(self) -> Any:
        # One connection pool for the client's life; the token goes per request, so sign_in takes effect at once.
        if self._session is None:
            self._http = Client(
                transport=HTTPXAsyncTransport(url=self.url, headers=self.headers, timeout=self.timeout),
                execute_timeout=self.timeout,
            )
            self._session = await self._http.connect_async()
        return self._session

    def _http_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def _retrying(self, attempt: Callable[[], Any]) -> Any:
        for tries in range(self.retries + 1):
            try:
                return await attempt()
            except TransportQueryError as error:
                raise_graphql_error(error)
            except (TransportError, httpx.HTTPError, OSError) as error:
                if tries == self.retries or not is_retryable(error):
                    if isinstance(error, TransportServerError):
                        raise BranchlineError(code=f"HTTP_{error.code}", message=str(error)) from error
                    raise ConnectionLost(str(error) or type(error).__name__) from error
                delay = min(self.max_backoff, self.backoff * 2**tries)
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    async def execute(
        self, query: str, operation_name: str | None = None, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        request = GraphQLRequest(query, variable_values=to_variables(variables), operation_name=operation_name)

        async def attempt() -> dict[str, Any]:
            session = await self._http_session()
            answer: dict[str, Any] = await session.execute(
                request, extra_args={"headers": self._http_headers()}, **kwargs
            )
            return answer

        return await self._retrying(attempt)

    def get_data(self, response: dict[str, Any]) -> dict[str, Any]:
        return response  # gql has raised on `errors` already (execute turns them into BranchlineError)

    def ws_transport(self) -> WebsocketsTransport:
        return WebsocketsTransport(
            url=self.ws_url,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # graphql-transport-ws, not the legacy one
            init_payload={"authToken": self.token} if self.token else {},
            headers=self.headers,
            ping_interval=20,
            pong_timeout=20,
        )

    async def execute_ws(
        self, query: str, operation_name: str | None = None, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """One socket per subscription. A lost connection raises ConnectionLost (no silent reconnect: what was
        missed meanwhile is the caller's to fetch; BranchlineClient.live_stock does it for stock)."""
        request = GraphQLRequest(query, variable_values=to_variables(variables), operation_name=operation_name)
        try:
            async with Client(transport=self.ws_transport()) as session:
                async for data in session.subscribe(request, **kwargs):
                    yield data
        except TransportQueryError as error:
            raise_graphql_error(error)
        except TransportProtocolError as error:
            raise BranchlineError(code="PROTOCOL_ERROR", message=str(error)) from error
        except (TransportError, OSError) as error:
            raise ConnectionLost(str(error) or type(error).__name__) from error
