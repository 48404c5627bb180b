"""Raw SQL on the current Tortoise connection, the same text on SQLite and PostgreSQL.

The ledger's hot path is a handful of guarded statements with RETURNING; Tortoise's query
builder cannot express `UPDATE ... WHERE <guard> RETURNING`, and its `execute_query` drops
RETURNING rows on asyncpg. Statements here are written with `?` placeholders and rewritten to
`$n` for PostgreSQL.
"""

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

_PLACEHOLDER = re.compile(r"\?")


def is_sqlite(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "sqlite"


def _for_dialect(conn: BaseDBAsyncClient, sql: str) -> str:
    return sql if is_sqlite(conn) else _numbered(sql)


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    # The ledger's statements repeat: rewrite each text once, not on every call.
    counter = iter(range(1, 100_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


def db_time(conn: BaseDBAsyncClient, value: datetime) -> Any:
    """SQLite keeps Tortoise datetimes as ISO text; asyncpg wants the datetime itself."""
    return value.isoformat(sep=" ") if is_sqlite(conn) else value


async def fetch(conn: BaseDBAsyncClient, sql: str, values: list[Any] | None = None) -> list[dict]:
    return await conn.execute_query_dict(_for_dialect(conn, sql), values or [])
