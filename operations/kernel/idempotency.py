"""Idempotent creating operations: a repeated key returns the first result.

The key is claimed inside the operation's transaction, in a savepoint so a unique-violation on
PostgreSQL does not abort the outer transaction. A concurrent duplicate waits on the unique
index until the first commits, then reads its result.
"""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.idempotency import IdempotentRequest
from operations.kernel.errors import ErrorCode, OperationError, Problems
from operations.kernel.transactions import Transaction


def fingerprint(request: Any) -> str:
    return hashlib.sha256(orjson.dumps(request, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def run_once(
    tx: Transaction,
    operation: str,
    key: str | None,
    request: Any,
    create: Callable[[], Awaitable[Any]],
    load: Callable[[int], Awaitable[Any]],
) -> tuple[Any, bool]:
    """Returns (result, replayed). Without a key the operation simply runs."""
    if key is None:
        return await create(), False
    _check_key(key)
    request_hash = fingerprint(request)
    earlier = await IdempotentRequest.get_or_none(operation=operation, key=key)
    if earlier is None:
        try:
            async with in_transaction():  # savepoint
                claim = await IdempotentRequest.create(
                    operation=operation, key=key, request_hash=request_hash, result_type=operation, result_id=0
                )
        except IntegrityError:
            earlier = await IdempotentRequest.get(operation=operation, key=key)
        else:
            result = await create()
            claim.result_id = result.id
            await claim.save(update_fields=["result_id"])
            return result, False
    _same_request(earlier, request_hash, operation)
    return await load(earlier.result_id), True


async def replay(operation: str, key: str | None, request: Any, load: Callable[[int], Awaitable[Any]]) -> Any | None:
    """The first result of an earlier request under this key, or None (no key, or the key is new).

    For operations that call Shopify before their transaction: a repeat is answered before anything is
    sent or checked again. Their transaction still claims the key with `run_once`, which settles two
    requests that raced past this look."""
    if key is None:
        return None
    _check_key(key)
    earlier = await IdempotentRequest.get_or_none(operation=operation, key=key)
    if earlier is None:
        return None
    _same_request(earlier, fingerprint(request), operation)
    return await load(earlier.result_id)


def _check_key(key: str) -> None:
    problems = Problems()
    problems.check_key(key)
    problems.raise_if_any()


def _same_request(earlier: IdempotentRequest, request_hash: str, operation: str) -> None:
    if earlier.request_hash != request_hash:
        raise OperationError.single(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"this idempotencyKey was already used for a different {operation} request",
            "idempotencyKey",
        )


async def earlier_document(model: Any, key: str, request_hash: str, what: str, field: str = "idempotencyKey"):
    """A document (sale, return) already made under this key, or None.

    The same key with a different request is a client bug, not a retry: refused."""
    doc = await model.get_or_none(idempotency_key=key)
    if doc is not None and doc.request_hash != request_hash:
        raise OperationError.single(
            ErrorCode.IDEMPOTENCY_KEY_REUSED, f"this key was already used for a different {what}", field
        )
    return doc


async def first_or_run(
    model: Any,
    key: str,
    request_hash: str,
    what: str,
    run: Callable[[], Awaitable[Any]],
    field: str = "idempotencyKey",
    *,
    checked: bool = False,
) -> tuple[Any, bool]:
    """Run `run` (which inserts the document under the unique key), or return the first result.

    A concurrent retry that commits first makes our insert fail on the unique index; its
    document is then the answer. Returns (document, replayed). `checked`: the caller has just
    looked the key up with `earlier_document` and found nothing, so it is not read again first."""
    if not checked and (earlier := await earlier_document(model, key, request_hash, what, field)) is not None:
        return earlier, True
    try:
        return await run(), False
    except IntegrityError:
        if (earlier := await earlier_document(model, key, request_hash, what, field)) is None:
            raise
        return earlier, True
