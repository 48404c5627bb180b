"""Fixtures for the FBR/PRA simulator over real HTTP (no database).

- `sim`: one simulator per module (uvicorn on a free port; test modules using it run on the module's event
  loop), its state put back to a fresh one before each test: default settings, no faults, no invoices, POSID
  123456 registered for the FBR and PRA sandboxes. `.url`, `.authority`, `.client(...)` (a FiscalClient on
  the FBR sandbox route with the right token), `.control` (httpx client for /_sim/), `await sim.faults({...})`.
- `make_invoice(...)`: a valid two-line FiscalInvoice (the reference's example numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio

from fbr.client import FiscalClient
from fbr.invoice import Authority, FiscalInvoice, FiscalItem, InvoiceType, ItemInvoiceType, PaymentMode
from fbr.simulator import SimAuthority, serve_simulator

POS_ID = 123456
TIMEOUT = 2.0  # the client's; the hang faults below hold for longer and are released at teardown
SHORT_TIMEOUT = 0.2


def sale_items(invoice_type: ItemInvoiceType = ItemInvoiceType.NEW, ref: str | None = None) -> list[FiscalItem]:
    return [
        FiscalItem.priced(
            item_code="SKU-001",
            item_name="Cotton T-shirt",
            pct_code="61091000",
            quantity=1,
            tax_rate=18,
            sale_value=Decimal("1000.00"),
            invoice_type=invoice_type,
            ref_usin=ref,
        ),
        FiscalItem.priced(
            item_code="SKU-002",
            item_name="Cotton T-shirt (promo)",
            pct_code="6109.1000",
            quantity=1,
            tax_rate=18,
            sale_value=Decimal("500.00"),
            discount=Decimal("100.00"),
            invoice_type=invoice_type,
            ref_usin=ref,
        ),
    ]


@pytest.fixture
def make_invoice():
    def make(
        usin: str = "S-000123",
        *,
        pos_id: int = POS_ID,
        invoice_type: InvoiceType = InvoiceType.NEW,
        ref_usin: str | None = None,
        authority: Authority = Authority.FBR,
        items: list[FiscalItem] | None = None,
        payment_mode: PaymentMode = PaymentMode.CASH,
    ) -> FiscalInvoice:
        if items is None:
            item_type = ItemInvoiceType.CREDIT if invoice_type == InvoiceType.CREDIT else ItemInvoiceType.NEW
            items = sale_items(item_type, ref_usin)
        return FiscalInvoice.summed(
            usin=usin,
            pos_id=pos_id,
            issued_at=datetime(2025, 6, 1, 14, 30),
            items=items,
            payment_mode=payment_mode,
            invoice_type=invoice_type,
            ref_usin=ref_usin,
            authority=authority,
        )

    return make


def fresh(authority: SimAuthority) -> SimAuthority:
    """Back to a new simulator's state, in place (the served app holds this object)."""
    blank = SimAuthority()
    authority.reset()
    authority.config, authority.tokens, authority.pos_ids = blank.config, blank.tokens, blank.pos_ids
    authority.register(POS_ID, "fbr", "sandbox")
    authority.register(POS_ID, "pra", "sandbox")
    return authority


@dataclass
class SimHandle:
    authority: SimAuthority
    url: str
    control: httpx.AsyncClient

    def client(
        self,
        authority: str = "fbr",
        environment: str = "sandbox",
        *,
        token: str | None = None,
        timeout: float = TIMEOUT,
    ) -> FiscalClient:
        url = self.authority.post_url(authority, environment)
        return FiscalClient(
            url, self.authority.token(authority, environment) if token is None else token, timeout=timeout
        )

    async def faults(self, spec: dict) -> None:
        resp = await self.control.post("/_sim/faults", json=spec)
        assert resp.status_code == 200, resp.text

    async def configure(self, **settings) -> None:
        resp = await self.control.post("/_sim/config", json=settings)
        assert resp.status_code == 200, resp.text

    async def invoices(self, usin: str) -> list[dict]:
        resp = await self.control.get(f"/_sim/invoices/{usin}")
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served():
    authority = SimAuthority()
    async with serve_simulator(authority) as url, httpx.AsyncClient(base_url=url, timeout=10) as control:
        yield SimHandle(authority, url, control)


@pytest.fixture
def sim(served):
    fresh(served.authority)
    return served
