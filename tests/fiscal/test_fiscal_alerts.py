"""fiscalAlerts follows the worker's rounds; /health shows the oldest invoice still waiting."""

import asyncio
from types import SimpleNamespace

from operations.fiscal import drain_fiscal
from operations.kernel.access import SYSTEM
from tests.fiscal.test_reporting import sell


async def test_fiscal_alerts_follow_each_round_that_changed_something(fshop, bus):
    from resolvers.fiscal import fiscal_alerts  # after the schema: resolvers and schema import each other

    fshop.sim.authority.faults.set_down(True)
    await sell(fshop)
    statuses = fiscal_alerts(SimpleNamespace(context=SimpleNamespace(actor=SYSTEM)))
    first = await anext(statuses)
    assert (first.pending, first.ageing, first.parked) == (1, 0, 0) and first.oldest_pending_at is not None
    fshop.sim.authority.faults.set_down(False)
    await drain_fiscal(10)
    second = await asyncio.wait_for(anext(statuses), 5)
    assert second.pending == 0 and second.branches[0].fiscalised == 1
    await statuses.aclose()


async def test_health_shows_the_oldest_pending_invoice(fshop, anonymous):
    fshop.sim.authority.faults.set_down(True)
    await sell(fshop)
    body = (await anonymous.client.get("/health")).json()
    assert body["status"] == "ok"
    assert body["fiscal"]["pending"] == 1 and body["fiscal"]["oldestPendingAt"] is not None
    fshop.sim.authority.faults.set_down(False)
    await drain_fiscal(10)
    assert (await anonymous.client.get("/health")).json()["fiscal"]["pending"] == 0
