"""One database transaction per operation, with live events published only after commit.

A rolled-back change is never announced: events are collected while the transaction runs and
handed to the bus after it commits. Publishing failures are logged, not raised — the change is
committed and clients recover any gap from the ledger by sequence (docs/architecture.md, Live events).
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from subscriptions import live

log = logging.getLogger(__name__)


@dataclass
class Transaction:
    conn: BaseDBAsyncClient
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish_after_commit(self, channel: str, event: dict[str, Any]) -> None:
        self.events.append((channel, event))


_outer: ContextVar[Transaction | None] = ContextVar("branchline_transaction", default=None)


def within_transaction() -> bool:
    return _outer.get() is not None


@asynccontextmanager
async def transaction() -> AsyncIterator[Transaction]:
    """The operation's transaction. Opened inside another one (an operation calling another), it is
    a savepoint whose events join the outer transaction's: they go out when the OUTER one commits,
    not when the savepoint is released (the outer one may still roll back)."""
    outer = _outer.get()
    async with _cancel_safe(in_transaction()) as conn:
        tx = Transaction(conn, events=outer.events if outer is not None else [])
        token = _outer.set(tx)
        try:
            yield tx
        finally:
            _outer.reset(token)
    if outer is None:  # only reached when the outermost block committed
        await live.publish_many(tx.events)


@asynccontextmanager
async def _cancel_safe(context) -> AsyncIterator[BaseDBAsyncClient]:
    """Tortoise's transaction context, made safe against a caller cancelled while it begins.

    Tortoise takes the connection's lock (SQLite: the one connection) or a pool connection (PostgreSQL),
    sets its context variable, then sends BEGIN, all inside `__aenter__`. A cancellation during BEGIN (a
    client gone, a worker stopping, a timeout) leaves `__aenter__` with the lock held and no `__aexit__`
    to release it: on SQLite every later transaction then waits for ever (reproduced: the first cancelled
    transaction wedged the database), on PostgreSQL a pool connection is lost. Once the context variable
    is set, `__aexit__` can undo all of it, so a cancelled beginning is rolled back and released here.
    (A cancellation during `__aexit__` is safe already: Tortoise releases in `finally`, and the commit or
    rollback it was waiting for still runs, in order, on the connection.)"""
    try:
        conn = await context.__aenter__()
    except asyncio.CancelledError as cancelled:
        if getattr(context, "token", None) is not None:  # past the lock: undo what was taken
            try:
                await context.__aexit__(asyncio.CancelledError, cancelled, cancelled.__traceback__)
            except Exception as error:  # BEGIN may not have run: nothing to roll back
                log.debug("rolling back a transaction cancelled while it began: %s", error)
        raise
    try:
        yield conn
    except BaseException as error:
        if not await context.__aexit__(type(error), error, error.__traceback__):
            raise
    else:
        await context.__aexit__(None, None, None)
