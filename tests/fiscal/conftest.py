"""A shop whose counter is registered with the FBR simulator (fbr/simulator/, over real HTTP), the token set.

- `authority`: the simulator's state (POSIDs 100001..100003 registered in FBR's and PRA's sandboxes);
- `sim`: it served on a free port, Branchline's fiscal settings pointing at it, quick back-offs;
- `fshop`: tests/operations/conftest.py's shop (LHR, counter C1, a kurta and a shawl with PCT codes, a cashier,
  a manager, an open register) with C1 registered as POSID 100001 and the FBR token stored.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from fbr.simulator import SimAuthority, serve_simulator
from models.catalog import Variant
from models.fiscal import FiscalAuthority
from operations.fiscal.registration import set_counter_fiscal_registration, set_fiscal_token
from operations.kernel.access import SYSTEM
from tests.api.conftest import anonymous, api  # noqa: F401 (fixtures)
from tests.operations.conftest import shop, staff_actor  # noqa: F401 (fixtures)

POS_IDS = (100001, 100002, 100003)


@pytest.fixture
def authority():
    sim = SimAuthority()
    for pos in POS_IDS:
        for a in ("fbr", "pra"):
            sim.register(pos, a, "sandbox")
    return sim


@dataclass
class Sim:
    authority: SimAuthority
    url: str

    def invoices(self, usin: str):
        return self.authority.invoices_for(usin)

    def all_invoices(self):
        return list(self.authority.invoices.values())


@pytest.fixture
async def sim(authority, change_settings):
    async with serve_simulator(authority) as url:
        change_settings(
            fiscal={
                "fbr_url": authority.post_url("fbr", "sandbox"),
                "pra_url": authority.post_url("pra", "sandbox"),
                "timeout": 0.5,
                "backoff_base": 0.01,
                "backoff_cap": 0.05,
                "lease_seconds": 5.0,
            }
        )
        yield Sim(authority, url)


async def register(counter_id: int, pos_id: int, key: str | None = None):
    return await set_counter_fiscal_registration(SYSTEM, counter_id, str(pos_id), True, key or f"reg-{counter_id}")


@pytest.fixture
async def fshop(shop, sim):  # noqa: F811
    await Variant.filter(id=shop.kurta.id).update(pct_code="62044200")
    await Variant.filter(id=shop.shawl.id).update(pct_code="6214.1000")
    await register(shop.counter.id, POS_IDS[0])
    await set_fiscal_token(SYSTEM, FiscalAuthority.FBR, sim.authority.token("fbr", "sandbox"), "token-1")
    shop.sim = sim
    return shop


D = Decimal
