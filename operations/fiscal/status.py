"""What fiscal reporting looks like now: pending, ageing, parked, flagged, per branch (fiscalStatus,
fiscalAlerts, the health check's oldest pending invoice)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from models.fiscal import FiscalDocument, FiscalStatus
from operations.counter import FISCAL_CREDIT_NOTE_TOPIC, FISCAL_INVOICE_TOPIC
from operations.kernel import Actor, Permission, current_settings, db_time, fetch, read_time, require, visible_branches

FLAGGED_SHOWN = 50


@dataclass
class BranchFiscal:
    branch_id: int
    pending: int = 0
    ageing: int = 0  # pending longer than the ageing hours: past the authority's 24-hour window
    oldest_pending_at: datetime | None = None
    parked: int = 0
    refused: int = 0
    recorded: int = 0  # held by the authority, its number to fill in
    flagged: int = 0
    not_fiscalised: int = 0
    fiscalised: int = 0


@dataclass
class FiscalFigures:
    at: datetime
    ageing_hours: float
    branches: list[BranchFiscal]
    flagged: list[FiscalDocument] = field(default_factory=list)  # newest first, the reasons in `flag`

    def _sum(self, name: str) -> int:
        return sum(getattr(b, name) for b in self.branches)

    @property
    def pending(self) -> int:
        return self._sum("pending")

    @property
    def ageing(self) -> int:
        return self._sum("ageing")

    @property
    def parked(self) -> int:
        return self._sum("parked")

    @property
    def flagged_count(self) -> int:
        return self._sum("flagged")

    @property
    def oldest_pending_at(self) -> datetime | None:
        times = [b.oldest_pending_at for b in self.branches if b.oldest_pending_at]
        return min(times) if times else None

    @property
    def oldest_pending_seconds(self) -> float | None:
        oldest = self.oldest_pending_at
        return None if oldest is None else max(0.0, (self.at - oldest).total_seconds())


async def fiscal_figures(branch_ids: list[int] | None = None) -> FiscalFigures:
    """Counted in SQL, per branch; `branch_ids` None for every branch."""
    conn = Tortoise.get_connection("default")
    now = datetime.now(UTC)
    hours = current_settings().fiscal.ageing_hours
    scope, values = "", []
    if branch_ids is not None:
        if not branch_ids:
            return FiscalFigures(now, hours, [])
        scope, values = f" WHERE branch_id IN ({', '.join('?' for _ in branch_ids)})", list(branch_ids)
    rows = await fetch(
        conn,
        "SELECT branch_id, status, COUNT(*) AS n, MIN(issued_at) AS oldest,"
        " SUM(CASE WHEN flag IS NULL THEN 0 ELSE 1 END) AS flagged"
        f" FROM fiscal_document{scope} GROUP BY branch_id, status",
        values,
    )
    by_branch: dict[int, BranchFiscal] = {}
    cutoff = now - timedelta(hours=hours)
    for r in rows:
        b = by_branch.setdefault(r["branch_id"], BranchFiscal(r["branch_id"]))
        status = FiscalStatus(r["status"])
        b.flagged += int(r["flagged"] or 0)
        if status is FiscalStatus.PENDING:
            b.pending += r["n"]
            b.oldest_pending_at = read_time(r["oldest"])
        elif status is FiscalStatus.REFUSED:
            b.refused += r["n"]
        else:
            setattr(b, status.value, getattr(b, status.value) + r["n"])
    ageing = await fetch(
        conn,
        "SELECT branch_id, COUNT(*) AS n FROM fiscal_document WHERE status IN ('pending', 'refused') AND issued_at < ?"
        + (scope.replace(" WHERE", " AND") if scope else "")
        + " GROUP BY branch_id",
        [db_time(conn, cutoff), *values],
    )
    for r in ageing:
        by_branch.setdefault(r["branch_id"], BranchFiscal(r["branch_id"])).ageing = r["n"]
    parked = await fetch(
        conn,
        "SELECT f.branch_id AS branch_id, COUNT(*) AS n FROM outbox o JOIN fiscal_document f ON f.usin = "
        + ("substr(o.key, 5)" if conn.capabilities.dialect == "sqlite" else "substring(o.key from 5)")
        + " WHERE o.status = 'parked' AND o.topic IN (?, ?)"
        + (scope.replace(" WHERE branch_id", " AND f.branch_id") if scope else "")
        + " GROUP BY f.branch_id",
        [FISCAL_INVOICE_TOPIC, FISCAL_CREDIT_NOTE_TOPIC, *values],
    )
    for r in parked:
        by_branch.setdefault(r["branch_id"], BranchFiscal(r["branch_id"])).parked = r["n"]
    flagged_query = FiscalDocument.filter(flag__isnull=False)
    if branch_ids is not None:
        flagged_query = flagged_query.filter(branch_id__in=branch_ids)
    flagged = await flagged_query.order_by("-id").limit(FLAGGED_SHOWN)
    return FiscalFigures(now, hours, [by_branch[k] for k in sorted(by_branch)], flagged)


async def fiscal_status(actor: Actor, branch_id: int | None = None) -> FiscalFigures:
    """Branch managers see their branches; admins and owners all (or the one asked for)."""
    require(actor, Permission.VIEW_SALES, branch_id)
    visible = visible_branches(actor)
    if branch_id is not None:
        ids = [branch_id]
    else:
        ids = None if visible is None else sorted(visible)
    return await fiscal_figures(ids)
