"""Loyalty points: a wallet per customer, kept like stock (docs/loyalty.md). The ledger: `post_points` is the
only writer of `loyalty_wallet` and `loyalty_entry`; the rules that decide what to post are in
operations/directory/loyalty_rules.py.

Why here, in directory/: the wallet belongs to the customer, who lives here, and more than one context
moves it — the counter's sales, returns, exchanges and voids today, online orders (orders/, which may
not import counter/) tomorrow. Everything that changes points comes through `post_points`, inside the
caller's own transaction, with the stock ledger's discipline (docs/architecture.md, A stock change,
step by step):

1. every entry claims its idempotency key (`INSERT ... ON CONFLICT DO NOTHING RETURNING id`); a key
   posted before returns the earlier entries and moves nothing;
2. the wallet changes with one guarded `UPDATE ... SET balance = balance + net WHERE balance + low >= 0
   RETURNING balance`, `low` being the lowest point the wallet reaches along the entries (so a sale
   cannot pay with the points it is about to earn); nothing reads a balance and writes it back, so two
   counters spending the same points at once cannot both succeed, on SQLite or PostgreSQL;
3. a wallet that cannot cover a debit fails the whole transaction with INSUFFICIENT_POINTS;
4. the balance is the sum of the customer's entries, always: `check_loyalty` proves it (`branchline check`).

Debits that take "what is there, up to N" (a clawback, an expiry) first lock the wallet row with a
no-op UPDATE (`lock_wallet`), so what they find is what they take.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tortoise import Tortoise

from models.loyalty import LoyaltyEntry, LoyaltyKind
from operations.kernel import ErrorCode, OperationError, Transaction, db_time, fetch, transaction


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
        entries = _take_what_is_there(entries, await lock_wallet(tx, customer_id), field)
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


async def lock_wallet(tx: Transaction, customer_id: int) -> int:
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


async def unused_of_earn(tx: Transaction, customer_id: int, earn_id: int, points: int) -> int:
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
