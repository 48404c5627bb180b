"""Goods received against a purchase order (a GRN): stock in, and the weighted average cost.

The average-cost rule (per variant, across all branches — one unit cost per variant):

    new_avg = (old_avg × on_hand_before + unit_cost × received) / (on_hand_before + received)

where `on_hand_before` is the variant's on hand summed over every branch just before the
receipt. When the variant has no cost yet, or no positive stock (on hand ≤ 0: nothing left to
average with, or units sold before they were counted in), the new average is simply the receipt's
unit cost. Results keep 4 decimals (rounded half up). Each GRN line records the average before
and after and the on hand it was weighted by, so every step of a variant's cost can be checked.

One transaction per receipt, locks always taken in this order so concurrent receipts neither
deadlock nor lose an update:
1. the GRN row claims the idempotency key (a savepoint insert): a retry that arrives while the
   first is still running waits on the unique index, then gets the first GRN;
2. the order row (a guarded UPDATE that checks it is ORDERED or PARTIALLY_RECEIVED): receipts of
   one order take turns, and a close or cancel cannot slip in between;
3. each order line grows with a guarded UPDATE (`received + q <= ordered - cancelled`): never
   more than outstanding, whatever runs concurrently — over-receipt is refused, not approved;
4. each variant's row, in variant id order, then its on hand across branches is read and the new
   average written: two receipts of one variant (on different orders) take turns here, so the
   average equals applying them one after the other;
5. the GRN number, then `apply_to_ledger` last (levels in (branch, variant) order, then the
   branch's sequence): ON_HAND +q with reason `received`, pushed to Shopify through the outbox.
On SQLite the first write takes the database's write lock and every step above runs alone.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from tortoise.transactions import in_transaction

from models.catalog import Variant
from models.purchasing import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from models.stock import Bucket, ShopifyEffect
from operations.directory import VariantRef, resolve_variant_refs
from operations.kernel import (
    Actor,
    ErrorCode,
    Permission,
    Problems,
    Transaction,
    fetch,
    fingerprint,
    first_or_run,
    record_audit,
    require,
    transaction,
)
from operations.purchasing.orders import (
    COST_STEP,
    MAX_LINES,
    MAX_NOTE,
    MAX_UNITS,
    RECEIVABLE,
    check_text,
    cost_problem,
    is_units,
    load_order,
    next_number,
    normal_cost,
    take,
)
from operations.stock import Movement, Posting, apply_to_ledger

RECEIVED = "received"  # the stock movements' reason


@dataclass(frozen=True)
class ReceiptLine:
    """An order line by its id, or by the variant on it (ID, SKU or a scanned barcode)."""

    quantity: int
    line_id: int | None = None
    variant: VariantRef | None = None
    unit_cost: Decimal | None = None  # when the invoice differs from the order; default the order's


@dataclass(frozen=True)
class GoodsIn:
    purchase_order_id: int
    lines: list[ReceiptLine]
    idempotency_key: str
    note: str | None = None


def weighted_average(old: Decimal | None, on_hand_before: int, unit_cost: Decimal, received: int) -> Decimal:
    """The module docstring's rule, in Decimal throughout (no float ever touches a cost)."""
    if old is None or on_hand_before <= 0:
        return unit_cost.quantize(COST_STEP, rounding=ROUND_HALF_UP)
    with localcontext() as ctx:
        ctx.prec = 50
        value = (old * on_hand_before + unit_cost * received) / (on_hand_before + received)
        return value.quantize(COST_STEP, rounding=ROUND_HALF_UP)


def _validate(goods: GoodsIn) -> None:
    problems = Problems()
    problems.check_key(goods.idempotency_key)
    check_text(problems, goods.note, MAX_NOTE, "note")
    if not goods.lines:
        problems.add(ErrorCode.INVALID, "receive at least one line", "lines")
    if len(goods.lines) > MAX_LINES:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines per receipt", "lines")
    for i, line in enumerate(goods.lines):
        if (line.line_id is None) == (line.variant is None):
            problems.add(ErrorCode.INVALID, "give the order line (lineId) or its variant, exactly one", f"lines.{i}")
        if not is_units(line.quantity):
            problems.add(ErrorCode.INVALID, f"quantity must be a whole number 1–{MAX_UNITS:,}", f"lines.{i}.quantity")
        if line.unit_cost is not None and (message := cost_problem(line.unit_cost)) is not None:
            problems.add(ErrorCode.INVALID, message, f"lines.{i}.unitCost")
    problems.raise_if_any()


async def receive_goods(actor: Actor, goods: GoodsIn) -> tuple[GoodsReceipt, bool]:
    """Returns (GRN, replayed). Business failures raise OperationError and write nothing."""
    order = await load_order(goods.purchase_order_id)
    require(actor, Permission.ADJUST_STOCK, order.branch_id)
    _validate(goods)
    # Variants named by SKU or barcode are looked up once, before the transaction.
    refs = [(i, line.variant) for i, line in enumerate(goods.lines) if line.variant is not None]
    found = await resolve_variant_refs([r for _, r in refs]) if refs else []
    by_input = {i: variant_id for (i, _), variant_id in zip(refs, found, strict=True)}
    request_hash = fingerprint(
        {
            "order": order.id,
            "note": goods.note,
            "lines": [
                [
                    line.line_id,
                    by_input.get(i),
                    line.quantity,
                    None if line.unit_cost is None else normal_cost(line.unit_cost),
                ]
                for i, line in enumerate(goods.lines)
            ],
        }
    )

    async def run() -> GoodsReceipt:
        return await _receive(actor, order, goods, by_input, request_hash)

    return await first_or_run(GoodsReceipt, goods.idempotency_key, request_hash, "goods receipt", run)


async def _receive(
    actor: Actor, order: PurchaseOrder, goods: GoodsIn, variant_of_input: dict[int, int], request_hash: str
) -> GoodsReceipt:
    now = datetime.now(UTC)
    async with transaction() as tx:
        async with in_transaction():  # savepoint: a duplicate key must not abort PostgreSQL's transaction
            grn = await GoodsReceipt.create(
                number=f"pending-{uuid.uuid4().hex}",  # numbered below, once everything else is locked
                purchase_order_id=order.id,
                branch_id=order.branch_id,
                received_by=actor.label[:120],
                received_by_staff_id=actor.staff_id,
                received_at=now,
                note=goods.note,
                idempotency_key=goods.idempotency_key,
                request_hash=request_hash,
            )
        await take(tx, order, RECEIVABLE, last_received_at=now)
        taken = await _count_in(tx, order, goods, variant_of_input)
        lines = await _reprice(tx, grn, taken)
        grn.number = await next_number(tx, "grn", "GRN")
        await grn.save(update_fields=["number"])
        await GoodsReceiptLine.bulk_create(lines)
        status = await _status_after(tx, order.id)
        await PurchaseOrder.filter(id=order.id).update(status=status)
        await record_audit(
            actor,
            "goods.received",
            branch_id=order.branch_id,
            target=("goods_receipt", grn.id),
            purchase_order_id=order.id,
            units=sum(line.quantity for line in lines),
        )
        # The supplier's units are news to Shopify: the outbox pushes them (docs/architecture.md, Shopify sync).
        movements = [
            Movement(order.branch_id, line.variant_id, line.quantity, Bucket.ON_HAND, RECEIVED, ShopifyEffect.PUSH)
            for line in lines
        ]
        posting = Posting(
            f"goodsReceipt:{grn.id}", RECEIVED, actor.label, "goods_receipt", str(grn.id), goods.note, occurred_at=now
        )
        await apply_to_ledger(tx, posting, movements)
    return grn


@dataclass
class _Taken:
    order_line: PurchaseOrderLine
    quantity: int
    unit_cost: Decimal


async def _count_in(
    tx: Transaction, order: PurchaseOrder, goods: GoodsIn, variant_of_input: dict[int, int]
) -> list[_Taken]:
    """Match each input to its order line and grow the line's received quantity, guarded so it
    never passes what is outstanding (the order row is already locked: this is the backstop)."""
    order_lines = await PurchaseOrderLine.filter(purchase_order_id=order.id)
    by_id = {line.id: line for line in order_lines}
    by_variant = {line.variant_id: line for line in order_lines}
    problems = Problems()
    taken: list[_Taken] = []
    seen: set[int] = set()
    for i, item in enumerate(goods.lines):
        line = by_id.get(item.line_id) if item.line_id is not None else by_variant.get(variant_of_input[i])
        if line is None:
            what = "line" if item.line_id is not None else "variant"
            field = f"lines.{i}.lineId" if item.line_id is not None else f"lines.{i}.variant"
            problems.add(ErrorCode.NOT_FOUND, f"purchase order {order.number} has no such {what}", field)
            continue
        if line.id in seen:
            problems.add(ErrorCode.DUPLICATE, "the same order line appears twice: give it one line", f"lines.{i}")
            continue
        seen.add(line.id)
        rows = await fetch(
            tx.conn,
            "UPDATE purchase_order_line SET quantity_received = quantity_received + ?"
            " WHERE id = ? AND quantity_received + quantity_cancelled + ? <= quantity_ordered RETURNING id",
            [item.quantity, line.id, item.quantity],
        )
        if not rows:
            fresh = await PurchaseOrderLine.get(id=line.id)
            problems.add(
                ErrorCode.INVALID,
                f"line {line.line_no}: {item.quantity} received but only {fresh.outstanding} outstanding"
                " (over-receipt is refused: order the extra units on a new purchase order)",
                f"lines.{i}.quantity",
            )
            continue
        cost = normal_cost(item.unit_cost) if item.unit_cost is not None else line.unit_cost
        taken.append(_Taken(line, item.quantity, cost))
    problems.raise_if_any()
    return taken


async def _reprice(tx: Transaction, grn: GoodsReceipt, taken: list[_Taken]) -> list[GoodsReceiptLine]:
    """Lock each variant (in id order), weigh the new units against the stock already held
    everywhere, and write the new average. Returns the GRN's lines."""
    variant_ids = sorted({t.order_line.variant_id for t in taken})
    current: dict[int, Decimal | None] = {}
    for variant_id in variant_ids:
        rows = await fetch(
            tx.conn, "UPDATE variant SET average_cost = average_cost WHERE id = ? RETURNING average_cost", [variant_id]
        )
        value = rows[0]["average_cost"]
        current[variant_id] = Decimal(str(value)) if value is not None else None
    marks = ", ".join("?" for _ in variant_ids)
    sums = await fetch(
        tx.conn,
        f"SELECT variant_id, SUM(on_hand) AS on_hand FROM stock_level WHERE variant_id IN ({marks})"
        " GROUP BY variant_id",
        variant_ids,
    )
    on_hand = {r["variant_id"]: int(r["on_hand"] or 0) for r in sums}
    lines = []
    for t in sorted(taken, key=lambda t: t.order_line.variant_id):
        variant_id = t.order_line.variant_id
        before, held = current[variant_id], on_hand.get(variant_id, 0)
        after = weighted_average(before, held, t.unit_cost, t.quantity)
        await Variant.filter(id=variant_id).update(average_cost=after)
        lines.append(
            GoodsReceiptLine(
                goods_receipt_id=grn.id,
                purchase_order_line_id=t.order_line.id,
                variant_id=variant_id,
                quantity=t.quantity,
                unit_cost=t.unit_cost,
                average_cost_before=before,
                average_cost_after=after,
                on_hand_before=held,
            )
        )
    return lines


async def _status_after(tx: Transaction, order_id: int) -> PurchaseOrderStatus:
    [row] = await fetch(
        tx.conn,
        "SELECT COUNT(*) AS n FROM purchase_order_line"
        " WHERE purchase_order_id = ? AND quantity_received + quantity_cancelled < quantity_ordered",
        [order_id],
    )
    return PurchaseOrderStatus.PARTIALLY_RECEIVED if int(row["n"]) else PurchaseOrderStatus.RECEIVED
