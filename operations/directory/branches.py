"""Branches and counters."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.branches import Branch, Counter
from models.orders import FulfillmentWorkflow
from models.registers import Register
from models.staff import StaffSession
from models.stock import BranchStockSequence
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    record_audit,
    require,
    run_once,
    transaction,
)
from subscriptions.sessions import announce_revoked


@dataclass(frozen=True)
class NewBranch:
    code: str
    name: str
    timezone: str = "Asia/Karachi"
    allow_negative_stock: bool = False


@dataclass(frozen=True)
class OnlineSettings:
    """How a branch takes part in online orders; None leaves a setting as it is."""

    fulfillment_workflow: str | None = None
    routing_priority: int | None = None
    online_safety_stock: int | None = None


@dataclass(frozen=True)
class NewCounter:
    branch_id: int
    code: str
    name: str


def _check_code(problems: Problems, code: str) -> None:
    if not code.strip() or len(code) > 32:
        problems.add(ErrorCode.INVALID, "code must be 1–32 characters", "code")


def _check_name(problems: Problems, name: str) -> None:
    if not name.strip() or len(name) > 120:
        problems.add(ErrorCode.INVALID, "name must be 1–120 characters", "name")


def _is_time_zone(name: str) -> bool:
    if len(name) > 64:  # IANA names are short; a long one would reach the file system as a path
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def local_days(timezone: str, first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC span of the local calendar days `first` to `last` (both included) in this time zone: from local
    midnight starting `first` to local midnight ending `last`, the end excluded (a day at a Karachi branch
    runs from 19:00 UTC the evening before). None for an end left open."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(), zone).astimezone(UTC) if first is not None else None
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC) if last is not None else None
    return start, end


@dataclass(frozen=True)
class LocalDays:
    """Branches in one time zone and the UTC span of some local days there (`local_days`)."""

    branch_ids: tuple[int, ...]
    start: datetime | None
    end: datetime | None


async def local_days_at(branch_ids: Iterable[int] | None, first: date | None, last: date | None) -> list[LocalDays]:
    """The local days `first` to `last` at each of these branches (None: every branch), one span per time
    zone: what a list filtered by date asks for when it spans branches in more than one zone."""
    rows = Branch.all() if branch_ids is None else Branch.filter(id__in=list(branch_ids))
    zones: dict[str, list[int]] = defaultdict(list)
    for pk, timezone in await rows.order_by("id").values_list("id", "timezone"):
        zones[timezone].append(pk)
    return [LocalDays(tuple(pks), *local_days(zone, first, last)) for zone, pks in sorted(zones.items())]


async def create_branch(actor: Actor, new: NewBranch, idempotency_key: str | None = None) -> tuple[Branch, bool]:
    require(actor, Permission.MANAGE_BRANCHES)
    problems = Problems()
    _check_code(problems, new.code)
    _check_name(problems, new.name)
    if not _is_time_zone(new.timezone):
        problems.add(ErrorCode.INVALID, f"unknown time zone {new.timezone[:64]!r}", "timezone")
    problems.raise_if_any()

    async def create() -> Branch:
        if await Branch.exists(code=new.code.strip()):
            raise OperationError.single(ErrorCode.DUPLICATE, f"a branch with code {new.code!r} exists", "code")
        try:
            async with in_transaction():  # savepoint: a racing duplicate must not abort the outer one
                branch = await Branch.create(
                    code=new.code.strip(),
                    name=new.name.strip(),
                    timezone=new.timezone,
                    allow_negative_stock=new.allow_negative_stock,
                )
        except IntegrityError:
            raise OperationError.single(
                ErrorCode.DUPLICATE, f"a branch with code {new.code!r} exists", "code"
            ) from None
        await BranchStockSequence.create(branch_id=branch.id, last_sequence=0)
        await record_audit(actor, "branch.created", branch_id=branch.id, target=("branch", branch.id))
        return branch

    async with transaction() as tx:
        return await run_once(tx, "createBranch", idempotency_key, asdict(new), create, lambda pk: Branch.get(id=pk))


async def create_counter(actor: Actor, new: NewCounter, idempotency_key: str | None = None) -> tuple[Counter, bool]:
    require(actor, Permission.MANAGE_COUNTERS, new.branch_id)
    problems = Problems()
    _check_code(problems, new.code)
    _check_name(problems, new.name)
    problems.raise_if_any()

    async def create() -> Counter:
        if not await Branch.exists(id=new.branch_id):
            raise OperationError.single(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")
        if await Counter.exists(branch_id=new.branch_id, code=new.code.strip()):
            raise OperationError.single(ErrorCode.DUPLICATE, f"this branch already has a counter {new.code!r}", "code")
        try:
            async with in_transaction():
                counter = await Counter.create(branch_id=new.branch_id, code=new.code.strip(), name=new.name.strip())
        except IntegrityError:
            raise OperationError.single(
                ErrorCode.DUPLICATE, f"this branch already has a counter {new.code!r}", "code"
            ) from None
        await record_audit(actor, "counter.created", branch_id=new.branch_id, target=("counter", counter.id))
        return counter

    async with transaction() as tx:
        return await run_once(tx, "createCounter", idempotency_key, asdict(new), create, lambda pk: Counter.get(id=pk))


async def set_online_settings(
    actor: Actor, branch_id: int, settings: OnlineSettings, idempotency_key: str
) -> tuple[Branch, bool]:
    """Change a branch's fulfillment workflow, routing priority or walk-in safety stock. Returns
    (branch, replayed): a repeat with the same key changes nothing (not even back to what it asked for
    after someone changed the settings since) and returns the branch.

    A change applies to what happens next: fulfillments already recorded keep the workflow they
    were made under (a pending Manual one is still matched when Shopify fulfils it)."""
    require(actor, Permission.MANAGE_BRANCHES)
    problems = Problems()
    workflows = {w.value for w in FulfillmentWorkflow}
    workflow = settings.fulfillment_workflow.strip().lower() if settings.fulfillment_workflow is not None else None
    if workflow is not None and workflow not in workflows:
        choices = ", ".join(sorted(workflows))
        problems.add(ErrorCode.INVALID, f"workflow must be one of {choices}", "fulfillmentWorkflow")
    if settings.routing_priority is not None and not 0 <= settings.routing_priority <= 10_000:
        problems.add(ErrorCode.INVALID, "routing priority must be between 0 and 10000", "routingPriority")
    if settings.online_safety_stock is not None and not 0 <= settings.online_safety_stock <= 1_000_000:
        problems.add(ErrorCode.INVALID, "safety stock must be between 0 and 1000000", "onlineSafetyStock")
    problems.raise_if_any()
    changes = {
        name: value
        for name, value in (
            ("fulfillment_workflow", workflow),
            ("routing_priority", settings.routing_priority),
            ("online_safety_stock", settings.online_safety_stock),
        )
        if value is not None
    }

    async def change() -> Branch:
        branch = await Branch.get_or_none(id=branch_id)
        if branch is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such branch", "branchId")
        if changes:
            await Branch.filter(id=branch_id).update(**changes)
            target = ("branch", branch_id)
            await record_audit(actor, "branch.online_settings", branch_id=branch_id, target=target, **changes)
        return branch

    request = {"branch": branch_id, **changes}
    async with transaction() as tx:
        result, replayed = await run_once(
            tx, "setBranchOnlineSettings", idempotency_key, request, change, lambda pk: Branch.get(id=pk)
        )
    return await Branch.get(id=result.id), replayed


@dataclass(frozen=True)
class CounterChange:
    """What `update_counter` changes; None leaves it as it is."""

    code: str | None = None
    name: str | None = None


async def _counter_in_scope(actor: Actor, counter_id: int) -> Counter:
    require(actor, Permission.MANAGE_COUNTERS)
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such counter", "counterId")
    require(actor, Permission.MANAGE_COUNTERS, counter.branch_id)
    return counter


async def update_counter(
    actor: Actor, counter_id: int, change: CounterChange, idempotency_key: str
) -> tuple[Counter, bool]:
    """Rename a counter or change its code (unique at its branch). Returns (counter, replayed)."""
    require(actor, Permission.MANAGE_COUNTERS)
    problems = Problems()
    problems.check_key(idempotency_key)
    if change.code is not None:
        _check_code(problems, change.code)
    if change.name is not None:
        _check_name(problems, change.name)
    problems.raise_if_any()

    async def apply() -> Counter:
        counter = await _counter_in_scope(actor, counter_id)
        updates = {}
        if change.code is not None and change.code.strip() != counter.code:
            updates["code"] = change.code.strip()
        if change.name is not None and change.name.strip() != counter.name:
            updates["name"] = change.name.strip()
        taken = f"this branch already has a counter {updates.get('code')!r}"
        if "code" in updates and await Counter.exists(branch_id=counter.branch_id, code=updates["code"]):
            raise OperationError.single(ErrorCode.DUPLICATE, taken, "code")
        if updates:
            try:
                async with in_transaction():  # savepoint: a racing duplicate code is a typed error
                    await Counter.filter(id=counter.id).update(**updates)
            except IntegrityError:
                raise OperationError.single(ErrorCode.DUPLICATE, taken, "code") from None
            await record_audit(
                actor, "counter.updated", branch_id=counter.branch_id, target=("counter", counter.id), **updates
            )
        return counter

    request = {"counter": counter_id, **asdict(change)}
    async with transaction() as tx:
        counter, replayed = await run_once(
            tx, "updateCounter", idempotency_key, request, apply, lambda pk: Counter.get(id=pk)
        )
    return await Counter.get(id=counter.id), replayed


async def deactivate_counter(actor: Actor, counter_id: int, idempotency_key: str) -> tuple[Counter, bool]:
    """Take a counter out of use: no sign-in or sale there again, its PIN sessions end. Refused
    (WRONG_STATE) while its register is open: close it first. Returns (counter, replayed)."""
    require(actor, Permission.MANAGE_COUNTERS)
    problems = Problems()
    problems.check_key(idempotency_key)
    problems.raise_if_any()
    revoked: list[int] = []

    async def apply() -> Counter:
        counter = await _counter_in_scope(actor, counter_id)
        if not counter.active:
            return counter
        # The counter's row first (PostgreSQL locks it until the commit), then the open register: an
        # openRegister that wrote first is seen here; one that comes later finds the counter inactive.
        await Counter.filter(id=counter.id).update(active=False)
        if await Register.exists(open_counter_id=counter.id):
            raise OperationError.single(
                ErrorCode.WRONG_STATE, "this counter's register is open: close it first", "counterId"
            )
        sessions = StaffSession.filter(counter_id=counter.id, revoked_at=None)
        revoked.extend(await sessions.values_list("id", flat=True))
        if revoked:
            await StaffSession.filter(id__in=revoked).update(revoked_at=datetime.now(UTC))
        await record_audit(
            actor,
            "counter.deactivated",
            branch_id=counter.branch_id,
            target=("counter", counter.id),
            sessions_ended=len(revoked),
        )
        return counter

    async with transaction() as tx:
        counter, replayed = await run_once(
            tx, "deactivateCounter", idempotency_key, {"counter": counter_id}, apply, lambda pk: Counter.get(id=pk)
        )
    await announce_revoked(revoked)  # after the commit: the counter's open sockets close
    return await Counter.get(id=counter.id), replayed
