"""Tortoise configuration for SQLite (embedded default) and PostgreSQL (production)."""

from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from models import MODEL_MODULES


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _normalise(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def _normalise(url: str) -> str | dict[str, Any]:
    if not url.startswith(("postgres://", "postgresql://")):
        return url
    # asyncpg's default pool of 5 starves concurrent counters; allow more unless the URL says otherwise.
    url = url.replace("postgresql://", "postgres://", 1)
    if "maxsize=" not in url:
        url += ("&" if "?" in url else "?") + "maxsize=20"
    config = expand_db_url(url)
    config["credentials"]["reset"] = _release
    return config


async def _release(connection) -> None:
    """What a PostgreSQL connection needs before it goes back to the pool. asyncpg's default sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release: a round
    trip per transaction that cost about a tenth of the server's time per sale (bench/checkout.py
    under py-spy). Nothing here leaves session state behind (no session SET, LISTEN, advisory lock or
    cursor outside a transaction; `SET LOCAL` ends with its transaction), so the one thing to undo
    is a transaction left open by a cancelled request."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")
