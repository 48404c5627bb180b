"""Drift checks against the simulated Shopify over real HTTP, after a real import (tests/sync/conftest.py)."""

import pytest

from models.drift import DriftLine, DriftLineStatus
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.conftest import settings_changed
from tests.shopify.conftest import sim, sim_shop  # noqa: F401  (fixtures)
from tests.sync.conftest import connected  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def quick_bulk_polling():
    # The simulator finishes a small export in milliseconds.
    with settings_changed(drift={"bulk_poll_interval": 0.05}):
        yield


async def unexplained(check_id: int) -> list[DriftLine]:
    return await DriftLine.filter(check_id=check_id, status=DriftLineStatus.UNEXPLAINED).order_by("id")
