"""Loyalty points: what a sale, a return, an exchange, a void, a manager and the calendar post to a wallet
(through operations/directory/loyalty.py, the ledger). The rules a retailer sees (docs/loyalty.md):

- earn: points per PKR 100 paid, rounded down, on what the sale paid other than with points, at the
  branch's rate (`branch.loyalty_points_per_100_pkr`) or the retailer's (`LoyaltySettings`);
- redeem: a LOYALTY tender of whole points at `LoyaltySettings.point_value`, only on a sale that names
  its customer;
- a return, cumulatively in proportion to what it refunds of the sale's total, claws back the points
  the sale earned and gives back, as points, the share paid with points (that share is not refunded
  in money). The wallet never goes below zero: points already spent are not clawed back, and the
  entry's note says how many were missing (a retailer does not send a customer away owing points);
- expiry (off unless `expiry_days`): an earn's points still unused that many days later (points are
  used oldest first) expire, once per earn (`expire:<earn id>`).
"""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from tortoise import Tortoise

from models.branches import Branch
from models.customers import Customer
from models.loyalty import LoyaltyEntry, LoyaltyKind
from models.sales import Sale, Tender, TenderType
from operations.directory.loyalty import PointsEntry, balance_of, lock_wallet, post_points, unused_of_earn
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    Transaction,
    current_settings,
    db_time,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)

MAX_ADJUSTMENT = 1_000_000
MAX_REASON = 200


# --- what a sale, a return and a void do ---------------------------------------------------------


def points_paid(amount: Decimal, field: str) -> int:
    """The whole points a LOYALTY tender of `amount` spends (pure); refused when it is not whole points."""
    value = current_settings().loyalty.point_value
    points = Fraction(amount) / Fraction(value)
    if points.denominator != 1:
        raise OperationError.single(
            ErrorCode.INVALID, f"a LOYALTY tender is whole points of {value} each: {amount} is not", field
        )
    return int(points)


def earned(paid: Decimal, per_100: Decimal) -> int:
    """Points for `paid` PKR at `per_100` points per PKR 100, rounded down (pure)."""
    return max(0, math.floor(Fraction(paid) * Fraction(per_100) / 100))


async def earn_rate(branch_id: int) -> Decimal:
    rate = await Branch.filter(id=branch_id).values_list("loyalty_points_per_100_pkr", flat=True)
    return rate[0] if rate and rate[0] is not None else current_settings().loyalty.points_per_100_pkr


def loyalty_tenders(payments) -> list[tuple[int, Decimal]]:
    """(index, amount) of the LOYALTY tenders among a request's payments."""
    return [(i, p.amount) for i, p in enumerate(payments) if TenderType(p.type) is TenderType.LOYALTY]


def check_loyalty_tenders(payments, customer_id: int | None, where: str = "tenders") -> None:
    """Before anything is written: LOYALTY tenders need the sale's customer and whole points."""
    problems = Problems()
    for i, amount in loyalty_tenders(payments):
        if customer_id is None:
            problems.add(ErrorCode.INVALID, "paying with points needs the sale's customer", f"{where}.{i}.type")
        else:
            try:
                points_paid(amount, f"{where}.{i}.amount")
            except OperationError as error:
                problems.items += error.problems
    problems.raise_if_any()


async def sale_points(sale: Sale, payments, where: str = "tenders") -> list[PointsEntry]:
    """What a placed sale does to its customer's wallet: the points its LOYALTY tenders spend, then the
    points it earns on the rest of its total. Nothing without a customer."""
    spent = loyalty_tenders(payments)
    check_loyalty_tenders(payments, sale.customer_id, where)
    if sale.customer_id is None:
        return []
    entries = []
    spent_points = sum(points_paid(a, f"{where}.{i}.amount") for i, a in spent)
    if spent_points:
        entries.append(
            PointsEntry(LoyaltyKind.REDEEM, -spent_points, f"sale:{sale.id}:redeem", sale.branch_id, sale.id)
        )
    paid_otherwise = sale.total - sum((a for _, a in spent), Decimal(0))
    points = earned(paid_otherwise, await earn_rate(sale.branch_id))
    if points:
        days = current_settings().loyalty.expiry_days
        expires = datetime.now(UTC) + timedelta(days=days) if days > 0 else None
        entries.append(
            PointsEntry(LoyaltyKind.EARN, points, f"sale:{sale.id}:earn", sale.branch_id, sale.id, expires_at=expires)
        )
    return entries


async def post_sale_points(tx: Transaction, sale: Sale, payments, actor: str, where: str = "tenders") -> None:
    """Post `sale_points` in the sale's transaction; a wallet short of points is INSUFFICIENT_POINTS at the
    first LOYALTY tender's amount, and the whole sale is refused."""
    entries = await sale_points(sale, payments, where)
    if entries:
        spent = loyalty_tenders(payments)
        field = f"{where}.{spent[0][0]}.amount" if spent else where
        await post_points(tx, sale.customer_id, entries, actor, field)


def _share(whole: int, before: Decimal, after: Decimal, total: Decimal) -> int:
    """This refund's part of `whole` points, cumulative so all refunds of a sale add up to `whole` exactly."""
    if total <= 0:
        return 0
    return math.floor(Fraction(whole) * Fraction(after) / Fraction(total)) - math.floor(
        Fraction(whole) * Fraction(before) / Fraction(total)
    )


async def refund_points(
    sale: Sale, before: Decimal, after: Decimal, key: str, branch_id: int, sale_return_id: int | None = None
) -> tuple[list[PointsEntry], Decimal]:
    """What refunding the sale from `before` to `after` (of its total, cumulative) does to its customer's
    wallet, and the part of the refund paid back as points (not in money). Points the sale spent come back
    first, so they can cover the clawback of the points it earned."""
    if sale.customer_id is None:
        return [], Decimal("0.00")
    rows = await LoyaltyEntry.filter(idempotency_key__in=[f"sale:{sale.id}:earn", f"sale:{sale.id}:redeem"])
    by_kind = {r.kind: r.points for r in rows}
    spent, got = -by_kind.get(LoyaltyKind.REDEEM, 0), by_kind.get(LoyaltyKind.EARN, 0)
    paid_with_points = sum(
        (t.amount for t in await Tender.filter(sale_id=sale.id, type=TenderType.LOYALTY)), Decimal("0.00")
    )
    back = _share(spent, before, after, sale.total)
    clawback = _share(got, before, after, sale.total)
    entries = []
    if back:
        entries.append(
            PointsEntry(
                LoyaltyKind.REFUND,
                back,
                f"{key}:refund",
                branch_id,
                sale.id,
                sale_return_id,
                note=f"paid with points on sale {sale.number}",
            )
        )
    if clawback:
        entries.append(
            PointsEntry(
                LoyaltyKind.CLAWBACK,
                -clawback,
                f"{key}:clawback",
                branch_id,
                sale.id,
                sale_return_id,
                note=f"earned on sale {sale.number}",
                at_most=True,
            )
        )
    # The value of a point is the sale's own (paid_with_points / spent), whatever the setting is now.
    back_pkr = (paid_with_points * back / spent).quantize(Decimal("0.01")) if spent else Decimal("0.00")
    return entries, back_pkr


# --- a manager's adjustment, the branch's rate, expiry, the check --------------------------------


async def adjust_points(
    actor: Actor, customer_id: int, points: int, reason: str, idempotency_key: str, branch_id: int | None = None
) -> tuple[LoyaltyEntry, int, bool]:
    """A manager adds or takes points, with a reason (audited). Returns (entry, balance, replayed); taking
    more than the wallet holds is INSUFFICIENT_POINTS and changes nothing."""
    require(actor, Permission.APPROVE, branch_id)
    problems = Problems()
    problems.check_key(idempotency_key)
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < abs(points) <= MAX_ADJUSTMENT:
        problems.add(ErrorCode.INVALID, f"points must be non-zero, at most {MAX_ADJUSTMENT:,} either way", "points")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        problems.add(ErrorCode.INVALID, f"give a reason (at most {MAX_REASON} characters)", "reason")
    problems.raise_if_any()

    async def adjust() -> LoyaltyEntry:
        if not await Customer.exists(id=customer_id):
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such customer", "customerId")
        if branch_id is not None and not await Branch.exists(id=branch_id):
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such branch", "branchId")
        entry = PointsEntry(LoyaltyKind.ADJUST, points, f"adjust:{idempotency_key}", branch_id, note=reason)
        posted = await post_points(tx, customer_id, [entry], actor.label, "points")
        await record_audit(
            actor,
            "loyalty.adjusted",
            branch_id=branch_id,
            target=("customer", customer_id),
            points=points,
            balance=posted.balance,
            reason=reason,
        )
        return posted.entries[0]

    request = {"customer": customer_id, "points": points, "reason": reason, "branch": branch_id}
    async with transaction() as tx:
        entry, replayed = await run_once(
            tx, "adjustLoyaltyPoints", idempotency_key, request, adjust, lambda pk: LoyaltyEntry.get(id=pk)
        )
    return entry, await balance_of(None, customer_id), replayed


async def set_earn_rate(
    actor: Actor, branch_id: int, points_per_100_pkr: Decimal | None, idempotency_key: str
) -> tuple[Branch, bool]:
    """A branch's own earn rate (points per PKR 100 paid; 0: none), or None for the retailer's default."""
    require(actor, Permission.MANAGE_BRANCHES)
    problems = Problems()
    problems.check_key(idempotency_key)
    rate = points_per_100_pkr
    if rate is not None and not (
        isinstance(rate, Decimal) and rate.is_finite() and 0 <= rate <= 1000 and rate == rate.quantize(Decimal("0.01"))
    ):
        problems.add(ErrorCode.INVALID, "points per PKR 100 must be 0 to 1000, in steps of 0.01", "pointsPer100Pkr")
    problems.raise_if_any()

    async def change() -> Branch:
        branch = await Branch.get_or_none(id=branch_id)
        if branch is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such branch", "branchId")
        await Branch.filter(id=branch_id).update(loyalty_points_per_100_pkr=rate)
        await record_audit(
            actor,
            "branch.loyalty_settings",
            branch_id=branch_id,
            target=("branch", branch_id),
            before=branch.loyalty_points_per_100_pkr,
            points_per_100_pkr=rate,
        )
        return branch

    async with transaction() as tx:
        request = {"branch": branch_id, "rate": None if rate is None else str(rate)}
        branch, replayed = await run_once(
            tx, "setBranchLoyaltySettings", idempotency_key, request, change, lambda pk: Branch.get(id=pk)
        )
    return await Branch.get(id=branch.id), replayed


async def expire_points(now: datetime | None = None, limit: int = 500) -> int:
    """Post the expiry of every earn whose time has come and that has none yet; returns how many earns
    were looked at. Safe to run twice, or twice at once: each earn's expiry has its own key."""
    now = now or datetime.now(UTC)
    conn = Tortoise.get_connection("default")
    due = await fetch(
        conn,
        "SELECT e.id, e.customer_id, e.points, e.branch_id FROM loyalty_entry e"
        " LEFT JOIN loyalty_entry x ON x.earned_entry_id = e.id"
        " WHERE e.kind = 'earn' AND e.expires_at IS NOT NULL AND e.expires_at <= ? AND x.id IS NULL"
        " ORDER BY e.id LIMIT ?",
        [db_time(conn, now), limit],
    )
    for row in due:
        async with transaction() as tx:
            await lock_wallet(tx, row["customer_id"])  # what is unused is read under the lock it is taken with
            unused = await unused_of_earn(tx, row["customer_id"], row["id"], int(row["points"]))
            entry = PointsEntry(
                LoyaltyKind.EXPIRE,
                -unused,
                f"expire:{row['id']}",
                row["branch_id"],
                earned_entry_id=row["id"],
                note=f"unused points of entry {row['id']}",
                at_most=True,
            )
            await post_points(tx, row["customer_id"], [entry], "system")
    return len(due)
