"""The drift simulation's world: the simulated Shopify over real HTTP, Branchline's real app on a real
port (its webhook endpoint), connected and imported, one branch per workflow, a counter and an open
register per branch for in-store sales.

Shopify's webhooks go to a recording endpoint first (real HTTP, signed bodies); the driver then
forwards each recorded delivery, byte for byte with its headers, to Branchline's endpoint over HTTP,
so it can delay, reorder, duplicate or drop them, and everything goes through the inbox.
"""

from decimal import Decimal

import httpx
import pytest

from models.branches import Branch
from models.staff import Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.kernel.access import SYSTEM
from operations.sync import catalog_import as shopify_import
from operations.sync import connection as shopify_connection
from operations.sync import push as shopify_push
from server.app import create_app
from server.settings import Settings
from shopify.simulator import serve_app
from tests.conftest import settings_changed
from tests.operations.conftest import staff_actor
from tests.shopify.conftest import sim, sim_shop, webhook_receiver  # noqa: F401  (fixtures)
from tests.webhooks.conftest import without_lifespan

WORKFLOWS = ("smart", "manual", "branch_sync")
LEASE = 1.0  # short, so work cut off by a "kill" is taken up again soon


@pytest.fixture
async def world(db, bus, sim, webhook_receiver):  # noqa: F811
    quick = settings_changed(
        push={"lease_seconds": LEASE, "max_attempts": 200, "backoff_base": 0.01, "backoff_cap": 0.05},
        inbox={
            "lease_seconds": LEASE,
            "max_attempts": 200,
            "backoff_base": 0.01,
            "backoff_cap": 0.05,
            "handler_timeout": LEASE * 0.8,
        },
        drift={"bulk_poll_interval": 0.05},
    )
    app = create_app(Settings(database_url=db, debug=False))
    with quick:
        try:
            async with serve_app(without_lifespan(app)) as url, httpx.AsyncClient(timeout=10) as client:
                with settings_changed(shopify={"public_url": url, "base_url": sim.url, "timeout": 1.0}):
                    yield await _set_up(sim, webhook_receiver, url, client)
        finally:
            await shopify_push.close_clients()


async def _set_up(sim, webhook_receiver, url, client) -> "World":  # noqa: F811
    await shopify_connection.connect_shopify(SYSTEM, sim.domain, sim.token, sim.shop.client_secret)
    job, _ = await shopify_import.start_import(SYSTEM)
    job = await shopify_import.run_job(job.id)
    assert job.status.value == "completed", job.error
    # Shopify delivers to the recorder; the driver forwards to `url` (see the module docstring).
    for sub in sim.shop.subscriptions.values():
        sub.uri = webhook_receiver.url
    branches = await Branch.filter(shopify_location_id__isnull=False).order_by("id")
    assert len(branches) >= 3
    cashier = await staff_actor(Role.CASHIER, [b.id for b in branches], pin="1357", email="sim@t.pk")
    # Refunds above the policy amount need a manager's PIN (the driver gives it).
    await staff_actor(Role.BRANCH_MANAGER, [b.id for b in branches], pin="902715", email="sim-manager@t.pk")
    counters = {}
    for branch, workflow in zip(branches, WORKFLOWS * 3, strict=False):
        await Branch.filter(id=branch.id).update(fulfillment_workflow=workflow)
        counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "SIM", "Simulation counter"))
        await open_register(cashier, counter.id, Decimal("100000.00"), f"open-{branch.id}")
        counters[branch.id] = counter
    return World(sim, webhook_receiver, url, client, cashier, counters)


class World:
    def __init__(self, sim, receiver, url, client, cashier, counters):  # noqa: F811
        self.sim, self.shop, self.receiver = sim, sim.shop, receiver
        self.url, self.client, self.cashier, self.counters = url, client, cashier, counters
