"""Opening the database: apply committed migrations, then connect."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import Tortoise
from tortoise.migrations.api import migrate

from models.config import tortoise_config


async def apply_migrations(database_url: str) -> None:
    """Bring the schema up to date; safe to run on every start (applied ones are skipped)."""
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


@asynccontextmanager
async def open_database(database_url: str, *, run_migrations: bool = True) -> AsyncIterator[None]:
    """For the CLI, benchmarks and tests; the server uses RegisterTortoise in its lifespan."""
    if run_migrations:
        await apply_migrations(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()
