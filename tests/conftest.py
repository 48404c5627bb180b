"""Shared fixtures: the same suite runs on SQLite + memory (default) and PostgreSQL + Redis.

Set BRANCHLINE_TEST_DATABASE_URL (postgres://...) and BRANCHLINE_TEST_REDIS_URL (redis://...)
to run on the production engines. The test database is wiped: never point it at real data.
"""

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from tortoise import Tortoise

from models.config import dialect, tortoise_config
from models.database import apply_migrations
from operations.kernel import settings
from operations.kernel.settings import DomainSettings, PasswordHashing, SecretKeys, ShopifySettings
from subscriptions import live
from subscriptions.bus import Bus

TEST_DATABASE_URL = os.environ.get("BRANCHLINE_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("BRANCHLINE_TEST_REDIS_URL")
# One secret for the test process and the servers it starts (PIN digests and encrypted tokens are
# made on one side and read on the other); `serve` without --demo refuses the built-in one.
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef-not-for-production"
# Cheap password hashing for the test process and the servers it starts (tests/security/test_secret_key.py
# pins the production parameters).
CHEAP_ARGON2 = {
    "BRANCHLINE_ARGON2_TIME_COST": "1",
    "BRANCHLINE_ARGON2_MEMORY_KIB": "64",
    "BRANCHLINE_ARGON2_PARALLELISM": "1",
}
# The Shopify client's retries, short under test: a test that makes Shopify fail every try would
# otherwise wait out 8 real, jittered backoffs (up to a minute). Tests of the retry schedule itself build
# their ShopifyClient with the production defaults (tests/shopify/test_client_retry.py).
FAST_SHOPIFY_RETRIES = {
    "BRANCHLINE_SHOPIFY_ATTEMPTS": "3",
    "BRANCHLINE_SHOPIFY_BACKOFF_BASE": "0.01",
    "BRANCHLINE_SHOPIFY_BACKOFF_CAP": "0.05",
}
for _name, _value in {**CHEAP_ARGON2, **FAST_SHOPIFY_RETRIES}.items():
    os.environ.setdefault(_name, _value)
# The test process's settings, installed as an app's lifespan or a command would: the defaults, with the
# test secret, cheap hashing and short Shopify retries (a fixture pointing at the simulator changes
# only the fields it names: `settings_changed(shopify={"base_url": ...})`). Servers started in-process
# skip their lifespan, so they use these.
CHEAP_HASHING = PasswordHashing(time_cost=1, memory_cost=64, parallelism=1)
FAST_RETRIES = ShopifySettings(attempts=3, backoff_base=0.01, backoff_cap=0.05)
settings.install(DomainSettings(keys=SecretKeys(TEST_SECRET_KEY), passwords=CHEAP_HASHING, shopify=FAST_RETRIES))

# Property tests take their example counts from a profile. "ci" is the default, so the README's one
# test command is CI's: enough examples for the stock and money properties to find rare states (a
# ledger guard ignoring `reserved` needed hundreds of random batches). Fixed seed: a CI failure
# repeats on the next run and on a laptop. `--hypothesis-profile=quick` while iterating on one test.
hypothesis_settings.register_profile(
    "ci", max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("quick", max_examples=30, deadline=None)
hypothesis_settings.load_profile("ci")


@contextmanager
def settings_changed(**groups) -> Iterator[DomainSettings]:
    """The installed settings with some groups changed, inside the block: each value is a whole group
    or a mapping of the group's fields to change (`settings_changed(push={"max_attempts": 1})`).
    Settings never change in place; a change is a new object installed, the old one back after."""
    with settings.installed(settings.current().changed(**groups)) as changed:
        yield changed


@pytest.fixture
def change_settings():
    """`change_settings(inbox={"lease_seconds": 0.3})` for the rest of the test: like
    `settings_changed`, undone when the test ends (what was installed when this fixture started is
    installed again, so it nests with fixtures that change settings themselves)."""
    before = settings.current()

    def change(**groups) -> DomainSettings:
        changed = settings.current().changed(**groups)
        settings.install(changed)
        return changed

    yield change
    settings.install(before)


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.split("?")[0].replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        asyncio.run(_reset_postgres(url))
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('db')}/test.sqlite3?busy_timeout=15000"
    asyncio.run(apply_migrations(url))
    return url


@pytest.fixture(scope="session")
def broadcast_url() -> str:
    return TEST_REDIS_URL or "memory://"


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return dialect(database_url) == "postgres"


async def truncate_all() -> None:
    """Empty every table the migrations made (all of them, so a new model needs no edit here)."""
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "sqlite":
        rows = await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> 'tortoise_migrations'"
        )
        await conn.execute_script("PRAGMA foreign_keys = OFF")
        for row in rows:
            await conn.execute_script(f'DELETE FROM "{row["name"]}"')
        await conn.execute_script("DELETE FROM sqlite_sequence")
        await conn.execute_script("PRAGMA foreign_keys = ON")
    else:
        rows = await conn.execute_query_dict(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        tables = ", ".join(f'"{row["name"]}"' for row in rows)
        await conn.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db(database_url):
    """A connected, empty database for one test."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    await truncate_all()
    try:
        yield database_url
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def bus(db, broadcast_url):
    """The live-event bus, installed as the process's bus, so operations publish to it."""
    bus = Bus(broadcast_url, queue_size=10_000)
    await bus.connect()
    live.install(bus)
    try:
        yield bus
    finally:
        live.install(None)
        await bus.disconnect()


# Tests that use neither the database nor the bus (the simulator, the Shopify client, HMAC, pricing...)
# give the same answer on both backends: CI's PostgreSQL + Redis pass leaves them out
# (`-m "not db_independent"`, README.md and .ci/run), so they run once. Found by what a test asks for,
# so a new test is placed right without a marker; a test that reads the backends' URLs from the
# environment itself says so with `@pytest.mark.backends`.
BACKEND_FIXTURES = frozenset({"database_url", "broadcast_url"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BACKEND_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())) and not item.get_closest_marker("backends"):
            item.add_marker(pytest.mark.db_independent)
