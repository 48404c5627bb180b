"""Two branches in Karachi's time zone (one with two counters), priced and costed variants, cashiers with open
registers, and a seeded random day of sales, returns, exchanges, voids and offline uploads at them."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.catalog import Variant
from models.sales import Restock, SaleLine, TenderType
from models.staff import Role
from operations.counter import checkouts, drafts, exchanges, offline, returns
from operations.counter.pricing import refund_for
from operations.counter.registers import open_register
from operations.counter.returns import _as_priced
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from tests.factories import make_branch, make_variants, stock
from tests.operations.conftest import staff_actor

D = Decimal
KARACHI = ZoneInfo("Asia/Karachi")


def karachi_today() -> date:
    return datetime.now(KARACHI).date()


@dataclass
class World:
    branches: list = field(default_factory=list)
    counters: list = field(default_factory=list)  # (counter, branch, cashier actor, register)
    variants: list = field(default_factory=list)
    manager_pins: dict = field(default_factory=dict)  # branch id -> manager PIN
    owner: object = None
    salespeople: list = field(default_factory=list)


@pytest.fixture
async def world(db):
    w = World()
    w.owner = SYSTEM
    for code in ("KHI", "LHR"):
        w.branches.append(await make_branch(code))
    variants = await make_variants(4, prefix="R")
    prices = [("1180.00", "18.00", "700.0000"), ("2500.00", "18.00", "1333.3333"), ("450.00", "0", "200.5000")]
    for v, (price, tax, cost) in zip(variants, prices, strict=False):
        await Variant.filter(id=v.id).update(price=D(price), tax_rate=D(tax), average_cost=D(cost))
    await Variant.filter(id=variants[3].id).update(price=D("999.00"))  # never costed
    w.variants = variants
    for b in w.branches:
        for v in variants:
            await stock(b.id, v.id, 500)
    pins = iter(["1357", "2468", "3579"])
    for i, (b, n) in enumerate(((w.branches[0], 2), (w.branches[1], 1))):
        manager_pin = f"90271{i}"
        await staff_actor(Role.BRANCH_MANAGER, [b.id], pin=manager_pin, email=f"m{i}@t.pk")
        w.manager_pins[b.id] = manager_pin
        for c in range(n):
            counter, _ = await create_counter(SYSTEM, NewCounter(b.id, f"C{c + 1}", f"Counter {c + 1}"))
            cashier = await staff_actor(Role.CASHIER, [b.id], pin=next(pins), email=f"c{b.id}-{c}@t.pk")
            register = await open_register(cashier, counter.id, D("5000.00"), f"open-{counter.id}")
            w.counters.append((counter, b, cashier, register))
    w.salespeople = [c[2].staff_id for c in w.counters]
    return w


async def sell(w: World, at: int, lines, *, key: str, card=False, salesperson=None, discount=D(0)):
    counter, _, cashier, _ = w.counters[at]
    priced_lines = [checkouts.CheckoutLine(VariantRef(id=v.id), q) for v, q in lines]
    priced = await checkouts.price_basket(
        checkouts.Checkout(counter.id, priced_lines, [], key, order_discount=discount)
    )
    total = priced.priced.total
    pay = checkouts.Payment(TenderType.CARD if card else TenderType.CASH, total if card else total + D("100.00"))
    request = checkouts.Checkout(
        counter.id, priced_lines, [pay], key, order_discount=discount, salesperson_id=salesperson
    )
    sale, _ = await checkouts.checkout(cashier, request)
    return sale


async def refund_due(sale_id: int, items: list[tuple[int, int]]) -> Decimal:
    lines = {line.line_no: line for line in await SaleLine.filter(sale_id=sale_id)}
    return sum(
        (refund_for(_as_priced(lines[no]), q, already_returned=lines[no].returned_quantity).total for no, q in items),
        D("0.00"),
    )


async def give_back(w: World, at: int, sale, items, *, key: str, restock=Restock.RESTOCK):
    counter, branch, cashier, _ = w.counters[at]
    due = await refund_due(sale.id, items)
    request = returns.ReturnRequest(
        sale.id,
        counter.id,
        [returns.ReturnItem(no, q, restock) for no, q in items],
        [checkouts.Payment(TenderType.CASH, due)],
        key,
        reason="did not fit",
        manager_pin=w.manager_pins[branch.id],
    )
    back, _ = await returns.create_return(cashier, request)
    return back


async def seeded_day(w: World, seed: int, operations: int = 14) -> dict:
    """A random day at the world's counters: what was done, for the test to check the reports against."""
    rng = random.Random(seed)
    done = {"sales": [], "voided": [], "returns": [], "offline": []}
    sellable = w.variants
    for step in range(operations):
        at = rng.randrange(len(w.counters))
        kind = rng.choice(["sale", "sale", "sale", "return", "exchange", "void", "offline"])
        placed = [s for s in done["sales"] if s[1] == at]
        if kind in ("return", "exchange") and done["sales"]:
            sale, _ = rng.choice(done["sales"])
            left = [
                (line.line_no, line.quantity - line.returned_quantity)
                for line in await SaleLine.filter(sale_id=sale.id).order_by("line_no")
                if line.quantity > line.returned_quantity
            ]
            if not left:
                continue
            no, n = rng.choice(left)
            items = [(no, rng.randint(1, n))]
            if kind == "return":
                restock = rng.choice(list(Restock))
                done["returns"].append(await give_back(w, at, sale, items, key=f"ret-{seed}-{step}", restock=restock))
            else:
                counter, branch, cashier, _ = w.counters[at]
                due = await refund_due(sale.id, items)
                new_variant = rng.choice(sellable)
                new_price = (
                    await checkouts.price_basket(
                        checkouts.Checkout(
                            counter.id, [checkouts.CheckoutLine(VariantRef(id=new_variant.id), 1)], [], "p"
                        )
                    )
                ).priced.total
                difference = new_price - due
                x = exchanges.ExchangeRequest(
                    sale.id,
                    counter.id,
                    [returns.ReturnItem(no, q) for no, q in items],
                    [checkouts.CheckoutLine(VariantRef(id=new_variant.id), 1)],
                    f"exc-{seed}-{step}",
                    tenders=[checkouts.Payment(TenderType.CASH, difference)] if difference > 0 else [],
                    refunds=[checkouts.Payment(TenderType.CASH, -difference)] if difference < 0 else [],
                    manager_pin=w.manager_pins[branch.id],
                )
                back, _ = await exchanges.create_exchange(cashier, x)
                done["returns"].append(back)
                done["sales"].append((await back.exchange_sale, at))
            continue
        if kind == "void" and placed:
            sale, _ = placed[-1]
            if await sale.returns.all().count():
                continue
            counter, branch, cashier, _ = w.counters[at]
            await drafts.void_sale(cashier, sale.id, w.manager_pins[branch.id], "rang it twice", f"void-{seed}-{step}")
            done["sales"] = [s for s in done["sales"] if s[0].id != sale.id]
            done["voided"].append(sale)
            continue
        lines = [(v, rng.randint(1, 3)) for v in rng.sample(sellable, rng.randint(1, 3))]
        if kind == "offline":
            counter, _, cashier, _ = w.counters[at]
            # Rung up earlier today (Karachi), uploaded now; never before the day began.
            day_start = datetime.combine(karachi_today(), datetime.min.time(), KARACHI).astimezone(UTC)
            when = max(day_start + timedelta(minutes=1), datetime.now(UTC) - timedelta(minutes=rng.randint(1, 120)))
            priced = await checkouts.price_basket(
                checkouts.Checkout(
                    counter.id, [checkouts.CheckoutLine(VariantRef(id=v.id), q) for v, q in lines], [], "p"
                )
            )
            upload = offline.OfflineSale(
                f"off-{seed}-{step}",
                when,
                [checkouts.CheckoutLine(VariantRef(id=v.id), q) for v, q in lines],
                [checkouts.Payment(TenderType.CASH, priced.priced.total)],
            )
            [result] = await offline.sync_offline_sales(cashier, counter.id, [upload])
            done["sales"].append((result.sale, at))
            done["offline"].append(result.sale)
            continue
        salesperson = rng.choice([None, *w.salespeople])
        sale = await sell(
            w,
            at,
            lines,
            key=f"sale-{seed}-{step}",
            card=rng.random() < 0.4,
            salesperson=salesperson,
            discount=rng.choice([D(0), D("50.00")]),
        )
        done["sales"].append((sale, at))
    return done
