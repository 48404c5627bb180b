"""Exchanges at the counter: goods come back against an original sale and new goods go out.

An exchange is a return and a new sale in one transaction and one ledger batch; the customer pays
the difference or gets it back, and SaleReturn.exchange_sale links the two documents. The return
half runs the steps of operations/counter/returns.py in the same order (claim the key, hold the register,
lock the sale, count units back, number, write, audit, post last); the sale half is checkout's
`price_basket` and `write_sale`.

Split from operations/counter/returns.py, which keeps plain returns and the steps both share, so that
neither module grows past the project's ~400-line guideline.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

from models.sales import SaleReturn, TenderType
from operations.counter import pricing
from operations.counter.checkouts import Checkout, CheckoutLine, Payment, price_basket, sale_movements, write_sale
from operations.counter.registers import current_register, shift_for
from operations.counter.returns import (
    MAX_LINES,
    ZERO,
    ReturnItem,
    check_tenders,
    claim,
    finish,
    match_refunds,
    once,
    original,
    points_back,
    posting,
    start,
    take_back,
)
from operations.directory import Approval, check_loyalty_tenders, post_points, sale_points
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Problem,
    Problems,
    current_settings,
    fingerprint,
    record_audit,
    transaction,
)
from operations.stock import apply_to_ledger


@dataclass(frozen=True)
class ExchangeRequest:
    sale_id: int | None
    counter_id: int
    return_lines: list[ReturnItem]
    new_lines: list[CheckoutLine]
    idempotency_key: str
    tenders: list[Payment] = field(default_factory=list)  # the customer pays a positive difference
    refunds: list[Payment] = field(default_factory=list)  # the customer gets a negative one back
    reason: str | None = None
    manager_pin: str | None = None
    sale_number: str | None = None


async def create_exchange(actor: Actor, x: ExchangeRequest) -> tuple[SaleReturn, bool]:
    """Returns (return, replayed); the return's exchange_sale is the new sale."""
    counter, approval = await start(
        actor, x.counter_id, x.idempotency_key, x.reason, x.return_lines, "returnLines", x.manager_pin
    )
    problems = Problems()
    if not x.new_lines:
        problems.add(ErrorCode.INVALID, "an exchange needs at least one new line (else use createReturn)", "newLines")
    if len(x.new_lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} new lines", "newLines")
    problems.raise_if_any()
    check_tenders(x.tenders, "tenders")
    check_tenders(x.refunds, "refunds", points=False)
    request_hash = fingerprint({"kind": "exchange"} | asdict(x) | {"manager_pin": None})

    async def run() -> SaleReturn:
        sale = await original(x.sale_id, x.sale_number)
        check_loyalty_tenders(x.tenders, sale.customer_id)
        basket = Checkout(
            counter_id=counter.id,
            lines=x.new_lines,
            payments=x.tenders,
            idempotency_key=x.idempotency_key,
            customer_name=sale.customer_name,
            customer_phone=sale.customer_phone,
            customer_id=sale.customer_id,
            note=f"exchange against sale {sale.number}",
        )
        with _fields_renamed("lines", "newLines"):
            priced = await price_basket(basket)
        return await _exchange(actor, x, counter, sale, basket, priced, request_hash, approval)

    return await once(x.idempotency_key, request_hash, run)


async def _exchange(
    actor, x: ExchangeRequest, counter, sale, basket, priced, request_hash, approval: Approval
) -> SaleReturn:
    register = await current_register(counter.id)
    if register is None:  # the new sale is rung up in this counter's register
        raise OperationError.single(ErrorCode.REGISTER_CLOSED, "open the register at this counter first", "counterId")
    now = datetime.now(UTC)
    async with transaction() as tx:
        doc = await claim(actor, counter, sale, x.idempotency_key, request_hash, x.reason)
        shift = await shift_for(register, actor.staff_id)
        taken = await take_back(tx, sale.id, counter.branch_id, x.return_lines, "returnLines")
        points, paid_back = await points_back(taken, f"exchange:{doc.id}", counter, doc)
        # What was paid with points goes back as points; the rest of the goods' value pays for the new ones.
        credit = taken.total - (paid_back.amount if paid_back else ZERO)
        new_total = priced.priced.total
        difference = new_total - credit
        if difference > 0:  # the customer pays the rest; change only from cash, as at checkout
            if x.refunds:
                raise OperationError.single(ErrorCode.INVALID, f"the customer owes {difference}: no refunds", "refunds")
            paid = pricing.settle(difference, [_pricing_tender(t) for t in x.tenders])
            # The sale is paid by the goods taken back plus the tenders: paid − change = total.
            priced.settlement = replace(paid, paid=paid.paid + credit)
            cash_out = ZERO
        else:
            if x.tenders:
                msg = f"nothing to pay: the customer gets {-difference} back" if difference else "nothing to pay"
                raise OperationError.single(ErrorCode.INVALID, msg, "tenders")
            cash_out = match_refunds(x.refunds, -difference, "refunds", paid_back)
            priced.settlement = pricing.Settlement([], new_total, ZERO, ZERO)
        needs_pin = bool(priced.needs_approval) or -difference > current_settings().policy.refund_approval_amount
        approver = None
        if needs_pin:
            approver = approval.required("this exchange")
        new_sale = await write_sale(
            tx,
            actor,
            basket,
            counter,
            register,
            priced,
            now=now,
            idempotency_key=None,  # the return carries the key for the whole exchange
            request_hash=None,
            approver=approver if priced.needs_approval else None,
        )
        doc.exchange_sale_id = new_sale.id
        refunds = [*x.refunds, paid_back] if paid_back else x.refunds
        doc = await finish(tx, doc, counter, register, shift, taken, refunds, cash_out, approver)
        await record_audit(
            actor,
            "sale.exchanged",
            branch_id=counter.branch_id,
            target=("sale_return", doc.id),
            approved_by=approver.id if approver else None,
            sale_id=sale.id,
            exchange_sale_id=new_sale.id,
            difference=difference,
        )
        # One posting for the wallet: points back and clawed back, then the new sale's spent and earned.
        points += await sale_points(new_sale, x.tenders)
        if points:
            spent = [i for i, t in enumerate(x.tenders) if t.type is TenderType.LOYALTY]
            field = f"tenders.{spent[0]}.amount" if spent else None
            await post_points(tx, sale.customer_id, points, actor.label, field)
        # New lines first: the ledger names a short line by its index in the batch.
        movements = sale_movements(counter, priced) + taken.movements
        with _fields_renamed("lines", "newLines"):
            await apply_to_ledger(tx, posting(f"exchange:{doc.id}", "exchange", actor, doc, now), movements)
    return doc


def _pricing_tender(p: Payment) -> pricing.Tender:
    return pricing.Tender(pricing.TenderType(p.type.value), p.amount, p.reference)


@contextmanager
def _fields_renamed(old: str, new: str) -> Iterator[None]:
    """Report a reused step's errors under this request's field names (`lines.0` → `newLines.0`)."""
    try:
        yield
    except OperationError as error:
        error.problems = [
            Problem(p.code, p.message, new + p.field[len(old) :] if _under(p.field, old) else p.field)
            for p in error.problems
        ]
        raise


def _under(name: str | None, prefix: str) -> bool:
    return name is not None and (name == prefix or name.startswith(prefix + "."))
