"""Raw SQL on the current Tortoise connection, the same text on SQLite and PostgreSQL.

The ledger's hot path is a handful of guarded statements with RETURNING; Tortoise's query
builder cannot express `UPDATE ... WHERE <guard> RETURNING`, and its `execute_query` drops
RETURNING rows on asyncpg. Statements here are written with `?` placeholders and rewritten to
`$n` for PostgreSQL.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
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


def read_time(value: datetime | str | None) -> datetime | None:
    """A datetime as raw SQL hands it back (SQLite: ISO text; either engine may drop the zone), in UTC."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_value(value: Any) -> Any:
    """A JSON column as Python: SQLite and asyncpg hand it back as text."""
    if value is None or isinstance(value, dict | list):
        return value
    return orjson.loads(value)


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
) -> Sequence[Mapping[str, Any]]:
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
        sql, values = _unnest_insert(table, names, columns, rows, suffix)
        # asyncpg's records are read by column name like dicts; skipping Tortoise's copy of each one
        # into a dict matters when an import inserts half a million rows.
        async with conn.acquire_connection() as connection:
            return await connection.fetch(sql, *values)
    out: list[dict] = []
    row_marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join(row_marks for _ in chunk)} {suffix}"
        out += await conn.execute_query_dict(sql, [v for row in chunk for v in row])
    return out


_INTEGER_TYPES = frozenset({"int", "integer", "bigint", "smallint"})


def _unnest_insert(
    table: str, names: str, columns: list[tuple[str, str]], rows: list[tuple], suffix: str
) -> tuple[str, list[Any]]:
    """One `INSERT ... SELECT FROM unnest(...)` statement and its parameters.

    Two shortcuts keep asyncpg's array encoder (an isinstance check per element) out of the import's
    hot path: a column with the same value on every row (a posting id, a reason, a timestamp) is sent
    once as a scalar, and a column of plain integers travels as one comma-joined text that PostgreSQL
    splits itself (`string_to_array`). Everything else goes as a typed array.
    """
    select: list[str] = []
    arrays: list[str] = []
    values: list[Any] = []
    for index, (_, pg_type) in enumerate(columns):
        column = [row[index] for row in rows]
        first = column[0]
        values_so_far = len(values) + 1
        kind = type(first)
        if first is not None and column.count(first) == len(column) and set(map(type, column)) == {kind}:
            select.append(f"${values_so_far}::{pg_type}")
            values.append(first)
        elif pg_type in _INTEGER_TYPES and set(map(type, column)) == {int}:
            arrays.append(f"string_to_array(${values_so_far}::text, ',')::{pg_type}[]")
            select.append(f"u.c{len(arrays)}")
            values.append(",".join(map(str, column)))
        else:
            arrays.append(f"${values_so_far}::{pg_type}[]")
            select.append(f"u.c{len(arrays)}")
            values.append(column)
    if arrays:
        aliases = ", ".join(f"c{i}" for i in range(1, len(arrays) + 1))
        source = f"unnest({', '.join(arrays)}) AS u({aliases})"
    else:  # every column constant: still one row per input row
        source = f"generate_series(1, {len(rows)})"
    return f"INSERT INTO {table} ({names}) SELECT {', '.join(select)} FROM {source} {suffix}", values
