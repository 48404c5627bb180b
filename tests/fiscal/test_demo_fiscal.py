"""The demo registers its counters with the demo authority and stores its tokens, once."""

from models.branches import Counter
from models.fiscal import FiscalCredential
from operations.directory.branches import NewCounter, create_counter
from operations.kernel.access import SYSTEM
from server.demo import DEMO_POS_BASE, register_demo_counters
from tests.factories import make_branch


async def test_every_demo_counter_is_registered_and_a_restart_changes_nothing(db):
    branch = await make_branch("LHR-GUL")
    made = [(await create_counter(SYSTEM, NewCounter(branch.id, f"C{n}", f"Counter {n}")))[0] for n in (1, 2)]
    first = await register_demo_counters("sim-fbr-sandbox-token", "sim-pra-sandbox-token")
    assert first == [DEMO_POS_BASE + c.id for c in made]
    assert await register_demo_counters("sim-fbr-sandbox-token", "sim-pra-sandbox-token") == first
    counters = await Counter.filter(id__in=[c.id for c in made])
    assert all(c.fiscal_registered and c.fiscal_pos_id == str(DEMO_POS_BASE + c.id) for c in counters)
    assert await FiscalCredential.all().count() == 2
