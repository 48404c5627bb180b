"""Drift checks against the simulated Shopify over real HTTP, after a real import (tests/sync/conftest.py)."""

import pytest

from models.drift import DriftLine, DriftLineStatus
from operations.drift import check as shopify_drift
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.shopify.conftest import sim, sim_shop  # noqa: F401  (fixtures)
from tests.sync.conftest import connected  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def quick_bulk_polling():
    previous = shopify_drift.poll_interval
    shopify_drift.poll_interval = 0.05  # the simulator finishes a small export in milliseconds
    yield
    shopify_drift.poll_interval = previous


async def unexplained(check_id: int) -> list[DriftLine]:
    return await DriftLine.filter(check_id=check_id, status=DriftLineStatus.UNEXPLAINED).order_by("id")
