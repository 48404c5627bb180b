"""Registers and cash: one open register per counter, shifts, cash logs, close with over/short, X/Z reports.

Checkout writes Sale and SaleReturn rows; these tests insert them with the ORM so the drawer's
arithmetic is checked against numbers worked out by hand.
"""

import asyncio
import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.registers import CashMovement, CashMovementKind, Register, RegisterStatus, Shift
from models.sales import Sale, SaleReturn, SaleStatus, Tender, TenderType
from models.staff import AuditEntry, Role
from operations.counter.register_reports import register_report
from operations.counter.registers import (
    close_register,
    current_register,
    end_shift,
    open_register,
    record_cash,
    shift_for,
)
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import NewStaff, create_staff
from operations.kernel.access import SYSTEM, AccessDenied, Actor
from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.transactions import transaction
from tests.factories import make_branch

IN, OUT = CashMovementKind.CASH_IN, CashMovementKind.CASH_OUT
_n = itertools.count(1)


async def cashier_at(branch_id: int, role: Role = Role.CASHIER) -> Actor:
    staff = await create_staff(
        SYSTEM, NewStaff(f"c{next(_n)}@test.pk", f"Cashier {next(_n)}", role, "pw-12345678", None, [branch_id])
    )
    return Actor(name=staff.name, staff_id=staff.id, role=role, branch_ids=frozenset({branch_id}))


@pytest.fixture
async def till(db):
    """A branch, one counter, and a cashier who works there."""
    branch = await make_branch()
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    return branch, counter, await cashier_at(branch.id)


def codes(error: pytest.ExceptionInfo) -> list[tuple[ErrorCode, str | None]]:
    return [(p.code, p.field) for p in error.value.problems]


async def sale(register: Register, cashier: Actor, status: SaleStatus, total: str, cash_taken: str, **money) -> Sale:
    shift = await Shift.filter(register_id=register.id, cashier_id=cashier.staff_id).first()
    return await Sale.create(
        branch_id=register.branch_id,
        counter_id=register.counter_id,
        register_id=register.id,
        shift_id=shift.id if shift else None,
        cashier_id=cashier.staff_id,
        status=status,
        total=Decimal(total),
        cash_taken=Decimal(cash_taken),
        occurred_at=datetime.now(UTC),
        **{k: Decimal(v) for k, v in money.items()},
    )


async def refund(register: Register, original: Sale, cashier: Actor, total: str, cash_paid_out: str) -> SaleReturn:
    return await SaleReturn.create(
        number=f"R-{next(_n)}",
        sale_id=original.id,
        branch_id=register.branch_id,
        counter_id=register.counter_id,
        register_id=register.id,
        cashier_id=cashier.staff_id,
        net=Decimal(total),
        tax=Decimal(0),
        total=Decimal(total),
        cash_paid_out=Decimal(cash_paid_out),
    )


async def test_open_starts_a_shift_and_a_second_open_is_refused(till):
    branch, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("5000"), "open-1")

    assert (register.status, register.opening_float, register.open_counter_id) == (
        RegisterStatus.OPEN,
        Decimal("5000.00"),
        counter.id,
    )
    assert (await current_register(counter.id)).id == register.id
    assert await Shift.filter(register_id=register.id, cashier_id=cashier.staff_id, ended_at=None).count() == 1
    assert await AuditEntry.filter(action="register.opened", target_id=str(register.id)).count() == 1

    other = await cashier_at(branch.id)
    with pytest.raises(OperationError) as refused:
        await open_register(other, counter.id, Decimal("100"), "open-2")
    assert codes(refused) == [(ErrorCode.DUPLICATE, "counterId")]
    assert f"#{register.id}" in str(refused.value)
    assert await Register.all().count() == 1 and await Shift.all().count() == 1


async def test_concurrent_opens_at_one_counter_exactly_one_wins(till):
    branch, counter, _ = till
    cashiers = [await cashier_at(branch.id) for _ in range(6)]

    results = await asyncio.gather(
        *(open_register(c, counter.id, Decimal("1000"), f"race-{i}") for i, c in enumerate(cashiers)),
        return_exceptions=True,
    )

    opened = [r for r in results if isinstance(r, Register)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert (len(opened), len(refused)) == (1, 5), results
    assert all(r.problems[0].code is ErrorCode.DUPLICATE for r in refused)
    assert await Register.filter(counter_id=counter.id).count() == 1


async def test_same_key_returns_the_first_register_also_when_sent_at_once(till):
    _, counter, cashier = till
    first = await open_register(cashier, counter.id, Decimal("2500.50"), "same-key")
    again = await open_register(cashier, counter.id, Decimal("2500.50"), "same-key")
    assert again.id == first.id

    with pytest.raises(OperationError) as reused:
        await open_register(cashier, counter.id, Decimal("99"), "same-key")
    assert codes(reused) == [(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")]

    await close_register(cashier, first.id, counted_total=Decimal("2500.50"))
    storm = await asyncio.gather(*(open_register(cashier, counter.id, Decimal("10"), "storm") for _ in range(8)))
    assert len({r.id for r in storm}) == 1
    assert await Register.filter(counter_id=counter.id).count() == 2


async def test_the_system_and_other_branches_cannot_open(till):
    _, counter, _ = till
    with pytest.raises(OperationError) as system:
        await open_register(SYSTEM, counter.id, Decimal("0"))
    assert codes(system) == [(ErrorCode.INVALID, None)]

    elsewhere = await make_branch()
    with pytest.raises(AccessDenied):
        await open_register(await cashier_at(elsewhere.id), counter.id, Decimal("0"))
    assert await Register.all().count() == 0


@pytest.mark.parametrize(
    ("opening_float", "key"),
    [(Decimal("-1"), "k"), (Decimal("10.005"), "k"), (Decimal("10000000.01"), "k"), (Decimal("NaN"), "k"), (1, " ")],
)
async def test_bad_opening_float_or_key_writes_nothing(till, opening_float, key):
    _, counter, cashier = till
    with pytest.raises(OperationError) as bad:
        await open_register(cashier, counter.id, opening_float, key)
    assert bad.value.problems[0].code is ErrorCode.INVALID
    assert await Register.all().count() == 0 and await AuditEntry.filter(action="register.opened").count() == 0


async def test_shift_for_reuses_starts_and_refuses_after_close(till):
    branch, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("0"))
    opener_shift = await shift_for(register, cashier.staff_id)
    assert opener_shift.id == (await shift_for(register, cashier.staff_id)).id

    late = await cashier_at(branch.id)  # signs in at the counter mid-day
    late_shift = await shift_for(register, late.staff_id)
    assert late_shift.id != opener_shift.id and late_shift.cashier_id == late.staff_id

    ended = await end_shift(late, register.id)
    assert ended.id == late_shift.id and ended.ended_at is not None
    with pytest.raises(OperationError) as none_open:
        await end_shift(late, register.id)
    assert codes(none_open) == [(ErrorCode.NOT_FOUND, "registerId")]
    assert (await shift_for(register, late.staff_id)).id not in (late_shift.id, opener_shift.id)

    await close_register(cashier, register.id, counted_total=Decimal("0"))
    assert await Shift.filter(register_id=register.id, ended_at=None).count() == 0
    with pytest.raises(OperationError) as closed:
        await shift_for(register, cashier.staff_id)
    assert codes(closed) == [(ErrorCode.REGISTER_CLOSED, "registerId")]


async def test_expected_cash_over_short_and_reports_match_the_hand_count(till):
    branch, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("5000.00"), "day")
    helper = await cashier_at(branch.id)
    await shift_for(register, helper.staff_id)

    # Cash sale: 3,450 charged, customer gave 4,000, 550 change: 3,450 stays in the drawer.
    money = {"subtotal": "3600.00", "discount_total": "150.00", "tax_total": "526.27"}
    s1 = await sale(register, cashier, SaleStatus.PLACED, "3450.00", "3450.00", **money)
    await Tender.create(sale_id=s1.id, type=TenderType.CASH, amount=Decimal("4000.00"))
    # Split: 1,000 card + 1,299.50 cash; later partly returned (status updated): its cash still counts.
    s2 = await sale(register, helper, SaleStatus.UPDATED, "2299.50", "1299.50", subtotal="2299.50")
    await Tender.create(sale_id=s2.id, type=TenderType.CARD, amount=Decimal("1000.00"))
    await Tender.create(sale_id=s2.id, type=TenderType.CASH, amount=Decimal("1299.50"))
    # All card: no cash.
    s3 = await sale(register, cashier, SaleStatus.PLACED, "8000.00", "0", subtotal="8000.00")
    await Tender.create(sale_id=s3.id, type=TenderType.CARD, amount=Decimal("8000.00"))
    # Voided with a manager's approval: its cash went back to the customer, so it must be ignored.
    s4 = await sale(register, cashier, SaleStatus.VOIDED, "999.00", "999.00", subtotal="999.00")
    await Tender.create(sale_id=s4.id, type=TenderType.CASH, amount=Decimal("999.00"))
    await sale(register, cashier, SaleStatus.DRAFT, "500.00", "0")  # a parked cart
    r1 = await refund(register, s2, helper, "700.25", "700.25")
    await Tender.create(sale_return_id=r1.id, type=TenderType.CASH, amount=Decimal("700.25"))

    await record_cash(cashier, register.id, IN, Decimal("2000"), "change from the bank", "in-1")
    await record_cash(helper, register.id, OUT, Decimal("150.00"), "tea and samosas", "out-1")
    # 5000 + (3450 + 1299.50) − 700.25 + 2000 − 150 = 10899.25
    x = await register_report(cashier, register.id)
    assert (x.final, x.expected_cash, x.counted_cash, x.over_short) == (False, Decimal("10899.25"), None, None)
    assert (x.sales_count, x.sales_total, x.gross_sales, x.discounts, x.tax) == (
        3,
        Decimal("13749.50"),
        Decimal("13899.50"),
        Decimal("150.00"),
        Decimal("526.27"),
    )
    assert (x.voided_count, x.voided_total, x.returns_count, x.refunded_total) == (
        1,
        Decimal("999.00"),
        1,
        Decimal("700.25"),
    )
    tendered = {
        TenderType.CASH: Decimal("5299.50"),
        TenderType.CARD: Decimal("9000.00"),
        TenderType.BANK: 0,
        TenderType.LOYALTY: 0,
    }
    assert x.sales_by_tender == tendered
    assert x.refunds_by_tender[TenderType.CASH] == Decimal("700.25")
    assert (x.cash_sales, x.cash_refunds, x.cash_in, x.cash_out) == (
        Decimal("4749.50"),
        Decimal("700.25"),
        Decimal("2000.00"),
        Decimal("150.00"),
    )
    assert [(s.cashier_id, s.sales_count, s.sales_total) for s in x.shifts] == [
        (cashier.staff_id, 2, Decimal("11450.00")),
        (helper.staff_id, 1, Decimal("2299.50")),
    ]

    # Counted by denomination: 2×5000 + 8×100 + 1×50 + 2×20 + 1×5 + 2×2 = 10899; short by 0.25.
    counted = {5000: 2, 1000: 0, 100: 8, 50: 1, 20: 2, 5: 1, 2: 2}
    closed = await close_register(cashier, register.id, denominations=counted, idempotency_key="close")
    assert (closed.status, closed.open_counter_id, closed.closed_by_id) == (
        RegisterStatus.CLOSED,
        None,
        cashier.staff_id,
    )
    assert (closed.expected_cash, closed.counted_cash, closed.over_short) == (
        Decimal("10899.25"),
        Decimal("10899.00"),
        Decimal("-0.25"),
    )
    assert closed.counted_denominations == {"5000": 2, "1000": 0, "100": 8, "50": 1, "20": 2, "5": 1, "2": 2}
    assert await current_register(counter.id) is None
    entry = await AuditEntry.get(action="register.closed", target_id=str(register.id))
    assert entry.detail["over_short"] == "-0.25"

    z = await register_report(cashier, register.id)
    assert (z.final, z.expected_cash, z.counted_cash, z.over_short) == (
        True,
        Decimal("10899.25"),
        Decimal("10899.00"),
        Decimal("-0.25"),
    )
    assert z.closed_by == (cashier.staff_id, cashier.name) and all(s.ended_at for s in z.shifts)


async def test_cash_out_is_limited_to_the_drawer_and_cash_is_idempotent(till):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("1000"))
    await sale(register, cashier, SaleStatus.PLACED, "500", "500")

    with pytest.raises(OperationError) as too_much:
        await record_cash(cashier, register.id, OUT, Decimal("1500.01"), "bank deposit", "dep-1")
    assert codes(too_much) == [(ErrorCode.INVALID, "amount")]
    assert await CashMovement.all().count() == 0

    first = await record_cash(cashier, register.id, OUT, Decimal("1500"), "bank deposit", "dep-1")
    again = await asyncio.gather(
        *(record_cash(cashier, register.id, OUT, Decimal("1500"), "bank deposit", "dep-1") for _ in range(5))
    )
    assert {m.id for m in again} == {first.id}
    assert await CashMovement.all().count() == 1
    assert await AuditEntry.filter(action="cash.out").count() == 1
    with pytest.raises(OperationError) as reused:
        await record_cash(cashier, register.id, OUT, Decimal("1"), "bank deposit", "dep-1")
    assert codes(reused) == [(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")]
    with pytest.raises(OperationError) as empty:
        await record_cash(cashier, register.id, OUT, Decimal("0.01"), "anything", "dep-2")
    assert codes(empty) == [(ErrorCode.INVALID, "amount")]


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [
        (Decimal("0"), "float top-up", "amount"),
        (Decimal("-5"), "float top-up", "amount"),
        (Decimal("1.001"), "float top-up", "amount"),
        (Decimal("10000001"), "float top-up", "amount"),
        (Decimal("5"), "   ", "reason"),
        (Decimal("5"), "x" * 201, "reason"),
    ],
)
async def test_bad_cash_movements_write_nothing(till, amount, reason, field):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    with pytest.raises(OperationError) as bad:
        await record_cash(cashier, register.id, IN, amount, reason, "k")
    assert codes(bad) == [(ErrorCode.INVALID, field)]
    assert await CashMovement.all().count() == 0


async def test_cash_on_a_closed_register_is_refused_but_a_retry_gets_its_original(till):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    logged = await record_cash(cashier, register.id, IN, Decimal("50"), "coins", "coins-1")
    await close_register(cashier, register.id, counted_total=Decimal("150"))

    assert (await record_cash(cashier, register.id, IN, Decimal("50"), "coins", "coins-1")).id == logged.id
    with pytest.raises(OperationError) as closed:
        await record_cash(cashier, register.id, IN, Decimal("50"), "coins", "coins-2")
    assert codes(closed) == [(ErrorCode.REGISTER_CLOSED, "registerId")]
    assert await CashMovement.all().count() == 1


@pytest.mark.parametrize(
    ("total", "denominations", "field"),
    [
        (Decimal("10"), {100: 1}, "counted"),
        (None, None, "counted"),
        (None, {75: 1}, "counted.denominations"),
        (None, {100: -1}, "counted.denominations"),
        (Decimal("-1"), None, "counted.total"),
        (Decimal("1.234"), None, "counted.total"),
    ],
)
async def test_bad_counts_leave_the_register_open(till, total, denominations, field):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    with pytest.raises(OperationError) as bad:
        await close_register(cashier, register.id, counted_total=total, denominations=denominations)
    assert codes(bad) == [(ErrorCode.INVALID, field)]
    assert (await Register.get(id=register.id)).status == RegisterStatus.OPEN


async def test_closing_twice_closes_once(till):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    first = await close_register(cashier, register.id, counted_total=Decimal("90"), idempotency_key="z-1")
    assert first.over_short == Decimal("-10.00")

    replay = await close_register(cashier, register.id, counted_total=Decimal("90"), idempotency_key="z-1")
    assert (replay.id, replay.closed_at, replay.over_short) == (first.id, first.closed_at, first.over_short)
    with pytest.raises(OperationError) as reused:
        await close_register(cashier, register.id, counted_total=Decimal("95"), idempotency_key="z-1")
    assert codes(reused) == [(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")]
    with pytest.raises(OperationError) as again:
        await close_register(cashier, register.id, counted_total=Decimal("100"), idempotency_key="z-2")
    assert codes(again) == [(ErrorCode.REGISTER_CLOSED, "registerId")]
    assert await AuditEntry.filter(action="register.closed").count() == 1


async def test_concurrent_closes_close_once(till):
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    results = await asyncio.gather(
        *(
            close_register(cashier, register.id, counted_total=Decimal(90 + i), idempotency_key=f"z{i}")
            for i in range(6)
        ),
        return_exceptions=True,
    )
    closed = [r for r in results if isinstance(r, Register)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert (len(closed), len(refused)) == (1, 5), results
    assert all(r.problems[0].code is ErrorCode.REGISTER_CLOSED for r in refused)
    stored = await Register.get(id=register.id)
    assert stored.counted_cash == closed[0].counted_cash
    assert await AuditEntry.filter(action="register.closed").count() == 1

    # The same key sent at once by a till that retried: every caller gets the one close.
    other = await open_register(cashier, counter.id, Decimal("0"))
    same = await asyncio.gather(
        *(close_register(cashier, other.id, counted_total=Decimal("0"), idempotency_key="retry") for _ in range(5))
    )
    assert {(r.id, r.closed_at) for r in same} == {(other.id, same[0].closed_at)}


async def test_sales_and_cash_racing_the_close_are_either_counted_or_refused(till):
    """What checkout does (insert the sale, then shift_for in the same transaction) against a close:
    a sale or cash movement that commits is in the expected cash; one that comes too late fails whole."""
    _, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("1000"))

    async def checkout(i: int) -> Sale:
        async with transaction():
            placed = await sale(register, cashier, SaleStatus.PLACED, "100", f"{100 + i}")
            await shift_for(register, cashier.staff_id)
            return placed

    async def cash_in(i: int) -> CashMovement:
        return await record_cash(cashier, register.id, IN, Decimal(i + 1), "float top-up", f"in-{i}")

    jobs = [job(i) for i in range(8) for job in (checkout, cash_in)]
    jobs.insert(6, close_register(cashier, register.id, counted_total=Decimal("0")))  # mid-rush
    results = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), timeout=60)

    failed = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, OperationError) and r.problems[0].code is ErrorCode.REGISTER_CLOSED for r in failed), (
        failed
    )
    assert isinstance(results[6], Register)
    sold = await Sale.filter(register_id=register.id)
    moved = await CashMovement.filter(register_id=register.id)
    assert len(sold) == sum(isinstance(r, Sale) for r in results)  # a refused sale left no row
    stored = await Register.get(id=register.id)
    assert stored.expected_cash == Decimal("1000") + sum(s.cash_taken for s in sold) + sum(m.amount for m in moved)


async def test_reports_need_view_sales_or_reports_at_the_branch(till):
    branch, counter, cashier = till
    register = await open_register(cashier, counter.id, Decimal("100"))
    finance = await cashier_at(branch.id, Role.FINANCE)
    assert (await register_report(finance, register.id)).opening_float == Decimal("100.00")
    stranger = await cashier_at((await make_branch()).id)
    with pytest.raises(AccessDenied):
        await register_report(stranger, register.id)
    with pytest.raises(OperationError) as missing:
        await register_report(cashier, register.id + 1000)
    assert codes(missing) == [(ErrorCode.NOT_FOUND, "registerId")]
