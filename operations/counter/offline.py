"""Sales a counter made while it was offline, uploaded later.

The goods have already left the shop, so an offline sale is never refused for stock: it is
applied even below zero and flagged `oversold` for the branch manager. Each sale carries the
client's own ID; uploading the same batch again (a flaky connection retries) applies nothing
twice. Prices are the ones the counter charged, without approval: the sale already happened.
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.branches import Counter
from models.sales import Sale, TenderType
from operations.counter import pricing
from operations.counter.checkouts import Checkout, CheckoutLine, Payment, price_basket, sale_movements, write_sale
from operations.counter.registers import current_register
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    earlier_document,
    fingerprint,
    first_or_run,
    record_audit,
    require,
    transaction,
)
from operations.stock import Posting, apply_to_ledger

MAX_BATCH = 100
MAX_AGE = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=10)  # a counter's clock may run a little ahead


@dataclass(frozen=True)
class OfflineSale:
    offline_id: str
    occurred_at: datetime
    lines: list[CheckoutLine]
    payments: list[Payment]
    order_discount: Decimal = Decimal(0)
    customer_name: str | None = None
    customer_phone: str | None = None
    note: str | None = None


@dataclass
class OfflineResult:
    offline_id: str
    sale: Sale | None = None
    replayed: bool = False
    problems: list[Problem] = field(default_factory=list)


async def sync_offline_sales(actor: Actor, counter_id: int, sales: list[OfflineSale]) -> list[OfflineResult]:
    """One result per uploaded sale, in the order sent; one sale's problem does not stop the others."""
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.SELL, counter.branch_id)
    if actor.staff_id is None:
        raise OperationError.single(ErrorCode.INVALID, "sales are uploaded by a signed-in staff member", "counterId")
    if len(sales) > MAX_BATCH:
        raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_BATCH} sales per upload", "sales")
    results = []
    for i, sale in enumerate(sales):
        try:
            placed, replayed = await _apply(actor, counter, sale)
            results.append(OfflineResult(sale.offline_id, placed, replayed))
        except OperationError as error:
            problems = [
                Problem(p.code, p.message, f"sales.{i}.{p.field}" if p.field else f"sales.{i}") for p in error.problems
            ]
            results.append(OfflineResult(sale.offline_id, problems=problems))
    return results


def _key(counter: Counter, offline_id: str) -> str:
    return f"offline:{counter.id}:{offline_id}"


def _check(sale: OfflineSale) -> None:
    for i, p in enumerate(sale.payments):
        if p.type is TenderType.LOYALTY:  # the wallet is checked when the points are spent, online
            raise OperationError.single(
                ErrorCode.INVALID, "points cannot be spent offline: take another tender", f"tenders.{i}.type"
            )
    if not sale.offline_id.strip() or len(sale.offline_id) > 100:
        raise OperationError.single(ErrorCode.INVALID, "offlineId must be 1–100 characters", "offlineId")
    now = datetime.now(UTC)
    when = sale.occurred_at if sale.occurred_at.tzinfo else sale.occurred_at.replace(tzinfo=UTC)
    if when > now + CLOCK_SKEW or when < now - MAX_AGE:
        raise OperationError.single(
            ErrorCode.INVALID, "occurredAt must be within the last 30 days and not in the future", "occurredAt"
        )


async def _apply(actor: Actor, counter: Counter, sale: OfflineSale) -> tuple[Sale, bool]:
    _check(sale)
    key = _key(counter, sale.offline_id)
    request_hash = fingerprint(asdict(sale))
    earlier = await earlier_document(Sale, key, request_hash, "offline sale", "offlineId")
    if earlier is not None:
        return earlier, True
    basket = Checkout(
        counter.id,
        sale.lines,
        sale.payments,
        key,
        sale.order_discount,
        sale.customer_name,
        sale.customer_phone,
        note=sale.note,
    )
    priced = await price_basket(basket, sell_archived=True)
    tenders = [pricing.Tender(pricing.TenderType(p.type.value), p.amount, p.reference) for p in sale.payments]
    priced.settlement = pricing.settle(priced.priced.total, tenders)
    register = await current_register(counter.id)
    if register is None:
        raise OperationError.single(
            ErrorCode.REGISTER_CLOSED, "open the register at this counter, then upload again", "counterId"
        )
    return await first_or_run(
        Sale,
        key,
        request_hash,
        "offline sale",
        lambda: _write(actor, counter, register, basket, priced, sale, key, request_hash),
        "offlineId",
    )


async def _write(actor, counter, register, basket, priced, sale: OfflineSale, key, request_hash) -> Sale:
    # In UTC, as every time is kept: SQLite keeps times as text, and a sale kept as "23:30+05:00" would sort
    # and compare (a day's sales, `sales(from:, to:)`) as if it were 23:30 UTC.
    occurred_at = (sale.occurred_at if sale.occurred_at.tzinfo else sale.occurred_at.replace(tzinfo=UTC)).astimezone(
        UTC
    )
    async with transaction() as tx:
        placed = await write_sale(
            tx,
            actor,
            basket,
            counter,
            register,
            priced,
            now=datetime.now(UTC),
            idempotency_key=key,
            request_hash=request_hash,
            approver=None,
        )
        posting = Posting(
            f"sale:{placed.id}",
            "sale",
            actor.label,
            "sale",
            str(placed.id),
            note="uploaded after working offline",
            occurred_at=occurred_at,
            allow_negative=True,
        )
        result = await apply_to_ledger(tx, posting, sale_movements(counter, priced))
        placed.offline_id = sale.offline_id
        placed.occurred_at = occurred_at
        placed.oversold = any(m.on_hand < 0 for m in result.movements)
        await placed.save(update_fields=["offline_id", "occurred_at", "oversold"])
        if placed.oversold:
            await record_audit(
                actor,
                "sale.oversold",
                branch_id=counter.branch_id,
                target=("sale", placed.id),
                skus=",".join(m.sku for m in result.movements if m.on_hand < 0),
            )
    return placed
