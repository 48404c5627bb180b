"""Returns at the counter: goods come back against an original sale, at any branch.

One transaction per return, like a sale (docs/architecture.md, A sale), in this order:
1. claim the idempotency key (a SaleReturn row, in a savepoint): a retry sent while the first is
   still running waits on the unique index, then returns the first result;
2. hold the returning counter's register (cash leaves its drawer);
3. lock the original sale with a guarded UPDATE that checks its state: returns of one sale queue
   up, so "every unit is back → REFUNDED" is decided on committed data;
4. grow each line's `returned_quantity` with a guarded UPDATE (`returned_quantity + q <= quantity`):
   never more back than sold, whatever runs concurrently; the value it returns says how many came
   back before, which `pricing.refund_for` needs so all returns of a line sum to what was charged;
5. number, write, audit, and post the restocks last (one `apply_to_ledger`).
Locks follow checkout's order (register, number sequence, stock levels): no deadlock between them.

Exchanges (operations/counter/exchanges.py) are built from the same steps, which are public for that.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from models.branches import Counter
from models.sales import Restock, ReturnLine, Sale, SaleLine, SaleReturn, SaleStatus, Tender, TenderType
from models.stock import Bucket
from operations.counter import pricing
from operations.counter.checkouts import Payment, next_return_number
from operations.counter.registers import current_register, shift_for
from operations.directory import Approval, post_points, refund_points, vouch
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    current_settings,
    fetch,
    fingerprint,
    first_or_run,
    record_audit,
    require,
    transaction,
)
from operations.stock import Movement, Posting, apply_to_ledger

MAX_LINES = 200
MAX_TENDERS = 10
MAX_REASON = 200
PKR = pricing.PKR
ZERO = Decimal("0.00")
RETURNABLE = (SaleStatus.PLACED, SaleStatus.UPDATED)


@dataclass(frozen=True)
class ReturnItem:
    line_no: int  # the original sale's line
    quantity: int
    restock: Restock = Restock.RESTOCK


@dataclass(frozen=True)
class ReturnRequest:
    sale_id: int | None  # the original sale, by id or by number (exactly one)
    counter_id: int  # where the customer is now: any branch
    lines: list[ReturnItem]
    refunds: list[Payment]  # must add up exactly to the refund
    idempotency_key: str
    reason: str | None = None
    manager_pin: str | None = None  # a refund above policy.refund_approval_amount
    sale_number: str | None = None


@dataclass
class _TakenBack:
    """What the returned lines are worth and where their stock goes (not yet written)."""

    sale: Sale
    lines: list[ReturnLine]
    movements: list[Movement]
    net: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    fully_returned: bool = False


# --- the operation -----------------------------------------------------------------------------


async def create_return(actor: Actor, r: ReturnRequest) -> tuple[SaleReturn, bool]:
    """Returns (return, replayed). Business failures raise OperationError and write nothing."""
    counter, approval = await start(actor, r.counter_id, r.idempotency_key, r.reason, r.lines, "lines", r.manager_pin)
    check_tenders(r.refunds, "refunds", points=False)
    request_hash = fingerprint({"kind": "return"} | asdict(r) | {"manager_pin": None})

    async def run() -> SaleReturn:
        return await _return(actor, r, counter, await original(r.sale_id, r.sale_number), request_hash, approval)

    return await once(r.idempotency_key, request_hash, run)


async def _return(actor, r: ReturnRequest, counter, sale: Sale, request_hash: str, approval: Approval) -> SaleReturn:
    register = await current_register(counter.id)
    if register is None and any(t.type is TenderType.CASH for t in r.refunds):
        raise OperationError.single(
            ErrorCode.REGISTER_CLOSED, "open the register at this counter to refund cash", "counterId"
        )
    now = datetime.now(UTC)
    async with transaction() as tx:
        doc = await claim(actor, counter, sale, r.idempotency_key, request_hash, r.reason)
        shift = await shift_for(register, actor.staff_id) if register else None
        taken = await take_back(tx, sale.id, counter.branch_id, r.lines, "lines")
        points, paid_back = await points_back(taken, f"return:{doc.id}", counter, doc)
        due = taken.total - paid_back.amount if paid_back else taken.total
        cash_out = match_refunds(r.refunds, due, "refunds", paid_back)
        approver = _approve_refund(approval, taken.total)
        refunds = [*r.refunds, paid_back] if paid_back else r.refunds
        doc = await finish(tx, doc, counter, register, shift, taken, refunds, cash_out, approver)
        await record_audit(
            actor,
            "sale.returned",
            branch_id=counter.branch_id,
            target=("sale_return", doc.id),
            approved_by=approver.id if approver else None,
            sale_id=sale.id,
            total=taken.total,
        )
        if points:
            await post_points(tx, sale.customer_id, points, actor.label)
        if taken.movements:
            await apply_to_ledger(tx, posting(f"return:{doc.id}", "return", actor, doc, now), taken.movements)
    return doc


# --- the steps (shared with exchanges.py) ------------------------------------------------------


async def start(
    actor: Actor, counter_id: int, key: str, reason: str | None, items: list, where: str, manager_pin: str | None
) -> tuple[Counter, Approval]:
    """The counter, once the caller may refund there and a manager's PIN given with the request is vouched
    for (before anything else is looked at: operations/directory/pins.py)."""
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.REFUND, counter.branch_id)
    approval = await vouch(actor, counter.branch_id, manager_pin, counter.id)
    problems = Problems()
    problems.check_key(key)
    if reason is not None and len(reason) > MAX_REASON:
        problems.add(ErrorCode.INVALID, f"reason must be at most {MAX_REASON} characters", "reason")
    if actor.staff_id is None:
        problems.add(ErrorCode.INVALID, "a return is taken by a signed-in staff member", "counterId")
    if not items:
        problems.add(ErrorCode.INVALID, "return at least one line", where)
    if len(items) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", where)
    for i, item in enumerate(items):
        q = item.quantity
        # Checked before SQL sees it: a negative quantity would un-return units through the guard.
        if not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= pricing.MAX_QUANTITY:
            problems.add(ErrorCode.INVALID, "quantity must be a whole number of at least 1", f"{where}.{i}.quantity")
        if item.restock not in set(Restock):  # StrEnum: the enum or its value
            problems.add(ErrorCode.INVALID, "restock must be RESTOCK, NO_RESTOCK or DAMAGED", f"{where}.{i}.restock")
        if not isinstance(item.line_no, int) or not 1 <= item.line_no < 2**31:
            problems.add(ErrorCode.INVALID, "lineNo must be a line number of the sale", f"{where}.{i}.lineNo")
    problems.raise_if_any()
    return counter, approval
    return counter


def check_tenders(tenders: list[Payment], where: str, *, points: bool = True) -> None:
    """`points=False` for refunds: what was paid with points goes back to the wallet by itself."""
    problems = Problems()
    if len(tenders) > MAX_TENDERS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_TENDERS} {where}", where)
    for i, t in enumerate(tenders):
        if not points and t.type is TenderType.LOYALTY:
            msg = "points paid for the goods go back to the wallet by themselves: refund only the money"
            problems.add(ErrorCode.INVALID, msg, f"{where}.{i}.type")
        a = t.amount
        if not (isinstance(a, Decimal) and a.is_finite() and a > 0 and a == a.quantize(PKR)):
            problems.add(ErrorCode.INVALID, f"amount must be more than 0, in steps of {PKR}", f"{where}.{i}.amount")
    problems.raise_if_any()


async def once(key: str, request_hash: str, run: Callable[[], Awaitable[SaleReturn]]) -> tuple[SaleReturn, bool]:
    """The first result for a key, or run it (the same pattern as checkout)."""
    return await first_or_run(SaleReturn, key, request_hash, "return or exchange", run)


async def original(sale_id: int | None, sale_number: str | None) -> Sale:
    if (sale_id is None) == (sale_number is None):
        raise OperationError.single(ErrorCode.INVALID, "give the sale by its id or its number, exactly one", "sale")
    sale = await (Sale.get_or_none(id=sale_id) if sale_id is not None else Sale.get_or_none(number=sale_number))
    if sale is None:
        raise OperationError.single(
            ErrorCode.NOT_FOUND, "no such sale", "sale.id" if sale_id is not None else "sale.number"
        )
    return sale


async def claim(actor, counter, sale, key: str, request_hash: str, reason: str | None) -> SaleReturn:
    """The key is claimed before anything else is locked; the real number and totals come later
    (a placeholder number keeps the column's NOT NULL UNIQUE until then, within this transaction)."""
    async with in_transaction():  # savepoint: a duplicate key must not abort PostgreSQL's transaction
        return await SaleReturn.create(
            number=f"pending-{uuid.uuid4().hex}",
            sale_id=sale.id,
            branch_id=counter.branch_id,
            counter_id=counter.id,
            cashier_id=actor.staff_id,
            net=ZERO,
            tax=ZERO,
            total=ZERO,
            reason=reason,
            idempotency_key=key,
            request_hash=request_hash,
        )


async def take_back(tx: Transaction, sale_id: int, branch_id: int, items: list[ReturnItem], where: str) -> _TakenBack:
    """Lock the sale, count the units back in with guarded updates, and price each share."""
    placeholders = ", ".join("?" for _ in RETURNABLE)
    locked = await fetch(
        tx.conn,
        f"UPDATE sale SET status = status WHERE id = ? AND status IN ({placeholders}) RETURNING id",
        [sale_id, *(s.value for s in RETURNABLE)],
    )
    sale = await Sale.get(id=sale_id)
    if not locked:
        state = "fully refunded" if sale.status is SaleStatus.REFUNDED else sale.status.value
        raise OperationError.single(ErrorCode.WRONG_STATE, f"sale {sale.number or sale.id} is {state}", "sale")
    by_no = {line.line_no: line for line in await SaleLine.filter(sale_id=sale_id)}
    taken = _TakenBack(sale, [], [])
    problems = Problems()
    for i, item in enumerate(items):
        line, q = by_no.get(item.line_no), item.quantity
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, f"sale {sale.number} has no line {item.line_no}", f"{where}.{i}.lineNo")
            continue
        rows = await fetch(
            tx.conn,
            "UPDATE sale_line SET returned_quantity = returned_quantity + ?"
            " WHERE id = ? AND returned_quantity + ? <= quantity RETURNING returned_quantity",
            [q, line.id, q],
        )
        if not rows:
            left = line.quantity - (await SaleLine.get(id=line.id)).returned_quantity
            problems.add(
                ErrorCode.INVALID,
                f"only {left} left to return of line {line.line_no} ({line.sku})",
                f"{where}.{i}.quantity",
            )
            continue
        restock = Restock(item.restock)
        share = pricing.refund_for(_as_priced(line), q, already_returned=rows[0]["returned_quantity"] - q)
        taken.lines.append(ReturnLine(sale_line_id=line.id, restock=restock, **asdict(share)))
        taken.net, taken.tax, taken.total = taken.net + share.net, taken.tax + share.tax, taken.total + share.total
        if restock is Restock.RESTOCK:
            taken.movements.append(Movement(branch_id, line.variant_id, q))
        elif restock is Restock.DAMAGED:
            taken.movements.append(Movement(branch_id, line.variant_id, q, Bucket.DAMAGED))
    problems.raise_if_any()
    [row] = await fetch(
        tx.conn, "SELECT COUNT(*) AS n FROM sale_line WHERE sale_id = ? AND returned_quantity < quantity", [sale_id]
    )
    taken.fully_returned = int(row["n"]) == 0
    return taken


async def points_back(taken: _TakenBack, key: str, counter, doc: SaleReturn) -> tuple[list, Payment | None]:
    """The wallet entries of this refund (docs/loyalty.md) and, when the sale was paid partly with points, a
    LOYALTY refund tender for the share that goes back as points (the money refunded is the rest)."""
    before = taken.sale.refunded_total  # read under the sale's lock (take_back)
    entries, paid_back = await refund_points(taken.sale, before, before + taken.total, key, counter.branch_id, doc.id)
    return entries, Payment(TenderType.LOYALTY, paid_back) if paid_back else None


def _as_priced(line: SaleLine) -> pricing.PricedLine:
    """The line as it was charged, from the stored values (a reprice could differ)."""
    return pricing.PricedLine(
        quantity=line.quantity,
        unit_price=line.unit_price,
        gross=(line.unit_price * line.quantity).quantize(PKR),
        line_discount=line.line_discount,
        order_discount=line.order_discount,
        net=line.net,
        tax=line.tax,
        total=line.total,
    )


def match_refunds(refunds: list[Payment], due: Decimal, where: str, as_points: Payment | None = None) -> Decimal:
    """Refund tenders must add up exactly to what is due; returns the cash part (out of the drawer).
    `as_points`: the share of the goods paid with points, which goes back to the wallet, not in money."""
    given = sum((t.amount for t in refunds), ZERO)
    if given != due:
        points = f" ({as_points.amount} goes back to the wallet as points)" if as_points else ""
        raise OperationError.single(
            ErrorCode.INVALID, f"refunds add up to {given}; the refund due is {due}{points}", where
        )
    return sum((t.amount for t in refunds if t.type is TenderType.CASH), ZERO)


def _approve_refund(approval: Approval, total: Decimal):
    limit = current_settings().policy.refund_approval_amount
    if total <= limit:
        return None
    return approval.required(f"a refund above {limit}")


async def finish(tx, doc: SaleReturn, counter, register, shift, taken: _TakenBack, refunds, cash_out, approver):
    """Number and fill in the return, write its lines and tenders, and move the original sale on."""
    doc.number = await next_return_number(tx, counter)
    doc.register_id = register.id if register else None
    doc.shift_id = shift.id if shift else None
    doc.approved_by_id = approver.id if approver else None
    doc.net, doc.tax, doc.total, doc.cash_paid_out = taken.net, taken.tax, taken.total, cash_out
    await doc.save()
    for line in taken.lines:
        line.sale_return_id = doc.id
    await ReturnLine.bulk_create(taken.lines)
    # Every refund tender is kept, cash too, so the register report can show refunds by tender;
    # the drawer counts cash through cash_paid_out.
    if refunds:
        await Tender.bulk_create(
            [
                Tender(sale_return_id=doc.id, type=t.type, amount=t.amount, reference=t.reference, account=t.account)
                for t in refunds
            ]
        )
    sale = taken.sale  # read after the lock in take_back: safe to write back
    await Sale.filter(id=sale.id).update(
        refunded_total=sale.refunded_total + taken.total,
        status=SaleStatus.REFUNDED if taken.fully_returned else SaleStatus.UPDATED,
        updated_at=datetime.now(UTC),
    )
    return doc


def posting(key: str, reason: str, actor: Actor, doc: SaleReturn, now: datetime) -> Posting:
    return Posting(key, reason, actor.label, "sale_return", str(doc.id), occurred_at=now)
