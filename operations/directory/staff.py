"""Staff accounts and signing in: passwords (argon2), counter PINs, sessions.

Guessing is limited in operations/kernel/attempts.py: wrong passwords per account and client address and per
address alone, wrong PINs per counter and per branch (operations/directory/pins.py).
"""

import asyncio
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.branches import Branch
from models.staff import Role, Staff, StaffBranch, StaffSession
from operations.directory import pins
from operations.kernel import (
    ALL_BRANCH_ROLES,
    PASSWORD_FOR_ACCOUNT_FROM_ADDRESS,
    PASSWORD_FROM_ADDRESS,
    ROLE_PERMISSIONS,
    Actor,
    ErrorCode,
    Locked,
    OperationError,
    Permission,
    Problems,
    fetch,
    hash_password,
    locked_error,
    pin_digest,
    pin_digests,
    read_time,
    record_audit,
    require,
    run_once,
    take_guess,
    token_digest,
    transaction,
    verify_password,
)
from subscriptions.sessions import announce_revoked

SESSION_LENGTH = timedelta(hours=12)  # a working day; counters sign in again per shift
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def now() -> datetime:
    return datetime.now(UTC)


def _validate(new: NewStaff, problems: Problems) -> None:
    if not _EMAIL.match(new.email or "") or len(new.email) > 254:
        problems.add(ErrorCode.INVALID, "not a valid email address", "email")
    if not new.name.strip() or len(new.name) > 120:
        problems.add(ErrorCode.INVALID, "name must be 1–120 characters", "name")
    if new.password is not None and not MIN_PASSWORD <= len(new.password) <= 200:
        problems.add(ErrorCode.INVALID, f"password must be at least {MIN_PASSWORD} characters", "password")
    if new.pin is not None:
        pins.check_new_pin(new.pin, new.role, problems)
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
    check_no_powers_beyond(actor, new.role)
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


def check_no_powers_beyond(actor: Actor, role: Role) -> None:
    """Nobody makes an account with powers they lack: they could sign in to it and use them."""
    if actor.role is None:  # the system (create-owner, the demo)
        return
    beyond = ROLE_PERMISSIONS[role] - ROLE_PERMISSIONS[actor.role]
    if beyond:
        names = ", ".join(sorted(p.value.replace("_", " ") for p in beyond))
        raise OperationError.single(ErrorCode.INVALID, f"a {role.value} may {names}, which you may not", "role")


async def _create_staff(actor: Actor, new: NewStaff, email: str) -> Staff:
    if await Staff.exists(email=email):
        raise OperationError.single(ErrorCode.DUPLICATE, "a staff member with this email exists", "email")
    found = await Branch.filter(id__in=new.branch_ids).count()
    if found != len(set(new.branch_ids)):
        raise OperationError.single(ErrorCode.NOT_FOUND, "unknown branch", "branchIds")
    digest = pin_digest(new.pin) if new.pin else None
    if new.pin and await pin_taken(new.pin, new.branch_ids, everywhere=new.role in ALL_BRANCH_ROLES):
        raise OperationError.single(ErrorCode.DUPLICATE, "another staff member here uses this PIN", "pin")
    try:
        async with in_transaction():  # savepoint: a racing request with the same email is a typed error
            staff = await Staff.create(
                email=email,
                name=new.name.strip(),
                role=new.role,
                password_hash=hash_password(new.password) if new.password else None,
                pin_digest=digest,
            )
    except IntegrityError:
        raise OperationError.single(ErrorCode.DUPLICATE, "a staff member with this email exists", "email") from None
    for branch_id in sorted(set(new.branch_ids)):
        await StaffBranch.create(staff_id=staff.id, branch_id=branch_id)
    await record_audit(actor, "staff.created", target=("staff", staff.id), role=new.role.value)
    return staff


async def pin_taken(pin: str, branch_ids: list[int], exclude: int | None = None, everywhere: bool = False) -> bool:
    """A PIN identifies its cashier at a counter, so it must be unique among a branch's staff (`everywhere`:
    among all staff, for an owner or admin, who sign in at every branch)."""
    # Under every configured secret: a colleague's PIN digested before a key rotation is still theirs.
    same_pin = Staff.filter(pin_digest__in=pin_digests(pin), active=True)
    if exclude is not None:
        same_pin = same_pin.exclude(id=exclude)
    if everywhere or await same_pin.filter(role__in=list(ALL_BRANCH_ROLES)).exists():
        return await same_pin.exists()
    return await same_pin.filter(branch_links__branch_id__in=branch_ids).exists()


async def create_first_owner(email: str, name: str, password: str) -> Staff:
    """`branchline create-owner`: only on a fresh install, so it can't be used to take one over."""
    from operations.kernel import SYSTEM

    if await Staff.exists(role=Role.OWNER):
        raise OperationError.single(ErrorCode.DUPLICATE, "an owner already exists; sign in as them", "email")
    return await create_staff(SYSTEM, NewStaff(email=email, name=name, role=Role.OWNER, password=password))


async def _new_session(staff: Staff, counter_id: int | None = None) -> SignedIn:
    token = secrets.token_urlsafe(32)
    expires = now() + SESSION_LENGTH
    await StaffSession.create(
        token_digest=token_digest(token), staff_id=staff.id, counter_id=counter_id, expires_at=expires
    )
    return SignedIn(token, staff, expires)


async def login(email: str, password: str, client_address: str = "local") -> SignedIn:
    """Wrong passwords are limited per account from one address and per address alone, never per
    account alone: a stranger guessing from elsewhere cannot lock the owner out. An unknown email takes
    the same steps (and the same hashing time) as a wrong password, so the answers tell nothing apart."""
    email = (email or "").strip().lower()[:254]
    staff = await Staff.get_or_none(email=email, active=True)

    async def check() -> Staff | None:
        # argon2 takes tens of milliseconds of CPU on purpose: off the event loop.
        matches = await asyncio.to_thread(verify_password, staff.password_hash if staff else None, password)
        return staff if matches else None

    outcome = await take_guess(
        [
            (PASSWORD_FOR_ACCOUNT_FROM_ADDRESS, f"{email}|{client_address}"),
            (PASSWORD_FROM_ADDRESS, client_address),
        ],
        check,
    )
    if isinstance(outcome, Locked):
        raise locked_error(outcome, "wrong passwords", "password")
    if outcome.value is None:
        raise OperationError.single(ErrorCode.INVALID_CREDENTIALS, "wrong email or password", "password")
    staff = outcome.value
    async with transaction():
        signed_in = await _new_session(staff)
        await record_audit(_actor_of(staff), "staff.login", target=("staff", staff.id), address=client_address)
    return signed_in


async def counter_login(counter_id: int, pin: str, staff_id: int | None = None) -> SignedIn:
    staff, counter = await pins.sign_in_staff(counter_id, pin, staff_id)
    if not counter.active:  # told only to someone whose PIN is right here
        raise OperationError.single(ErrorCode.WRONG_STATE, "this counter is out of use", "counterId")
    async with transaction():
        signed_in = await _new_session(staff, counter_id)
        await record_audit(
            _actor_of(staff), "staff.counter_login", branch_id=counter.branch_id, target=("counter", counter_id)
        )
    return signed_in


async def logout(actor: Actor) -> None:
    if actor.session_id is not None:
        await StaffSession.filter(id=actor.session_id).update(revoked_at=now())
        await announce_revoked([actor.session_id])  # its open WebSockets close, on every server


def _actor_of(staff: Staff, branch_ids: frozenset[int] | None = None, **extra) -> Actor:
    return Actor(name=staff.name, staff_id=staff.id, role=staff.role, branch_ids=branch_ids, **extra)


# Every request signs its caller in: the session, its staff member, the counter it was opened at and the
# staff member's branches in one statement (one row per branch link), not one query for each.
_SESSION = (
    "SELECT s.id AS session_id, s.expires_at, s.revoked_at, s.counter_id, st.id AS staff_id, st.name, st.role,"
    " st.active, c.active AS counter_active, c.branch_id AS counter_branch_id, sb.branch_id AS linked_branch_id"
    " FROM staff_session s JOIN staff st ON st.id = s.staff_id LEFT JOIN counter c ON c.id = s.counter_id"
    " LEFT JOIN staff_branch sb ON sb.staff_id = st.id WHERE s.token_digest = ?"
)


async def authenticate(token: str | None) -> Actor | None:
    """The caller behind a bearer token, or None if it is unknown, expired, revoked or inactive.

    A session opened with a counter PIN is a counter session: it acts at that counter's branch only,
    and never administers (operations/kernel/access.py `COUNTER_SESSION_NEVER`).
    """
    if not token or len(token) > 200:
        return None
    rows = await fetch(Tortoise.get_connection("default"), _SESSION, [token_digest(token)])
    if not rows:
        return None
    session = rows[0]
    if session["revoked_at"] is not None or read_time(session["expires_at"]) <= now():
        return None
    if not session["active"]:
        return None
    role = Role(session["role"])
    branch_ids = (
        None
        if role in ALL_BRANCH_ROLES
        else frozenset(r["linked_branch_id"] for r in rows if r["linked_branch_id"] is not None)
    )
    if session["counter_id"] is not None:
        if not session["counter_active"]:
            return None  # the counter was taken out of use
        here = session["counter_branch_id"]
        if branch_ids is not None and here not in branch_ids:
            return None  # moved off this branch since signing in here
        branch_ids = frozenset({here})
    return Actor(
        name=session["name"],
        staff_id=session["staff_id"],
        role=role,
        branch_ids=branch_ids,
        counter_id=session["counter_id"],
        session_id=session["session_id"],
    )


# --- Changing accounts: within the caller's own powers and branches -------------------------------------
