"""Loyalty points: a wallet per customer, kept like stock (docs/loyalty.md).

Why here, in directory/: the wallet belongs to the customer, who lives here, and more than one context
moves it — the counter's sales, returns, exchanges and voids today, online orders (orders/, which may
not import counter/) tomorrow. Everything that changes points comes through `post_points`, the only
writer of `loyalty_wallet` and `loyalty_entry`, inside the caller's own transaction, with the stock
ledger's discipline (docs/architecture.md, A stock change, step by step):

1. every entry claims its idempotency key (`INSERT ... ON CONFLICT DO NOTHING RETURNING id`); a key
   posted before returns the earlier entries and moves nothing;
2. the wallet changes with one guarded `UPDATE ... SET balance = balance + net WHERE balance + low >= 0
   RETURNING balance`, `low` being the lowest point the wallet reaches along the entries (so a sale
   cannot pay with the points it is about to earn); nothing reads a balance and writes it back, so two
   counters spending the same points at once cannot both succeed, on SQLite or PostgreSQL;
3. a wallet that cannot cover a debit fails the whole transaction with INSUFFICIENT_POINTS;
4. the balance is the sum of the customer's entries, always: `check_loyalty` proves it (`branchline check`).

Debits that take "what is there, up to N" (a clawback, an expiry) first lock the wallet row with a
no-op UPDATE, so what they find is what they take. The rules a retailer sees:

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from tortoise import Tortoise

from models.branches import Branch
from models.customers import Customer
from models.loyalty import LoyaltyEntry, LoyaltyKind
from models.sales import Sale, Tender, TenderType
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


@dataclass(frozen=True)
class PointsEntry:
    """One change to a wallet, not yet posted. `points` is signed; with `at_most` it is the most a debit
    takes, and it takes what the wallet holds up to that (a clawback, an expiry)."""

    kind: LoyaltyKind
    points: int
    key: str
    branch_id: int | None = None
    sale_id: int | None = None
    sale_return_id: int | None = None
    earned_entry_id: int | None = None
    expires_at: datetime | None = None
    note: str | None = None
    at_most: bool = False


@dataclass(frozen=True)
class PointsPosted:
    entries: list[LoyaltyEntry]
    balance: int
    replayed: bool = False


def insufficient(holds: int, needs: int, field: str | None) -> OperationError:
    return OperationError.single(
        ErrorCode.INSUFFICIENT_POINTS, f"the customer's wallet holds {holds} points; this needs {needs}", field
    )


# --- the one writer ------------------------------------------------------------------------------


async def post_points(
    tx: Transaction, customer_id: int, entries: list[PointsEntry], actor: str, field: str | None = None
) -> PointsPosted:
    """Post `entries` to one customer's wallet in the caller's transaction (see the module docstring).
    Entries of 0 points are dropped, except a clawback's or an expiry's (they record a shortfall, or that an
    earn was looked at). Raises INSUFFICIENT_POINTS (at `field`) when a debit is not covered."""
    entries = [e for e in entries if e.points != 0 or e.kind in (LoyaltyKind.CLAWBACK, LoyaltyKind.EXPIRE)]
    if not entries:
        return PointsPosted([], await balance_of(tx, customer_id))
    if any(e.at_most for e in entries):
        entries = _take_what_is_there(entries, await _lock(tx, customer_id), field)
    now = datetime.now(UTC)
    claimed = []
    for e in entries:
        rows = await fetch(
            tx.conn,
            "INSERT INTO loyalty_entry (customer_id, kind, points, branch_id, sale_id, sale_return_id,"
            " earned_entry_id, expires_at, idempotency_key, note, actor, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [
                customer_id,
                e.kind.value,
                e.points,
                e.branch_id,
                e.sale_id,
                e.sale_return_id,
                e.earned_entry_id,
                db_time(tx.conn, e.expires_at) if e.expires_at else None,
                e.key,
                e.note[:300] if e.note else None,
                actor[:120],
                db_time(tx.conn, now),
            ],
        )
        claimed += [r["id"] for r in rows]
    if not claimed:  # every key was posted before: a retry, answered with what it did then
        earlier = await LoyaltyEntry.filter(idempotency_key__in=[e.key for e in entries]).order_by("id")
        return PointsPosted(earlier, await balance_of(tx, customer_id), replayed=True)
    if len(claimed) != len(entries):  # keys are derived from one document: all new, or all posted
        raise RuntimeError(f"loyalty entries {[e.key for e in entries]} were partly posted before")
    running, low = 0, 0
    for e in entries:
        running += e.points
        low = min(low, running)
    balance = await _move(tx, customer_id, running, low, now, field)
    return PointsPosted(await LoyaltyEntry.filter(id__in=claimed).order_by("id"), balance)


def _take_what_is_there(entries: list[PointsEntry], balance: int, field: str | None) -> list[PointsEntry]:
    """The entries with each `at_most` debit cut to what the wallet holds at that point (the row is locked)."""
    out, running = [], balance
    for e in entries:
        if e.at_most:
            wanted = -e.points
            taken = min(wanted, running)
            note = e.note
            if taken < wanted:
                short = f"{taken} of {wanted} points: the wallet held {running}, {wanted - taken} already spent"
                note = f"{note}; {short}" if note else short
            e = replace(e, points=-taken, note=note)
        elif running + e.points < 0:
            raise insufficient(running, -e.points, field)
        running += e.points
        out.append(e)
    return out


async def _lock(tx: Transaction, customer_id: int) -> int:
    """Lock the wallet row (made on first use) until commit; returns its balance."""
    sql = "UPDATE loyalty_wallet SET balance = balance WHERE customer_id = ? RETURNING balance"
    rows = await fetch(tx.conn, sql, [customer_id])
    if not rows:
        await _create_wallet(tx, customer_id)
        rows = await fetch(tx.conn, sql, [customer_id])
    return int(rows[0]["balance"])


async def _create_wallet(tx: Transaction, customer_id: int) -> None:
    await fetch(
        tx.conn,
        "INSERT INTO loyalty_wallet (customer_id, balance, updated_at) VALUES (?, 0, ?)"
        " ON CONFLICT (customer_id) DO NOTHING",
        [customer_id, db_time(tx.conn, datetime.now(UTC))],
    )


async def _move(tx: Transaction, customer_id: int, net: int, low: int, now: datetime, field: str | None) -> int:
    sql = (
        "UPDATE loyalty_wallet SET balance = balance + ?, updated_at = ?"
        " WHERE customer_id = ? AND balance + ? >= 0 RETURNING balance"
    )
    values = [net, db_time(tx.conn, now), customer_id, low]
    rows = await fetch(tx.conn, sql, values)
    if not rows:
        await _create_wallet(tx, customer_id)
        rows = await fetch(tx.conn, sql, values)
    if not rows:
        raise insufficient(await balance_of(tx, customer_id), -low, field)
    return int(rows[0]["balance"])


async def balance_of(tx: Transaction | None, customer_id: int) -> int:
    conn = tx.conn if tx is not None else Tortoise.get_connection("default")
    rows = await fetch(conn, "SELECT balance FROM loyalty_wallet WHERE customer_id = ?", [customer_id])
    return int(rows[0]["balance"]) if rows else 0


async def balances(customer_ids: list[int]) -> dict[int, int]:
    """Each customer's balance (0 without a wallet yet), in one query: for a page of customers."""
    if not customer_ids:
        return {}
    marks = ", ".join("?" for _ in customer_ids)
    rows = await fetch(
        Tortoise.get_connection("default"),
        f"SELECT customer_id, balance FROM loyalty_wallet WHERE customer_id IN ({marks})",
        list(customer_ids),
    )
    found = {r["customer_id"]: int(r["balance"]) for r in rows}
    return {c: found.get(c, 0) for c in customer_ids}


def entries_query(customer_id: int):
    """A customer's entries to page through, newest first (an expiry that found nothing left is left out)."""
    return LoyaltyEntry.filter(customer_id=customer_id).exclude(kind=LoyaltyKind.EXPIRE, points=0)


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
            await _lock(tx, row["customer_id"])  # what is unused is read under the lock it is taken with
            unused = await _unused(tx, row["customer_id"], row["id"], int(row["points"]))
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


async def _unused(tx: Transaction, customer_id: int, earn_id: int, points: int) -> int:
    """What is left of one earn when points are used oldest first: the credits up to it, less every debit."""
    [row] = await fetch(
        tx.conn,
        "SELECT COALESCE(SUM(CASE WHEN points > 0 AND id <= ? THEN points ELSE 0 END), 0) AS credits,"
        " COALESCE(SUM(CASE WHEN points < 0 THEN -points ELSE 0 END), 0) AS debits"
        " FROM loyalty_entry WHERE customer_id = ?",
        [earn_id, customer_id],
    )
    return max(0, min(points, int(row["credits"]) - int(row["debits"])))


@dataclass(frozen=True)
class WalletDifference:
    customer_id: int
    balance: int  # what the wallet says
    ledger: int  # the sum of the customer's entries


async def check_loyalty() -> list[WalletDifference]:
    """Every wallet whose balance is not the sum of its entries (none, unless something bypassed
    `post_points`)."""
    async with transaction() as tx:
        sums = await fetch(tx.conn, "SELECT customer_id, SUM(points) AS total FROM loyalty_entry GROUP BY customer_id")
        wallets = await fetch(tx.conn, "SELECT customer_id, balance FROM loyalty_wallet")
    ledger = {r["customer_id"]: int(r["total"] or 0) for r in sums}
    stored = {r["customer_id"]: int(r["balance"]) for r in wallets}
    return [
        WalletDifference(c, stored.get(c, 0), ledger.get(c, 0))
        for c in sorted(set(ledger) | set(stored))
        if stored.get(c, 0) != ledger.get(c, 0)
    ]
