"""Staff accounts and signing in: passwords (argon2), counter PINs, sessions, lockouts."""

import asyncio
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.branches import Branch, Counter
from models.staff import CounterLock, Role, Staff, StaffBranch, StaffSession
from operations import audit
from operations.access import ALL_BRANCH_ROLES, Actor, Permission, require
from operations.errors import ErrorCode, OperationError, Problems
from operations.idempotency import run_once
from operations.keys import pin_digest, token_digest
from operations.transaction import transaction

SESSION_LENGTH = timedelta(hours=12)  # a working day; counters sign in again per shift
MAX_FAILED_LOGINS = 5
LOGIN_LOCK = timedelta(minutes=15)
MAX_FAILED_PINS = 5
PIN_LOCK = timedelta(minutes=5)
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Verifying against this when the email is unknown keeps response times alike for both cases.
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True)
class NewStaff:
    email: str
    name: str
    role: Role
    password: str | None = None
    pin: str | None = None
    branch_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SignedIn:
    token: str
    staff: Staff
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _validate(new: NewStaff, problems: Problems) -> None:
    if not _EMAIL.match(new.email or "") or len(new.email) > 254:
        problems.add(ErrorCode.INVALID, "not a valid email address", "email")
    if not new.name.strip() or len(new.name) > 120:
        problems.add(ErrorCode.INVALID, "name must be 1–120 characters", "name")
    if new.password is not None and not MIN_PASSWORD <= len(new.password) <= 200:
        problems.add(ErrorCode.INVALID, f"password must be at least {MIN_PASSWORD} characters", "password")
    if new.pin is not None and not re.fullmatch(r"\d{4}", new.pin):
        problems.add(ErrorCode.INVALID, "PIN must be 4 digits", "pin")
    if new.password is None and new.pin is None:
        problems.add(ErrorCode.INVALID, "give a password, a PIN, or both", "password")
    if new.role not in ALL_BRANCH_ROLES and not new.branch_ids:
        problems.add(ErrorCode.INVALID, "assign at least one branch", "branchIds")


async def create_staff(actor: Actor, new: NewStaff, idempotency_key: str | None = None) -> Staff:
    require(actor, Permission.MANAGE_STAFF)
    for branch_id in new.branch_ids:
        require(actor, Permission.MANAGE_STAFF, branch_id)
    if new.role in ALL_BRANCH_ROLES and actor.role not in (None, Role.OWNER):
        raise OperationError.single(ErrorCode.INVALID, "only an owner may create owners and admins", "role")
    if actor.role is Role.BRANCH_MANAGER and new.role is Role.BRANCH_MANAGER:
        raise OperationError.single(ErrorCode.INVALID, "a branch manager may not create managers", "role")
    problems = Problems()
    _validate(new, problems)
    problems.raise_if_any()
    email = new.email.strip().lower()
    # Secrets stay out of the stored request fingerprint: it only needs to tell requests apart.
    request = asdict(new) | {"password": new.password is not None, "pin": new.pin is not None}

    async def create() -> Staff:
        return await _create_staff(actor, new, email)

    async with transaction() as tx:
        staff, _ = await run_once(tx, "createStaff", idempotency_key, request, create, lambda pk: Staff.get(id=pk))
    return staff


async def _create_staff(actor: Actor, new: NewStaff, email: str) -> Staff:
    if await Staff.exists(email=email):
        raise OperationError.single(ErrorCode.DUPLICATE, "a staff member with this email exists", "email")
    found = await Branch.filter(id__in=new.branch_ids).count()
    if found != len(set(new.branch_ids)):
        raise OperationError.single(ErrorCode.NOT_FOUND, "unknown branch", "branchIds")
    digest = pin_digest(new.pin) if new.pin else None
    if digest and await _pin_taken(digest, new.branch_ids):
        raise OperationError.single(ErrorCode.DUPLICATE, "another staff member here uses this PIN", "pin")
    try:
        async with in_transaction():  # savepoint: a racing request with the same email is a typed error
            staff = await Staff.create(
                email=email,
                name=new.name.strip(),
                role=new.role,
                password_hash=_hasher.hash(new.password) if new.password else None,
                pin_digest=digest,
            )
    except IntegrityError:
        raise OperationError.single(ErrorCode.DUPLICATE, "a staff member with this email exists", "email") from None
    for branch_id in sorted(set(new.branch_ids)):
        await StaffBranch.create(staff_id=staff.id, branch_id=branch_id)
    await audit.record(actor, "staff.created", target=("staff", staff.id), role=new.role.value)
    return staff


async def _pin_taken(digest: str, branch_ids: list[int]) -> bool:
    """A PIN identifies its cashier at a counter, so it must be unique among a branch's staff."""
    same_pin = Staff.filter(pin_digest=digest, active=True)
    if await same_pin.filter(role__in=list(ALL_BRANCH_ROLES)).exists():
        return True
    return await same_pin.filter(branch_links__branch_id__in=branch_ids).exists()


async def create_first_owner(email: str, name: str, password: str) -> Staff:
    """`branchline create-owner`: only on a fresh install, so it can't be used to take one over."""
    from operations.access import SYSTEM

    if await Staff.exists(role=Role.OWNER):
        raise OperationError.single(ErrorCode.DUPLICATE, "an owner already exists; sign in as them", "email")
    return await create_staff(SYSTEM, NewStaff(email=email, name=name, role=Role.OWNER, password=password))


async def _new_session(staff: Staff, counter_id: int | None = None) -> SignedIn:
    token = secrets.token_urlsafe(32)
    expires = _now() + SESSION_LENGTH
    await StaffSession.create(
        token_digest=token_digest(token), staff_id=staff.id, counter_id=counter_id, expires_at=expires
    )
    return SignedIn(token, staff, expires)


async def login(email: str, password: str) -> SignedIn:
    wrong = OperationError.single(ErrorCode.INVALID_CREDENTIALS, "wrong email or password", "password")
    staff = await Staff.get_or_none(email=(email or "").strip().lower(), active=True)
    if staff is None or staff.password_hash is None:
        _verify(_DUMMY_HASH, password)
        raise wrong
    if staff.locked_until and staff.locked_until > _now():
        raise OperationError.single(
            ErrorCode.LOCKED, f"too many wrong passwords: try again after {staff.locked_until:%H:%M} UTC", "email"
        )
    if not _verify(staff.password_hash, password):
        await _count_failure(staff)
        raise wrong
    await Staff.filter(id=staff.id).update(failed_logins=0, locked_until=None)
    async with transaction():
        signed_in = await _new_session(staff)
        await audit.record(_actor_of(staff), "staff.login", target=("staff", staff.id))
    return signed_in


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


async def _count_failure(staff: Staff) -> None:
    # SQL-side increment: concurrent guesses can't lose a count.
    await Staff.filter(id=staff.id).update(failed_logins=F("failed_logins") + 1)
    failures = (await Staff.get(id=staff.id)).failed_logins
    if failures >= MAX_FAILED_LOGINS:
        await Staff.filter(id=staff.id).update(locked_until=_now() + LOGIN_LOCK, failed_logins=0)
    await asyncio.sleep(min(0.2 * failures, 1.0))  # slow down guessing before the lock


async def counter_login(counter_id: int, pin: str, staff_id: int | None = None) -> SignedIn:
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    lock = await CounterLock.get_or_none(counter_id=counter_id)
    if lock and lock.locked_until and lock.locked_until > _now():
        raise OperationError.single(
            ErrorCode.LOCKED,
            f"too many wrong PINs at this counter: try again after {lock.locked_until:%H:%M} UTC",
            "pin",
        )
    staff = await _staff_by_pin(counter.branch_id, pin or "", staff_id)
    if staff is None:
        await _count_pin_failure(counter_id)
        raise OperationError.single(ErrorCode.INVALID_CREDENTIALS, "wrong PIN", "pin")
    await CounterLock.filter(counter_id=counter_id).update(failed_pins=0, locked_until=None)
    async with transaction():
        signed_in = await _new_session(staff, counter_id)
        await audit.record(
            _actor_of(staff), "staff.counter_login", branch_id=counter.branch_id, target=("counter", counter_id)
        )
    return signed_in


async def _staff_by_pin(branch_id: int, pin: str, staff_id: int | None) -> Staff | None:
    if not re.fullmatch(r"\d{4}", pin):
        return None
    candidates = Staff.filter(pin_digest=pin_digest(pin), active=True)
    if staff_id is not None:
        candidates = candidates.filter(id=staff_id)
    for staff in await candidates:
        if staff.role in ALL_BRANCH_ROLES or await StaffBranch.exists(staff_id=staff.id, branch_id=branch_id):
            return staff
    return None


async def _count_pin_failure(counter_id: int) -> None:
    await CounterLock.get_or_create(counter_id=counter_id)
    await CounterLock.filter(counter_id=counter_id).update(failed_pins=F("failed_pins") + 1)
    lock = await CounterLock.get(counter_id=counter_id)
    if lock.failed_pins >= MAX_FAILED_PINS:
        await CounterLock.filter(counter_id=counter_id).update(locked_until=_now() + PIN_LOCK, failed_pins=0)
    await asyncio.sleep(min(0.2 * lock.failed_pins, 1.0))


async def approve_with_pin(branch_id: int, pin: str | None, action: str) -> Staff:
    """Manager override: the PIN of someone allowed to approve at this branch, or a typed error."""
    if not pin:
        raise OperationError.single(ErrorCode.APPROVAL_REQUIRED, f"{action} needs a manager's PIN", "managerPin")
    staff = await _staff_by_pin(branch_id, pin, None)
    if staff is None or not _actor_of(staff, await _branches_of(staff)).can(Permission.APPROVE, branch_id):
        raise OperationError.single(ErrorCode.APPROVAL_REQUIRED, "that PIN cannot approve here", "managerPin")
    return staff


async def logout(actor: Actor) -> None:
    if actor.session_id is not None:
        await StaffSession.filter(id=actor.session_id).update(revoked_at=_now())


async def _branches_of(staff: Staff) -> frozenset[int] | None:
    if staff.role in ALL_BRANCH_ROLES:
        return None
    return frozenset(await StaffBranch.filter(staff_id=staff.id).values_list("branch_id", flat=True))


def _actor_of(staff: Staff, branch_ids: frozenset[int] | None = None, **extra) -> Actor:
    return Actor(name=staff.name, staff_id=staff.id, role=staff.role, branch_ids=branch_ids, **extra)


async def authenticate(token: str | None) -> Actor | None:
    """The caller behind a bearer token, or None if it is unknown, expired, revoked or inactive."""
    if not token or len(token) > 200:
        return None
    session = await StaffSession.get_or_none(token_digest=token_digest(token)).prefetch_related("staff")
    if session is None or session.revoked_at is not None or session.expires_at <= _now():
        return None
    if not session.staff.active:
        return None
    return _actor_of(
        session.staff, await _branches_of(session.staff), counter_id=session.counter_id, session_id=session.id
    )
