"""End to end, sized for CI: sales and returns at three registered counters over real HTTP (the app served by
uvicorn, the FBR simulator too) while the authority is down, then slow, the fiscal worker cancelled mid-round
and started again. At the end every sale and credit note has exactly one fiscal number at the authority,
nothing is parked, and the reprinted receipts carry the numbers.

The issue's full size (500 sales, 50 returns): BRANCHLINE_FISCAL_E2E_SALES=500 BRANCHLINE_FISCAL_E2E_RETURNS=50.
"""

import asyncio
import os
from decimal import Decimal

import httpx

from fbr.simulator import serve_app
from models.catalog import Variant
from models.fiscal import FiscalAuthority, FiscalDocument, FiscalKind, FiscalStatus
from models.outbox import OutboxRow
from models.staff import Role
from operations.directory.branches import NewCounter, create_counter
from operations.fiscal import fiscal_figures, report_due
from operations.fiscal.registration import set_fiscal_token
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from server.app import create_app
from server.settings import Settings
from server.workers import every
from tests.factories import make_branch, make_variants, stock
from tests.fiscal.conftest import POS_IDS, register

SALES = int(os.environ.get("BRANCHLINE_FISCAL_E2E_SALES", "60"))
RETURNS = int(os.environ.get("BRANCHLINE_FISCAL_E2E_RETURNS", "6"))

OPEN = """mutation($input: OpenRegisterInput!) { openRegister(input: $input) { register { id } errors { code } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number fiscal { status } } errors { code message } } }"""
RETURN = """mutation($input: CreateReturnInput!) { createReturn(input: $input) {
  saleReturn { id number } errors { code message } } }"""
RECEIPT = """query($id: ID!) { node(id: $id) { ... on Sale { receiptText(widthMm: 80) fiscal { fiscalNumber } } } }"""


class Client:
    def __init__(self, http: httpx.AsyncClient, token: str):
        self.http, self.token = http, token

    async def __call__(self, query: str, variables: dict) -> dict:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]


async def wait_for(condition, what: str, seconds: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def worker(stop: asyncio.Event) -> asyncio.Task:
    return asyncio.create_task(every("fiscal reporting", 0.05, report_due, full=1, stop=stop))


async def test_every_sale_and_credit_note_gets_exactly_one_fiscal_number(api, sim, change_settings, database_url):
    change_settings(fiscal={"lease_seconds": 1.0, "batch": 5, "max_attempts": 1000, "timeout": 2.0})
    branch = await make_branch("E2E")
    kurta, shawl = await make_variants(2, prefix="E")
    for v, pct in ((kurta, "62044200"), (shawl, "62141000")):
        await Variant.filter(id=v.id).update(pct_code=pct, price=Decimal("1180.00"), tax_rate=Decimal("18"))
        await stock(branch.id, v.id, 10 * SALES)
    counters = []
    for i, pos in enumerate(POS_IDS):
        counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, f"C{i + 1}", f"Counter {i + 1}"))
        await register(counter.id, pos)
        counters.append(counter)
    await set_fiscal_token(SYSTEM, FiscalAuthority.FBR, sim.authority.token("fbr", "sandbox"), "e2e-token")
    cashier_api = await api.as_staff(Role.CASHIER, [branch.id], pin="1357")

    app = create_app(Settings(database_url=database_url, debug=False))
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        cashier = Client(http, cashier_api.token)
        for c in counters:
            cid = str(global_id("Counter", c.id))
            await cashier(OPEN, {"input": {"counterId": cid, "openingFloat": "0", "idempotencyKey": f"open-{c.id}"}})

        async def sell(i: int) -> dict:
            c = counters[i % len(counters)]
            lines = [{"variant": {"sku": kurta.sku}, "quantity": 1 + i % 2}]
            if i % 3 == 0:
                lines.append({"variant": {"sku": shawl.sku}, "quantity": 1})
            total = Decimal("1180.00") * (1 + i % 2 + (i % 3 == 0))
            data = await cashier(
                CHECKOUT,
                {
                    "input": {
                        "counterId": str(global_id("Counter", c.id)),
                        "lines": lines,
                        "tenders": [{"type": "CASH" if i % 2 else "CARD", "amount": str(total)}],
                        "idempotencyKey": f"e2e-sale-{i}",
                    }
                },
            )
            sale = data["checkout"]["sale"]
            assert sale and sale["fiscal"]["status"] == "PENDING"  # made at once, reported later
            return sale

        async def give_back(j: int, sale: dict) -> None:
            c = counters[j % len(counters)]
            data = await cashier(
                RETURN,
                {
                    "input": {
                        "sale": {"id": sale["id"]},
                        "counterId": str(global_id("Counter", c.id)),
                        "lines": [{"lineNo": 1, "quantity": 1, "restock": "RESTOCK"}],
                        "refunds": [{"type": "CARD", "amount": "1180.00"}],
                        "idempotencyKey": f"e2e-return-{j}",
                    }
                },
            )
            assert data["createReturn"]["saleReturn"], data

        stop = asyncio.Event()
        task = worker(stop)
        # The authority is down while the first half is sold: every sale is made, none is reported.
        sim.authority.faults.set_down(True)
        half = SALES // 2
        sold = []
        for start in range(0, half, 3):  # three counters at once
            sold += await asyncio.gather(*(sell(i) for i in range(start, min(start + 3, half))))
        assert (await fiscal_figures()).pending >= half
        assert sim.all_invoices() == []

        # Back, but slow. The first post is recorded and its answer held back: the worker is cancelled while it
        # waits for it (mid-round, the authority holding an invoice we never heard of), then started again.
        sim.authority.faults.lose_answer_next(1, how="hang", seconds=30)
        sim.authority.faults.set_down(False)
        sim.authority.faults.set_latency(0.05)

        async def one_recorded() -> bool:
            return len(sim.all_invoices()) >= 1

        await wait_for(one_recorded, "the first invoice recorded")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        [lost] = sim.all_invoices()
        task = worker(stop)

        for start in range(half, SALES, 3):
            sold += await asyncio.gather(*(sell(i) for i in range(start, min(start + 3, SALES))))
        for j in range(RETURNS):
            await give_back(j, sold[j * (SALES // max(RETURNS, 1))])
        sim.authority.faults.set_latency(0.0)

        async def all_reported() -> bool:
            return (await fiscal_figures()).pending == 0

        await wait_for(all_reported, "every document reported")
        stop.set()
        await task

        docs = await FiscalDocument.all()
        assert len(docs) == SALES + RETURNS
        assert {d.status for d in docs} == {FiscalStatus.FISCALISED}
        assert sum(d.kind is FiscalKind.CREDIT_NOTE for d in docs) == RETURNS
        for d in docs:
            held = sim.invoices(d.usin)
            assert len(held) == 1 and held[0].invoice_number == d.fiscal_number and held[0].differing_repeats == 0
            if d.kind is FiscalKind.CREDIT_NOTE:
                assert held[0].payload["RefUSIN"] == d.ref_usin
        assert len(sim.all_invoices()) == SALES + RETURNS
        assert lost.repeats >= 1  # posted again after the restart, and answered with the same number
        assert len({d.fiscal_number for d in docs}) == SALES + RETURNS
        assert await OutboxRow.filter(status="parked").count() == 0
        for sale in sold[:: max(1, SALES // 10)]:
            node = (await cashier(RECEIPT, {"id": sale["id"]}))["node"]
            assert node["fiscal"]["fiscalNumber"] in node["receiptText"]
            assert "pending" not in node["receiptText"]
