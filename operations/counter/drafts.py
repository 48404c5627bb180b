"""Drafts, parked sales and quotes; placing them without re-entry; voiding a sale.

A draft may hold its stock as a reservation (available drops, on hand does not) until it expires,
so a customer who steps out to the ATM finds the last kurta still there. Placing the draft turns
the hold into a deduction in one ledger batch: on hand and reserved both drop, nothing is sold twice.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from models.branches import Counter
from models.sales import Sale, SaleLine, SaleStatus, Tender
from models.stock import Bucket
from operations.counter import pricing
from operations.counter.checkouts import (
    Checkout,
    CheckoutLine,
    Payment,
    next_sale_number,
    price_basket,
    with_customer,
    write_lines,
)
from operations.counter.registers import current_register, shift_for
from operations.directory import check_loyalty_tenders, post_points, post_sale_points, refund_points, vouch
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    current_settings,
    earlier_document,
    fingerprint,
    record_audit,
    require,
    run_once,
    transaction,
)
from operations.stock import Movement, Posting, apply_to_ledger

MAX_HOLD = timedelta(hours=48)


@dataclass(frozen=True)
class Draft:
    counter_id: int
    lines: list[CheckoutLine]
    order_discount: Decimal = Decimal(0)
    customer_name: str | None = None
    customer_phone: str | None = None
    hold_minutes: int | None = None  # hold the stock for this long; None: no hold
    is_quote: bool = False
    note: str | None = None
    customer_id: int | None = None  # the customer the draft is for
    customer_by_phone: str | None = None  # or the phone they gave at the counter: found, or refused


async def _counter(actor: Actor, counter_id: int) -> Counter:
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.SELL, counter.branch_id)
    if actor.staff_id is None:
        raise OperationError.single(ErrorCode.INVALID, "drafts are made by a signed-in staff member", "counterId")
    return counter


async def save_draft(
    actor: Actor, draft: Draft, draft_id: int | None = None, idempotency_key: str | None = None
) -> Sale:
    """Create a draft, or replace an existing one's lines (its old hold is released in the same batch).

    With a key, a retried save returns the first draft instead of making (and holding stock for)
    a second one."""
    counter = await _counter(actor, draft.counter_id)
    if draft.hold_minutes is not None and not 1 <= draft.hold_minutes <= MAX_HOLD.total_seconds() // 60:
        raise OperationError.single(ErrorCode.INVALID, "holdMinutes must be 1–2880", "holdMinutes")
    basket = Checkout(
        counter.id,
        draft.lines,
        [],
        "draft",
        draft.order_discount,
        draft.customer_name,
        draft.customer_phone,
        note=draft.note,
    )
    priced = await price_basket(basket)

    async def write() -> Sale:
        # The customer is looked up for a first save only: a retry returns the first draft as it was.
        return await _write_draft(tx, actor, counter, await with_customer(draft), draft_id, basket, priced)

    async with transaction() as tx:
        request = asdict(draft) | {"draft_id": draft_id}
        sale, _ = await run_once(tx, "saveDraft", idempotency_key, request, write, lambda pk: Sale.get(id=pk))
    return await Sale.get(id=sale.id)


async def _write_draft(tx, actor, counter, draft: Draft, draft_id, basket, priced) -> Sale:
    now = datetime.now(UTC)
    p = priced.priced
    fields = dict(
        subtotal=p.subtotal,
        discount_total=p.discount_total,
        net_total=p.net_total,
        tax_total=p.tax_total,
        total=p.total,
        order_discount=draft.order_discount,
        customer_id=draft.customer_id,
        customer_name=draft.customer_name,
        customer_phone=draft.customer_phone,
        is_quote=draft.is_quote,
        note=draft.note,
        counter_id=counter.id,
    )
    if draft_id is None:
        sale = await Sale.create(
            branch_id=counter.branch_id,
            cashier_id=actor.staff_id,
            status=SaleStatus.DRAFT,
            tax_inclusive=current_settings().policy.prices_include_tax,
            currency=current_settings().policy.currency,
            occurred_at=now,
            **fields,
        )
        old_hold = []
    else:
        # Row lock first: two tills editing the same draft take turns, so lines and holds never mix.
        if not await Sale.filter(id=draft_id, branch_id=counter.branch_id, status=SaleStatus.DRAFT).update(**fields):
            await _open_draft(draft_id, counter)  # says why: not found, or no longer a draft
        sale = await Sale.get(id=draft_id)
        old_hold = await _held(sale)
        await SaleLine.filter(sale_id=sale.id).delete()
    await write_lines(sale, basket, priced)
    version = uuid4().hex[:12]  # each save holds under its own ledger key
    movements = [Movement(counter.branch_id, v, -q, Bucket.RESERVED) for v, q in old_hold]
    if draft.hold_minutes:
        movements += [
            Movement(counter.branch_id, v.id, line.quantity, Bucket.RESERVED)
            for line, v in zip(p.lines, priced.variants, strict=True)
        ]
    await Sale.filter(id=sale.id).update(
        reservation_key=f"draft:{sale.id}:hold:{version}" if draft.hold_minutes else None,
        reservation_expires_at=now + timedelta(minutes=draft.hold_minutes) if draft.hold_minutes else None,
    )
    if movements:
        posting = Posting(f"draft:{sale.id}:{version}", "draft_hold", actor.label, "sale", str(sale.id))
        await apply_to_ledger(tx, posting, movements)
    return sale


async def _open_draft(draft_id: int, counter: Counter) -> Sale:
    sale = await Sale.get_or_none(id=draft_id)
    if sale is None or sale.branch_id != counter.branch_id:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such draft at this branch", "draftId")
    if sale.status is not SaleStatus.DRAFT:
        raise OperationError.single(ErrorCode.WRONG_STATE, f"sale is {sale.status.value}, not a draft", "draftId")
    return sale


async def _held(sale: Sale) -> list[tuple[int, int]]:
    """What a draft's hold reserved: (variant id, units), read from its lines while the hold is on."""
    if not sale.reservation_key:
        return []
    return [(line.variant_id, line.quantity) for line in await SaleLine.filter(sale_id=sale.id).order_by("line_no")]


async def place_draft(
    actor: Actor,
    draft_id: int,
    counter_id: int,
    payments: list[Payment],
    idempotency_key: str,
) -> tuple[Sale, bool]:
    """Turn a draft (or quote) into a placed sale at any counter of its branch, without re-entry."""
    counter = await _counter(actor, counter_id)
    request_hash = fingerprint({"draft": draft_id, "counter": counter_id, "payments": [asdict(p) for p in payments]})
    earlier = await earlier_document(Sale, idempotency_key, request_hash, "sale")
    if earlier is not None:
        return earlier, True
    sale = await _open_draft(draft_id, counter)
    # A product archived since the draft was saved is not sold (operations/directory/catalog_edits.py).
    archived = await SaleLine.filter(sale_id=sale.id, variant__product__archived_at__isnull=False).values_list(
        "line_no", "variant__sku"
    )
    if archived:
        problems = Problems()
        for line_no, sku in sorted(archived):
            problems.add(ErrorCode.ARCHIVED, f"line {line_no}: {sku} is archived: it cannot be sold", "draftId")
        problems.raise_if_any()
    check_loyalty_tenders(payments, sale.customer_id)
    tenders = [pricing.Tender(pricing.TenderType(p.type.value), p.amount, p.reference) for p in payments]
    settlement = pricing.settle(sale.total, tenders)
    register = await current_register(counter.id)
    if register is None:
        raise OperationError.single(ErrorCode.REGISTER_CLOSED, "open the register at this counter first", "counterId")
    now = datetime.now(UTC)
    async with transaction() as tx:
        # Whoever clears the hold's key gives its units back: us, or the expiry sweeper — never both.
        release_hold = bool(sale.reservation_key) and bool(
            await Sale.filter(id=sale.id, status=SaleStatus.DRAFT, reservation_key=sale.reservation_key).update(
                reservation_key=None, reservation_expires_at=None
            )
        )
        # Guarded: two counters placing the same draft at once — only one turns it into a sale.
        taken = await Sale.filter(id=sale.id, status=SaleStatus.DRAFT).update(
            status=SaleStatus.PLACED,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            counter_id=counter.id,
            register_id=register.id,
            paid=settlement.paid,
            change_due=settlement.change_due,
            cash_taken=settlement.cash_taken,
            placed_at=now,
            occurred_at=now,
            is_quote=False,
        )
        if not taken:
            raise OperationError.single(ErrorCode.WRONG_STATE, "this draft was just placed elsewhere", "draftId")
        shift = await shift_for(register, actor.staff_id)
        number = await next_sale_number(tx, counter)
        await Sale.filter(id=sale.id).update(shift_id=shift.id, number=number)
        await Tender.bulk_create(
            [
                Tender(sale_id=sale.id, type=p.type, amount=p.amount, reference=p.reference, account=p.account)
                for p in payments
            ]
        )
        await post_sale_points(tx, sale, payments, actor.label)
        movements = []
        for line in await SaleLine.filter(sale_id=sale.id).order_by("line_no"):
            movements.append(Movement(counter.branch_id, line.variant_id, -line.quantity))
            if release_hold:
                movements.append(Movement(counter.branch_id, line.variant_id, -line.quantity, Bucket.RESERVED))
        await apply_to_ledger(tx, Posting(f"sale:{sale.id}", "sale", actor.label, "sale", str(sale.id)), movements)
        await record_audit(
            actor, "draft.placed", branch_id=counter.branch_id, target=("sale", sale.id), held=release_hold
        )
    return await Sale.get(id=sale.id), False


async def release_expired_holds(now: datetime | None = None) -> int:
    """Give back the stock of drafts whose hold ran out; returns how many were released."""
    now = now or datetime.now(UTC)
    released = 0
    for sale in await Sale.filter(
        status=SaleStatus.DRAFT, reservation_key__not_isnull=True, reservation_expires_at__lte=now
    ):
        async with transaction() as tx:
            # Guarded on the key: an edit or a placement racing with the sweeper wins cleanly.
            if not await Sale.filter(id=sale.id, reservation_key=sale.reservation_key).update(
                reservation_key=None, reservation_expires_at=None
            ):
                continue
            movements = [Movement(sale.branch_id, v, -q, Bucket.RESERVED) for v, q in await _held(sale)]
            await apply_to_ledger(tx, Posting(f"{sale.reservation_key}:expired", "draft_hold_expired"), movements)
        released += 1
    return released


async def void_sale(
    actor: Actor, sale_id: int, manager_pin: str | None, reason: str, idempotency_key: str | None = None
) -> Sale:
    """Cancel a sale in the same open register, with a manager's PIN; its stock goes back.

    With a key, a retried void returns the sale voided the first time and changes nothing (even once the
    register is closed); the same key for another sale or reason is IDEMPOTENCY_KEY_REUSED. Voiding a
    sale that is already voided under another key (or none) is WRONG_STATE."""
    sale = await Sale.get_or_none(id=sale_id)
    if sale is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such sale", "saleId")
    require(actor, Permission.SELL, sale.branch_id)
    approval = await vouch(actor, sale.branch_id, manager_pin, sale.counter_id)
    if not reason or len(reason) > 200:
        raise OperationError.single(ErrorCode.INVALID, "give a reason (at most 200 characters)", "reason")

    async def void() -> Sale:
        if sale.status is not SaleStatus.PLACED:
            raise OperationError.single(ErrorCode.WRONG_STATE, f"a {sale.status.value} sale cannot be voided", "saleId")
        register = await current_register(sale.counter_id)
        if register is None or register.id != sale.register_id:
            raise OperationError.single(
                ErrorCode.WRONG_STATE, "only a sale of the register still open can be voided: make a return", "saleId"
            )
        approver = approval.required("voiding a sale")
        if not await Sale.filter(id=sale.id, status=SaleStatus.PLACED).update(
            status=SaleStatus.VOIDED, voided_at=datetime.now(UTC), approved_by_id=approver.id
        ):
            raise OperationError.single(ErrorCode.WRONG_STATE, "this sale was just changed", "saleId")
        # Every point back as it was: those the sale spent return, those it earned are taken back.
        entries, _ = await refund_points(sale, Decimal(0), sale.total, f"void:{sale.id}", sale.branch_id)
        if entries:
            await post_points(tx, sale.customer_id, entries, actor.label)
        movements = [
            Movement(sale.branch_id, line.variant_id, line.quantity)
            for line in await SaleLine.filter(sale_id=sale.id).order_by("line_no")
        ]
        await apply_to_ledger(tx, Posting(f"void:{sale.id}", "void", actor.label, "sale", str(sale.id)), movements)
        await record_audit(
            actor,
            "sale.voided",
            branch_id=sale.branch_id,
            target=("sale", sale.id),
            approved_by=approver.id,
            reason=reason,
        )
        return sale

    async with transaction() as tx:
        request = {"sale": sale.id, "reason": reason}
        voided, _ = await run_once(tx, "voidSale", idempotency_key, request, void, lambda pk: Sale.get(id=pk))
    return await Sale.get(id=voided.id)
