"""Raw SQL on the current Tortoise connection, the same text on SQLite and PostgreSQL.

The ledger's hot path is a handful of guarded statements with RETURNING; Tortoise's query
builder cannot express `UPDATE ... WHERE <guard> RETURNING`, and its `execute_query` drops
RETURNING rows on asyncpg. Statements here are written with `?` placeholders and rewritten to
`$n` for PostgreSQL.
"""

import re
from datetime import datetime
from decimal import Decimal
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


def db_decimal(conn: BaseDBAsyncClient, value: Decimal) -> Any:
    """SQLite keeps Tortoise decimals as text; asyncpg wants the Decimal."""
    return str(value) if is_sqlite(conn) else value


async def insert_rows(
    conn: BaseDBAsyncClient, table: str, columns: list[tuple[str, str]], rows: list[tuple], suffix: str = ""
) -> list[dict]:
    """Insert many rows in few statements; `columns` are (name, PostgreSQL type), `suffix` is e.g.
    "ON CONFLICT ... RETURNING ...".

    PostgreSQL gets one array per column through `unnest` — a single short statement whatever the
    row count, several times faster than a VALUES list of thousands of bound values. SQLite gets
    VALUES lists of up to 500 rows (its limit is 32,766 bound values a statement).
    """
    if not rows:
        return []
    names = ", ".join(name for name, _ in columns)
    if not is_sqlite(conn):
        arrays = ", ".join(f"${i}::{pg_type}[]" for i, (_, pg_type) in enumerate(columns, start=1))
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {suffix}"
        return await conn.execute_query_dict(sql, [list(column) for column in zip(*rows, strict=True)])
    out: list[dict] = []
    row_marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join(row_marks for _ in chunk)} {suffix}"
        out += await conn.execute_query_dict(sql, [v for row in chunk for v in row])
    return out
