"""Which branches a report covers, the UTC span of its local days, and SQL for a row's local day, week and month.

A report's days are each branch's own calendar days (operations/directory/branches.py `local_days`): a sale at
23:30 in Karachi is on that Karachi day, though it is 18:30 UTC. PostgreSQL turns a time into local time itself
(`timezone(zone, t)`); SQLite knows no time zones, so each zone's UTC offsets over the report's span (with any
daylight-saving change inside it) become a CASE of `datetime(t, '+300 minutes')` modifiers. Both are plain SQL
evaluated by the database inside its GROUP BY.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.branches import Branch
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    db_time,
    is_sqlite,
    require,
    visible_branches,
)

MAX_DAYS = 400  # a report spans at most this many days (a year and a bit)


class Period(StrEnum):
    """A span named relative to today, in place of `from`/`to` (what a back office asks for most)."""

    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"  # Monday to today
    THIS_MONTH = "this_month"  # the first to today


async def period_days(
    period: Period, branch_ids: Iterable[int] | None = None, now: datetime | None = None
) -> tuple[date, date]:
    """The local days a period names, in the time zone of the branches it is asked for (or of every branch).
    Branches in several zones: the zone of the lowest-numbered of them, so one request names one span of days
    for all (each branch then reads those days in its own calendar, as with `from`/`to`)."""
    rows = Branch.all() if branch_ids is None else Branch.filter(id__in=list(branch_ids))
    zones = await rows.order_by("id").limit(1).values_list("timezone", flat=True)
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(zones[0] if zones else "UTC")).date()
    if period is Period.YESTERDAY:
        return today - timedelta(days=1), today - timedelta(days=1)
    if period is Period.THIS_WEEK:
        return today - timedelta(days=today.weekday()), today
    if period is Period.THIS_MONTH:
        return today.replace(day=1), today
    return today, today


async def report_days(
    first: date | None, last: date | None, period: Period | None, branch_ids: Iterable[int] | None = None
) -> tuple[date, date]:
    """A report's days: `from` and `to`, or a period (not both, not neither)."""
    if period is not None:
        if first is not None or last is not None:
            raise OperationError.single(ErrorCode.INVALID, "give a period or from and to, not both", "period")
        return await period_days(period, branch_ids)
    if first is None or last is None:
        raise OperationError.single(
            ErrorCode.INVALID, "give from and to (or a period)", "from" if first is None else "to"
        )
    return first, last


@dataclass(frozen=True)
class Scope:
    """The branches a report reads (in id order), by time zone, and the local days it covers."""

    first: date
    last: date
    zones: dict[str, tuple[int, ...]]  # time zone -> branch ids

    @property
    def branch_ids(self) -> list[int]:
        return sorted(b for ids in self.zones.values() for b in ids)

    def spans(self) -> list[tuple[tuple[int, ...], datetime, datetime]]:
        """Per time zone: its branches and the UTC span of the local days `first` to `last` (end excluded)."""
        out = []
        for zone, ids in sorted(self.zones.items()):
            tz = ZoneInfo(zone)
            start = datetime.combine(self.first, datetime.min.time(), tz).astimezone(UTC)
            end = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
            out.append((ids, start, end))
        return out


async def scope_for(
    actor: Actor, first: date, last: date, branch_ids: Iterable[int] | None, permission: Permission
) -> Scope:
    """The branches this caller may read a report of: those asked for (each checked with `require`, so one
    branch out of reach refuses the report), or every branch they may see."""
    visible = visible_branches(actor)  # UNAUTHENTICATED when nobody signed in
    require(actor, permission)  # FORBIDDEN for a role without it, whatever the branches
    if first > last:
        raise OperationError.single(ErrorCode.INVALID, "from is after to", "to")
    if (last - first).days + 1 > MAX_DAYS:
        raise OperationError.single(ErrorCode.INVALID, f"a report spans at most {MAX_DAYS} days", "to")
    zones: dict[str, list[int]] = defaultdict(list)
    rows = _branches(actor, branch_ids, permission, visible).order_by("id")
    for pk, zone in await rows.values_list("id", "timezone"):
        zones[zone].append(pk)
    return Scope(first, last, {zone: tuple(ids) for zone, ids in zones.items()})


def _branches(actor: Actor, branch_ids: Iterable[int] | None, permission: Permission, visible):
    if branch_ids is not None:
        wanted = sorted(set(branch_ids))
        for branch_id in wanted:
            require(actor, permission, branch_id)
        return Branch.filter(id__in=wanted)
    return Branch.all() if visible is None else Branch.filter(id__in=list(visible))


async def branches_for(actor: Actor, branch_ids: Iterable[int] | None, permission: Permission) -> list[int]:
    """The branches a report without dates covers (as `scope_for`), in id order."""
    visible = visible_branches(actor)
    require(actor, permission)
    return list(await _branches(actor, branch_ids, permission, visible).order_by("id").values_list("id", flat=True))


def among(column: str, branch_ids: list[int]) -> str:
    """SQL keeping rows of these branches (ids are integers from the database, written in)."""
    return f"{column} IN ({', '.join(str(int(b)) for b in branch_ids)})" if branch_ids else "1 = 0"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def in_scope(scope: Scope, conn, time_column: str, branch_column: str) -> tuple[str, list]:
    """SQL (and its values) keeping rows of the scope's branches whose time falls in its local days."""
    parts, values = [], []
    for ids, start, end in scope.spans():
        marks = ", ".join("?" for _ in ids)
        parts.append(f"({branch_column} IN ({marks}) AND {time_column} >= ? AND {time_column} < ?)")
        values += [*ids, db_time(conn, start), db_time(conn, end)]
    return ("(" + " OR ".join(parts) + ")" if parts else "(1 = 0)"), values


def _offsets(zone: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offset (minutes) over [start, end): [(until, minutes), ..., (None, minutes)]."""
    tz = ZoneInfo(zone)

    def minutes(at: datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds() // 60)

    out: list[tuple[datetime | None, int]] = []
    current = minutes(start)
    at = start.replace(minute=0, second=0, microsecond=0)
    while at < end:  # every zone changes its offset on the hour or the half hour
        nxt = at + timedelta(minutes=30)
        if minutes(nxt) != current:
            out.append((nxt, current))
            current = minutes(nxt)
        at = nxt
    out.append((None, current))
    return out


def local_time_sql(scope: Scope, conn, time_column: str, branch_column: str) -> str:
    """SQL for the local time of `time_column` at the row's branch (PostgreSQL: a timestamp; SQLite: text)."""
    spans = scope.spans()
    if not is_sqlite(conn):
        if len(spans) == 1:
            return f"timezone({_quoted(next(iter(scope.zones)))}, {time_column})"
        cases = " ".join(
            f"WHEN {branch_column} IN ({', '.join(map(str, ids))}) THEN {_quoted(zone)}"
            for zone, ids in sorted(scope.zones.items())
        )
        return f"timezone(CASE {cases} END, {time_column})"

    def modifier(zone: str, start: datetime, end: datetime) -> str:
        pieces = _offsets(zone, start - timedelta(days=1), end + timedelta(days=1))
        if len(pieces) == 1:
            return _quoted(f"{pieces[0][1]:+d} minutes")
        whens = " ".join(
            f"WHEN {time_column} < {_quoted(db_time(conn, until))} THEN {_quoted(f'{m:+d} minutes')}"
            for until, m in pieces
            if until is not None
        )
        return f"CASE {whens} ELSE {_quoted(f'{pieces[-1][1]:+d} minutes')} END"

    zones = sorted(scope.zones.items())
    if len(zones) == 1:
        (zone, _), (_, start, end) = zones[0], spans[0]
        return f"datetime({time_column}, {modifier(zone, start, end)})"
    by_zone = {tuple(ids): (start, end) for ids, start, end in spans}
    cases = " ".join(
        f"WHEN {branch_column} IN ({', '.join(map(str, ids))}) THEN {modifier(zone, *by_zone[ids])}"
        for zone, ids in zones
    )
    return f"datetime({time_column}, CASE {cases} END)"


def period_sql(period: str, local: str, conn) -> str:
    """The local day, the Monday its week starts, or the first of its month, as SQL on a local time."""
    if is_sqlite(conn):
        return {
            "day": f"date({local})",
            "week": f"date({local}, 'weekday 0', '-6 days')",
            "month": f"date({local}, 'start of month')",
        }[period]
    return {
        "day": f"CAST({local} AS DATE)",
        "week": f"CAST(date_trunc('week', {local}) AS DATE)",
        "month": f"CAST(date_trunc('month', {local}) AS DATE)",
    }[period]


def as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
