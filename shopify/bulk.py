"""Client-side helpers for Shopify bulk query operations (start, poll, download the JSONL result).

A bulk job either COMPLETES with a result file or it does not; FAILED/CANCELED/EXPIRED are raised as
``BulkOperationFailed`` and never returned, so an importer cannot mistake a partial file for a full
catalogue. The result file can be large (hundreds of MB for a big shop): it is streamed to disk in
fixed-size chunks and written under a temporary name, so a crash never leaves a truncated file that
looks complete.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from shopify.errors import (
    BulkOperationFailed,
    BulkResultExpired,
    BulkWaitTimeout,
    ShopifyError,
    ShopifyInputError,
    ShopifyNotFound,
    ShopifyUnavailable,
)
from shopify.throttle import parse_retry_after

if TYPE_CHECKING:
    from shopify.client import ShopifyClient

CHUNK_SIZE = 256 * 1024

FINISHED_OK = "COMPLETED"
FINISHED_BAD = frozenset({"FAILED", "CANCELED", "EXPIRED"})

_FIELDS = "id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt"

RUN_BULK_QUERY = f"""
mutation BranchlineBulkQuery($query: String!, $groupObjects: Boolean!) {{
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {{
    bulkOperation {{ {_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

BULK_OPERATION = f"""
query BranchlineBulkOperation($id: ID!) {{
  node(id: $id) {{ ... on BulkOperation {{ {_FIELDS} }} }}
}}
"""


def _int(value: Any) -> int | None:
    # UnsignedInt64 is serialised as a JSON string ("2"); accept numbers too.
    if value is None or value == "":
        return None
    return int(value)


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    error_code: str | None
    object_count: int
    root_object_count: int
    file_size: int | None
    url: str | None
    partial_data_url: str | None
    created_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> BulkOperation:
        return cls(
            id=node["id"],
            status=node["status"],
            error_code=node.get("errorCode"),
            object_count=_int(node.get("objectCount")) or 0,
            root_object_count=_int(node.get("rootObjectCount")) or 0,
            file_size=_int(node.get("fileSize")),
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
            created_at=_datetime(node.get("createdAt")),
            completed_at=_datetime(node.get("completedAt")),
        )

    @property
    def finished(self) -> bool:
        return self.status == FINISHED_OK or self.status in FINISHED_BAD


async def run_bulk_query(client: ShopifyClient, inner_query: str, *, group_objects: bool = False) -> BulkOperation:
    """Start a bulk query. Raises ``ShopifyUserErrors`` (INVALID, OPERATION_IN_PROGRESS, LIMIT_REACHED).

    ``group_objects=False`` (the 2026-01+ default) is faster, but children are not guaranteed to follow
    their parent in the file: join on ``__parentId``.
    """
    from shopify.client import payload

    if not isinstance(inner_query, str) or not inner_query.strip():
        raise ShopifyInputError("bulk query is empty")
    data = await client.mutate(RUN_BULK_QUERY, {"query": inner_query, "groupObjects": group_objects})
    result = payload(data, "bulkOperationRunQuery")
    if not result.get("bulkOperation"):
        raise ShopifyError("bulkOperationRunQuery returned neither an operation nor userErrors")
    return BulkOperation.from_node(result["bulkOperation"])


async def bulk_operation(client: ShopifyClient, operation_id: str) -> BulkOperation:
    """Read one bulk operation by id (``node``, which every API version supports)."""
    data = await client.query(BULK_OPERATION, {"id": operation_id})
    node = data.get("node")
    if not node or "status" not in node:
        raise ShopifyNotFound(f"bulk operation {operation_id} was not found on {client.shop_domain}")
    return BulkOperation.from_node(node)


async def wait_for_bulk(
    client: ShopifyClient,
    operation_id: str,
    *,
    poll_interval: float = 1.0,
    max_interval: float = 10.0,
    timeout: float = 3600,  # noqa: ASYNC109 - a polling budget, not a cancel scope
) -> BulkOperation:
    """Poll until the job is COMPLETED and return it; raise for every other final state.

    The interval grows by half each poll up to ``max_interval``: short jobs are noticed quickly, long
    ones cost few points. (Subscribing to ``bulk_operations/finish`` can replace polling; this is the
    fallback that always works.)
    """
    started = time.monotonic()
    slept = 0.0
    interval = poll_interval
    while True:
        operation = await bulk_operation(client, operation_id)
        if operation.status == FINISHED_OK:
            return operation
        if operation.status == "EXPIRED":
            raise BulkResultExpired(f"bulk operation {operation.id} result has expired; run it again", operation)
        if operation.status in FINISHED_BAD:
            raise BulkOperationFailed(operation)
        # Count injected (fake) sleeps as elapsed time too, so tests can exercise the timeout.
        elapsed = max(slept, time.monotonic() - started)
        if elapsed >= timeout:
            raise BulkWaitTimeout(operation, elapsed)
        delay = min(interval, timeout - elapsed)
        await client.sleep(delay)
        slept += delay
        interval = min(max_interval, interval * 1.5)


async def download(client: ShopifyClient, url: str | None, dest: Path) -> int:
    """Stream the result file at ``url`` to ``dest``; return the number of bytes written.

    Uses a separate httpx client without Shopify headers (the URL is a signed cloud-storage link and
    must not receive the token). 5xx, 429, timeouts and dropped connections are retried from the
    start with backoff; 401/403/404/410 mean the signed URL has expired (``BulkResultExpired``).
    """
    if not url:
        raise ShopifyInputError("no result URL to download (a COMPLETED job with no objects has none)")
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    storage = client.storage_client()
    reason = "unknown"
    status: int | None = None
    for attempt in range(1, client.max_attempts + 1):
        wait: float | None = None
        try:
            async with storage.stream("GET", url) as response:
                status = response.status_code
                if status in (401, 403, 404, 410):
                    raise BulkResultExpired(f"bulk result URL answered HTTP {status}; it has expired, run the job")
                if status == 429 or status >= 500:
                    reason = f"HTTP {status}"
                    wait = parse_retry_after(response.headers.get("retry-after"))
                elif status >= 400:
                    raise BulkOperationFailed(None, f"bulk result download failed with HTTP {status}")
                else:
                    return await _save(response, part, dest)
        except httpx.TransportError as exc:  # timeouts, resets, DNS
            reason = type(exc).__name__
            status = None
        if attempt < client.max_attempts:
            await client.sleep(wait if wait is not None else client.backoff(attempt))
    raise ShopifyUnavailable(
        f"bulk result download failed after {client.max_attempts} attempts; last failure: {reason}",
        attempts=client.max_attempts,
        last_status=status,
    )


async def _save(response: httpx.Response, part: Path, dest: Path) -> int:
    """Write the body chunk by chunk to ``part``, then rename it over ``dest``; never leave ``part`` behind."""
    written = 0
    try:
        async with await anyio.open_file(part, "wb") as fh:
            async for chunk in response.aiter_bytes(CHUNK_SIZE):
                await fh.write(chunk)
                written += len(chunk)
        await anyio.Path(part).replace(dest)
    except BaseException:
        await anyio.Path(part).unlink(missing_ok=True)
        raise
    return written
