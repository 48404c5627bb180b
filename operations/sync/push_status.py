"""Where the inventory push stands, for `syncStatus`: read from the outbox, so every process agrees."""

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise import Tortoise

from operations.kernel import fetch, read_time
from operations.sync.push_claim import PUSHED, TOPIC

MAX_PARKED_ROWS = 100


@dataclass(frozen=True)
class PushFigures:
    pending: int  # waiting to be pushed, due now, backing off, or leased by a worker
    parked: int  # failed too often or refused: waiting for someone to retry them
    last_pushed_at: datetime | None
    lag_seconds: float  # age of the oldest pending row; 0 when nothing waits


@dataclass(frozen=True)
class ParkedRow:
    id: int
    key: str
    last_error: str | None
    attempts: int
    created_at: datetime


async def push_figures() -> PushFigures:
    conn = Tortoise.get_connection("default")
    counts = await fetch(
        conn,
        "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox"
        " WHERE status IN ('pending', 'parked') AND topic = ? GROUP BY status",
        [TOPIC],
    )
    by_status = {r["status"]: r for r in counts}
    last = await fetch(
        conn,
        "SELECT MAX(done_at) AS at FROM outbox WHERE status = 'done' AND outcome = ? AND topic = ?",
        [PUSHED, TOPIC],
    )
    oldest = read_time(by_status["pending"]["oldest"]) if "pending" in by_status else None
    return PushFigures(
        pending=by_status["pending"]["n"] if "pending" in by_status else 0,
        parked=by_status["parked"]["n"] if "parked" in by_status else 0,
        last_pushed_at=read_time(last[0]["at"]) if last else None,
        lag_seconds=max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0,
    )


async def parked_rows(limit: int = 20, after_id: int | None = None) -> list[ParkedRow]:
    """The oldest parked rows first: they have waited longest (after the row `after_id`: a page's cursor)."""
    limit = max(0, min(limit, MAX_PARKED_ROWS + 1))  # a page of MAX_PARKED_ROWS and one more: a next page?
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, key, last_error, attempts, created_at FROM outbox WHERE status = 'parked' AND topic = ?"
        " AND id > ? ORDER BY id LIMIT ?",
        [TOPIC, after_id or 0, limit],
    )
    return [ParkedRow(r["id"], r["key"], r["last_error"], r["attempts"], read_time(r["created_at"])) for r in rows]


async def pushes_by_branch(branch_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Pending and parked inventory pushes per branch: each row's payload names its branch (`branchId`, written
    with the movement in operations/stock/ledger.py). Branches with none are left out."""
    if not branch_ids:
        return {}
    conn = Tortoise.get_connection("default")
    sqlite = conn.capabilities.dialect == "sqlite"
    branch = (
        "CAST(json_extract(payload, '$.branchId') AS INTEGER)" if sqlite else "CAST(payload->>'branchId' AS INTEGER)"
    )
    rows = await fetch(
        conn,
        f"SELECT {branch} AS branch_id, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,"
        " SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END) AS parked FROM outbox"
        f" WHERE status IN ('pending', 'parked') AND topic = ? AND {branch} IN ({', '.join('?' for _ in branch_ids)})"
        f" GROUP BY {branch}",
        [TOPIC, *branch_ids],
    )
    return {int(r["branch_id"]): (int(r["pending"] or 0), int(r["parked"] or 0)) for r in rows}
