"""Counter checkout: price, take payment, number the sale, deduct stock — one transaction.

The way of a sale (docs/architecture.md, A sale): the idempotency key is claimed first (a retried request returns
the first sale), the sale and its lines are written, the ledger deducts stock with guarded
updates (INSUFFICIENT_STOCK names each short line and nothing is kept), the ledger queues the
Shopify deltas in the outbox, and live stock events go out after commit.
"""

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from models.branches import Branch, Counter
from models.catalog import Variant
from models.fiscal import FiscalAuthority, FiscalDocument, FiscalKind, FiscalStatus
from models.sales import Sale, SaleLine, SaleStatus, Tender, TenderType
from models.staff import Staff
from operations.counter import pricing
from operations.counter.fiscal_outbox import check_buyer, queue_invoice
from operations.counter.receipts import ReceiptData, ReceiptLine, ReceiptTender
from operations.counter.registers import Held, hold_counter_register, shift_for
from operations.directory import (
    VariantRef,
    check_loyalty_tenders,
    customer_for_sale,
    post_sale_points,
    variants_for_refs,
    vouch,
)
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    current_settings,
    earlier_document,
    fetch,
    fingerprint,
    first_or_run,
    record_audit,
    require,
    transaction,
)
from operations.stock import Movement, Posting, References, apply_to_ledger

MAX_LINES = 200
MAX_TENDERS = 10


@dataclass(frozen=True)
class CheckoutLine:
    variant: VariantRef
    quantity: int
    price_override: Decimal | None = None  # a unit price other than the shelf price: needs approval
    discount: Decimal = Decimal(0)  # amount off the whole line


@dataclass(frozen=True)
class Payment:
    type: TenderType
    amount: Decimal
    reference: str | None = None  # card last 4 digits, bank or wallet transaction id
    account: str | None = None  # which of the retailer's accounts received it


@dataclass(frozen=True)
class Checkout:
    counter_id: int
    lines: list[CheckoutLine]
    payments: list[Payment]
    idempotency_key: str
    order_discount: Decimal = Decimal(0)
    customer_name: str | None = None
    customer_phone: str | None = None
    salesperson_id: int | None = None
    manager_pin: str | None = None
    note: str | None = None
    customer_id: int | None = None  # the customer the sale is for
    customer_by_phone: str | None = None  # or the phone they gave at the counter: found, or refused


async def with_customer(c, field: str = "customer"):
    """The basket (a Checkout or Draft) naming its customer by id, found by id or phone (a phone nobody has is
    refused, never made into a customer); the receipt's name and phone come from the customer unless given."""
    customer = await customer_for_sale(c.customer_id, c.customer_by_phone, field)
    if customer is None:
        return c
    return replace(
        c,
        customer_id=customer.id,
        customer_by_phone=None,
        customer_name=c.customer_name or customer.display_name[:120] or None,
        customer_phone=c.customer_phone or customer.phone,
    )


@dataclass
class _Priced:
    variants: list[Variant]
    priced: pricing.PricedSale
    settlement: pricing.Settlement | None  # None until the tenders are settled (see price_basket)
    needs_approval: list[str] = field(default_factory=list)


def _validate(c: Checkout) -> None:
    problems = Problems()
    problems.check_key(c.idempotency_key)
    if not c.lines:
        problems.add(ErrorCode.INVALID, "a sale needs at least one line", "lines")
    if len(c.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines", "lines")
    if len(c.payments) > MAX_TENDERS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_TENDERS} tenders", "tenders")
    for name, value, limit in (("note", c.note, 500), ("customerName", c.customer_name, 120)):
        if value is not None and len(value) > limit:
            problems.add(ErrorCode.INVALID, f"{name} must be at most {limit} characters", name)
    problems.raise_if_any()


async def _price(c: Checkout) -> _Priced:
    priced = await price_basket(c)
    tenders = [pricing.Tender(pricing.TenderType(p.type.value), p.amount, p.reference) for p in c.payments]
    priced.settlement = pricing.settle(priced.priced.total, tenders)
    return priced


async def price_basket(c: Checkout, *, sell_archived: bool = False) -> _Priced:
    """Price the lines and note what needs approval, without settling: an exchange settles its
    tenders against the difference after the return, which it only knows inside its transaction.
    An archived product's variant is refused (ARCHIVED) unless `sell_archived`: a sale made offline
    already happened."""
    variants = await variants_for_refs([line.variant for line in c.lines])
    if not sell_archived:
        archived = Problems()
        for i, variant in enumerate(variants):
            if variant.product.archived_at is not None:
                archived.add(ErrorCode.ARCHIVED, f"{variant.sku} is archived: it cannot be sold", f"lines.{i}.variant")
        archived.raise_if_any()
    policy = current_settings().policy
    price_lines, needs_approval = [], []
    for i, (line, variant) in enumerate(zip(c.lines, variants, strict=True)):
        unit_price = line.price_override if line.price_override is not None else variant.price
        if line.price_override is not None and line.price_override != variant.price:
            needs_approval.append(f"lines.{i}.priceOverride")
        gross = unit_price * line.quantity if isinstance(line.quantity, int) else Decimal(0)
        if gross and line.discount * 100 > gross * policy.discount_approval_percent:
            needs_approval.append(f"lines.{i}.discount")
        price_lines.append(pricing.PriceLine(unit_price, line.quantity, variant.tax_rate, line.discount))
    priced = pricing.price_sale(price_lines, order_discount=c.order_discount, tax_inclusive=policy.prices_include_tax)
    after_lines = priced.subtotal - sum((p.line_discount for p in priced.lines), Decimal(0))
    if after_lines and c.order_discount * 100 > after_lines * policy.discount_approval_percent:
        needs_approval.append("orderDiscount")
    return _Priced(variants, priced, None, needs_approval)


async def checkout(actor: Actor, c: Checkout) -> tuple[Sale, bool]:
    """Returns (sale, replayed). Business failures raise OperationError and write nothing."""
    # The branch comes with the counter: the sale's number, its fiscal document and the ledger read it.
    counter = await Counter.filter(id=c.counter_id).select_related("branch").first()
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.SELL, counter.branch_id)
    approval = await vouch(actor, counter.branch_id, c.manager_pin, counter.id)
    _validate(c)
    request_hash = fingerprint(asdict(c) | {"manager_pin": None})
    earlier = await earlier_document(Sale, c.idempotency_key, request_hash, "sale")
    if earlier is not None:
        return earlier, True
    if actor.staff_id is None:
        raise OperationError.single(ErrorCode.INVALID, "a sale is made by a signed-in staff member", "counterId")
    if not counter.active:
        raise OperationError.single(ErrorCode.WRONG_STATE, "this counter is out of use", "counterId")
    c = await with_customer(c)
    check_loyalty_tenders(c.payments, c.customer_id)
    priced = await _price(c)
    approver = None
    if priced.needs_approval:
        approver = approval.required("a price override or large discount")
    await _check_salesperson(c.salesperson_id, counter.branch_id)
    await check_buyer(counter, priced.priced.total, c.customer_id)
    # The key was looked up just above: only a retry racing this one is left to settle (first_or_run).
    return await first_or_run(
        Sale,
        c.idempotency_key,
        request_hash,
        "sale",
        lambda: _place(actor, c, counter, priced, request_hash, approver),
        checked=True,
    )


async def _check_salesperson(staff_id: int | None, branch_id: int) -> None:
    if staff_id is None:
        return
    staff = await Staff.get_or_none(id=staff_id, active=True)
    if staff is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such salesperson", "salespersonId")


async def _next_number(tx, counter: Counter, column: str) -> str:
    """Sequential per counter, taken inside the document's transaction so a rollback leaves no hole."""
    # The branch's code comes back with the number: the number is made of it.
    sql = (
        f"UPDATE sale_number_sequence SET {column} = {column} + 1 WHERE counter_id = ? RETURNING {column},"
        " (SELECT b.code FROM branch b WHERE b.id = ?) AS branch_code"
    )
    values = [counter.id, counter.branch_id]
    rows = await fetch(tx.conn, sql, values)
    if not rows:
        await fetch(
            tx.conn,
            "INSERT INTO sale_number_sequence (counter_id, last_number, last_return_number) VALUES (?, 0, 0)"
            " ON CONFLICT (counter_id) DO NOTHING",
            [counter.id],
        )
        rows = await fetch(tx.conn, sql, values)
    return f"{rows[0]['branch_code']}-{counter.code}-{rows[0][column]:06d}"


async def next_sale_number(tx, counter: Counter) -> str:
    return await _next_number(tx, counter, "last_number")


async def next_return_number(tx, counter: Counter) -> str:
    """Returns run on their own numbers (R-LHR-GUL-C1-000001), so sale numbers stay consecutive."""
    return "R-" + await _next_number(tx, counter, "last_return_number")


async def _place(actor, c: Checkout, counter, priced: _Priced, request_hash, approver) -> Sale:
    now = datetime.now(UTC)
    async with transaction() as tx:
        held = await hold_counter_register(tx, counter.id, actor.staff_id)
        if held is None:
            raise OperationError.single(
                ErrorCode.REGISTER_CLOSED, "open the register at this counter first", "counterId"
            )
        sale = await write_sale(
            tx,
            actor,
            c,
            counter,
            held,
            priced,
            now=now,
            idempotency_key=c.idempotency_key,
            request_hash=request_hash,
            approver=approver,
        )
        # Points spent and earned, before the stock: the same lock order as returns (docs/loyalty.md).
        await post_sale_points(tx, sale, c.payments, actor.label)
        await apply_to_ledger(
            tx,
            Posting(f"sale:{sale.id}", "sale", actor.label, "sale", str(sale.id), occurred_at=now),
            sale_movements(counter, priced),
            # What the ledger would read again: the variants' SKUs and the branch's setting, read for this sale.
            References(
                {v.id: v.sku for v in priced.variants},
                {counter.branch_id: counter.branch.allow_negative_stock},
                frozenset(v.id for v in priced.variants if not v.tracked),
            ),
        )
        if approver:
            await record_audit(
                actor,
                "sale.approved_override",
                branch_id=counter.branch_id,
                target=("sale", sale.id),
                approved_by=approver.id,
                fields=",".join(priced.needs_approval),
            )
    return sale


async def write_sale(
    tx,
    actor,
    c: Checkout,
    counter,
    register,
    priced: _Priced,
    *,
    now,
    idempotency_key,
    request_hash,
    approver,
    occurred_at: datetime | None = None,
) -> Sale:
    """Write a placed sale's rows (sale, shift, number, lines, tenders, its fiscal invoice's outbox row) inside
    the caller's transaction — everything but the stock, so an exchange can post its return and its new sale
    in one ledger batch. `priced.settlement` must be set; `occurred_at` is an offline sale's own time.
    `register` is a Register (its cashier's shift is found here) or what `hold_counter_register` held.

    The register is held and the number taken before the sale's row is inserted, so the row is written whole
    in one INSERT. A duplicate idempotency key fails that INSERT and the whole transaction with it, which
    `first_or_run` (outside it) answers with the first sale: nothing here catches it, so no savepoint."""
    p, settlement = priced.priced, priced.settlement
    if isinstance(register, Held):
        held = register
    else:
        held = Held(register.id, (await shift_for(register, actor.staff_id)).id)
    number = await next_sale_number(tx, counter)
    sale = await Sale.create(
        number=number,
        shift_id=held.shift_id,
        branch_id=counter.branch_id,
        counter_id=counter.id,
        register_id=held.register_id,
        cashier_id=actor.staff_id,
        salesperson_id=c.salesperson_id,
        customer_id=c.customer_id,
        customer_name=c.customer_name,
        customer_phone=c.customer_phone,
        status=SaleStatus.PLACED,
        tax_inclusive=current_settings().policy.prices_include_tax,
        currency=current_settings().policy.currency,
        order_discount=c.order_discount,
        subtotal=p.subtotal,
        discount_total=p.discount_total,
        net_total=p.net_total,
        tax_total=p.tax_total,
        total=p.total,
        paid=settlement.paid,
        change_due=settlement.change_due,
        cash_taken=settlement.cash_taken,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        approved_by_id=approver.id if approver else None,
        note=c.note,
        occurred_at=occurred_at or now,
        placed_at=now,
    )
    await write_lines(sale, c, priced)
    branch = counter.branch if isinstance(counter.branch, Branch) else None  # when read with the counter
    await queue_invoice(
        sale,
        counter,
        pct_codes=[(v.sku, v.pct_code) for v in priced.variants],
        authority=FiscalAuthority(branch.fiscal_authority) if branch is not None else None,
    )
    return sale


def sale_movements(counter, priced: _Priced) -> list[Movement]:
    """The stock a placed sale takes off the counter's branch, one movement per line in line order
    (the ledger names a short line by its index in the batch)."""
    return [
        Movement(counter.branch_id, v.id, -line.quantity)
        for line, v in zip(priced.priced.lines, priced.variants, strict=True)
    ]


async def write_lines(sale: Sale, c: Checkout, priced: _Priced) -> None:
    await SaleLine.bulk_create(
        [
            SaleLine(
                sale_id=sale.id,
                line_no=i + 1,
                variant_id=v.id,
                sku=v.sku,
                description=f"{v.product.title} {v.title}".strip(),
                quantity=p.quantity,
                unit_price=p.unit_price,
                price_overridden=line.price_override is not None and line.price_override != v.price,
                tax_rate=v.tax_rate,
                pct_code=v.pct_code,
                line_discount=p.line_discount,
                order_discount=p.order_discount,
                net=p.net,
                tax=p.tax,
                total=p.total,
                unit_cost=v.average_cost,
            )
            for i, (line, v, p) in enumerate(zip(c.lines, priced.variants, priced.priced.lines, strict=True))
        ]
    )
    await Tender.bulk_create(
        [
            Tender(sale_id=sale.id, type=p.type, amount=p.amount, reference=p.reference, account=p.account)
            for p in c.payments
        ]
    )


async def receipt_for(sale: Sale) -> ReceiptData:
    """The receipt as structured data, from what was stored (a reprint shows what was charged)."""
    await sale.fetch_related("branch", "counter", "cashier", "salesperson", "lines", "tenders")
    return receipt_of(
        sale,
        branch=sale.branch,
        counter=sale.counter,
        cashier=sale.cashier,
        salesperson=sale.salesperson,
        lines=list(sale.lines),
        tenders=list(sale.tenders),
        fiscal=await FiscalDocument.get_or_none(sale_id=sale.id, kind=FiscalKind.INVOICE),
    )


def receipt_of(
    sale: Sale,
    *,
    branch: Branch,
    counter: Counter,
    cashier: Staff,
    salesperson: Staff | None,
    lines: list[SaleLine],
    tenders: list[Tender],
    fiscal: FiscalDocument | None = None,
) -> ReceiptData:
    """The receipt from a sale's rows, read by whoever holds them (`receipt_for`, or a page of sales
    through its loaders); no database. `fiscal` is the sale's invoice document: its number and QR once back."""
    reported = fiscal is not None and fiscal.status is not FiscalStatus.NOT_FISCALISED
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        net, tax = by_rate.get(line.tax_rate, (Decimal(0), Decimal(0)))
        by_rate[line.tax_rate] = (net + line.net, tax + line.tax)
    return ReceiptData(
        retailer=current_settings().policy.retailer_name,
        branch_name=branch.name,
        branch_code=branch.code,
        counter_code=counter.code,
        cashier=cashier.name,
        register_id=sale.register_id or 0,
        shift_id=sale.shift_id or 0,
        sale_number=sale.number or f"DRAFT-{sale.id}",
        issued_at=sale.placed_at or sale.created_at,
        timezone=branch.timezone,
        lines=[
            ReceiptLine(
                description=line.description,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.line_discount + line.order_discount,
                total=line.total,
                tax_rate=line.tax_rate,
            )
            for line in sorted(lines, key=lambda x: x.line_no)
        ],
        subtotal=sale.subtotal,
        discount_total=sale.discount_total,
        tax_total=sale.tax_total,
        tax_by_rate=dict(sorted(by_rate.items())),
        total=sale.total,
        tenders=[ReceiptTender(t.type.value.title(), t.amount, t.reference) for t in tenders],
        change_due=sale.change_due,
        currency=sale.currency,
        tax_inclusive=sale.tax_inclusive,
        customer=sale.customer_name,
        salesperson=salesperson.name if salesperson else None,
        title="QUOTE" if sale.is_quote else "SALE RECEIPT",
        fiscal_authority=fiscal.authority.value if reported else None,
        fiscal_pos_id=fiscal.pos_id if reported else None,
        fiscal_invoice_number=fiscal.fiscal_number if reported else None,
        fiscal_qr=fiscal.qr_content if reported else None,
        fiscal_fee=current_settings().fiscal.pos_fee if reported else None,
    )
