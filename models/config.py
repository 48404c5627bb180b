"""Tortoise configuration for SQLite (embedded default) and PostgreSQL (production)."""

from typing import Any

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


def _normalise(url: str) -> str:
    # asyncpg's default pool of 5 starves concurrent counters; allow more unless the URL says otherwise.
    if url.startswith(("postgres://", "postgresql://")):
        url = url.replace("postgresql://", "postgres://", 1)
        if "maxsize=" not in url:
            url += ("&" if "?" in url else "?") + "maxsize=20"
    return url
