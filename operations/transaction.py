"""One database transaction per operation, with live events published only after commit.

A rolled-back change is never announced: events are collected while the transaction runs and
handed to the bus after it commits. Publishing failures are logged, not raised — the change is
committed and clients recover any gap from the ledger by sequence (DESIGN §4).
"""

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


@asynccontextmanager
async def transaction() -> AsyncIterator[Transaction]:
    """The operation's transaction. Opened inside another one (an operation calling another), it is
    a savepoint whose events join the outer transaction's: they go out when the OUTER one commits,
    not when the savepoint is released (the outer one may still roll back)."""
    outer = _outer.get()
    async with in_transaction() as conn:
        tx = Transaction(conn, events=outer.events if outer is not None else [])
        token = _outer.set(tx)
        try:
            yield tx
        finally:
            _outer.reset(token)
    if outer is None:  # only reached when the outermost block committed
        await live.publish_many(tx.events)
