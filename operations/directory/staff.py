"""Staff accounts and signing in: passwords (argon2), counter PINs, sessions.

Guessing is limited in operations/kernel/attempts.py: wrong passwords per account and client address and per
address alone, wrong PINs per counter and per branch (operations/directory/pins.py).
"""

import asyncio
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

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
    AccessDenied,
    Actor,
    ErrorCode,
    Locked,
    OperationError,
    Permission,
    Problems,
    fetch,
    hash_password,
    is_sqlite,
    locked_error,
    pin_digest,
    pin_digests,
    record_audit,
    replay,
    require,
    require_signed_in,
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


def _now() -> datetime:
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
    _check_no_powers_beyond(actor, new.role)
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


def _check_no_powers_beyond(actor: Actor, role: Role) -> None:
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
    if new.pin and await _pin_taken(new.pin, new.branch_ids, everywhere=new.role in ALL_BRANCH_ROLES):
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


async def _pin_taken(pin: str, branch_ids: list[int], exclude: int | None = None, everywhere: bool = False) -> bool:
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
    expires = _now() + SESSION_LENGTH
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
        await StaffSession.filter(id=actor.session_id).update(revoked_at=_now())
        await announce_revoked([actor.session_id])  # its open WebSockets close, on every server


async def _branches_of(staff: Staff) -> frozenset[int] | None:
    if staff.role in ALL_BRANCH_ROLES:
        return None
    return frozenset(await StaffBranch.filter(staff_id=staff.id).values_list("branch_id", flat=True))


def _actor_of(staff: Staff, branch_ids: frozenset[int] | None = None, **extra) -> Actor:
    return Actor(name=staff.name, staff_id=staff.id, role=staff.role, branch_ids=branch_ids, **extra)


async def authenticate(token: str | None) -> Actor | None:
    """The caller behind a bearer token, or None if it is unknown, expired, revoked or inactive.

    A session opened with a counter PIN is a counter session: it acts at that counter's branch only,
    and never administers (operations/kernel/access.py `COUNTER_SESSION_NEVER`).
    """
    if not token or len(token) > 200:
        return None
    session = await StaffSession.get_or_none(token_digest=token_digest(token)).prefetch_related("staff", "counter")
    if session is None or session.revoked_at is not None or session.expires_at <= _now():
        return None
    if not session.staff.active:
        return None
    branch_ids = await _branches_of(session.staff)
    if session.counter is not None:
        if not session.counter.active:
            return None  # the counter was taken out of use
        here = session.counter.branch_id
        if branch_ids is not None and here not in branch_ids:
            return None  # moved off this branch since signing in here
        branch_ids = frozenset({here})
    return _actor_of(session.staff, branch_ids, counter_id=session.counter_id, session_id=session.id)


# --- Changing accounts: within the caller's own powers and branches -------------------------------------


@dataclass(frozen=True)
class StaffChange:
    """What `update_staff` changes; None leaves it as it is."""

    name: str | None = None
    role: Role | None = None
    branch_ids: list[int] | None = None


async def _target(actor: Actor, staff_id: int) -> tuple[Staff, frozenset[int]]:
    """The staff member the caller may change, and the branches they work at.

    Within scope means: the caller manages staff at every branch the target works at (a manager of one
    branch does not change a colleague who also works at another), only an owner (or the system) changes
    owners and admins, as only an owner creates them, and a branch manager changes no other manager."""
    require(actor, Permission.MANAGE_STAFF)
    staff = await Staff.get_or_none(id=staff_id)
    if staff is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such staff member", "staffId")
    branches = frozenset(await StaffBranch.filter(staff_id=staff_id).values_list("branch_id", flat=True))
    if staff.role in ALL_BRANCH_ROLES:
        branches = frozenset()  # they work everywhere: links, if any were left, mean nothing
        if actor.role not in (None, Role.OWNER):
            raise AccessDenied(f"{actor.label} may not change owners and admins: only an owner may")
    for branch_id in sorted(branches):
        require(actor, Permission.MANAGE_STAFF, branch_id)
    if actor.role is Role.BRANCH_MANAGER and staff.role is Role.BRANCH_MANAGER and staff.id != actor.staff_id:
        raise AccessDenied(f"{actor.label} may not change other branch managers")
    return staff, branches


async def _other_active_owners(tx, staff_id: int) -> int:
    """Active owners besides this one, their rows locked (PostgreSQL) so that two owners demoting or
    deactivating each other at once cannot both succeed; SQLite runs one writing transaction at a time."""
    sql = "SELECT id FROM staff WHERE role = ? AND active = ? AND id <> ?"
    rows = await fetch(tx.conn, sql if is_sqlite(tx.conn) else sql + " FOR UPDATE", [Role.OWNER.value, True, staff_id])
    return len(rows)


async def _keep_an_owner(tx, staff: Staff, field: str) -> None:
    if staff.role is Role.OWNER and staff.active and not await _other_active_owners(tx, staff.id):
        raise OperationError.single(ErrorCode.WRONG_STATE, "the last active owner must stay an active owner", field)


async def _revoke_sessions(staff_id: int, keep_session: int | None = None) -> list[int]:
    """Ends the staff member's open sessions (but `keep_session`); their ids, to announce after the commit."""
    open_sessions = StaffSession.filter(staff_id=staff_id, revoked_at=None)
    if keep_session is not None:
        open_sessions = open_sessions.exclude(id=keep_session)
    ids = list(await open_sessions.values_list("id", flat=True))
    if ids:
        await StaffSession.filter(id__in=ids).update(revoked_at=_now())
    return ids


async def update_staff(actor: Actor, staff_id: int, change: StaffChange, idempotency_key: str) -> tuple[Staff, bool]:
    """Rename, change the role or the branches of a staff member. Returns (staff, replayed)."""
    require(actor, Permission.MANAGE_STAFF)  # before the key: a replay is answered only to those who may ask
    problems = Problems()
    problems.check_key(idempotency_key)
    if change.name is not None and (not change.name.strip() or len(change.name) > 120):
        problems.add(ErrorCode.INVALID, "name must be 1–120 characters", "name")
    problems.raise_if_any()
    request = {"staff": staff_id, **asdict(change)}

    async def apply() -> Staff:
        staff, branches = await _target(actor, staff_id)
        role = change.role or staff.role
        if change.role is not None and change.role is not staff.role:
            if role in ALL_BRANCH_ROLES and actor.role not in (None, Role.OWNER):
                raise OperationError.single(ErrorCode.INVALID, "only an owner may make owners and admins", "role")
            if actor.role is Role.BRANCH_MANAGER and role is Role.BRANCH_MANAGER:
                raise OperationError.single(ErrorCode.INVALID, "a branch manager may not make managers", "role")
            _check_no_powers_beyond(actor, role)
            if role is not Role.OWNER:
                await _keep_an_owner(tx, staff, "role")
        new_branches = branches if change.branch_ids is None else frozenset(change.branch_ids)
        if role in ALL_BRANCH_ROLES:
            new_branches = frozenset()  # they work everywhere, without links
        elif not new_branches:
            raise OperationError.single(ErrorCode.INVALID, "assign at least one branch", "branchIds")
        for branch_id in sorted(new_branches ^ branches):  # whoever adds or removes a branch manages staff there
            require(actor, Permission.MANAGE_STAFF, branch_id)
        if await Branch.filter(id__in=list(new_branches)).count() != len(new_branches):
            raise OperationError.single(ErrorCode.NOT_FOUND, "unknown branch", "branchIds")
        updates: dict = {}
        if change.name is not None and change.name.strip() != staff.name:
            updates["name"] = change.name.strip()
        if role is not staff.role:
            updates["role"] = role
        if staff.pin_digest and role is not staff.role and pins.can_approve(role) and not pins.can_approve(staff.role):
            # An approver's PIN is longer (pins.check_new_pin); a digest cannot say how long this one is.
            updates["pin_digest"] = None
        elif (
            staff.pin_digest
            and staff.active
            and (new_branches - branches or (role in ALL_BRANCH_ROLES and staff.role not in ALL_BRANCH_ROLES))
            and await _pin_taken_by_other(staff, role, new_branches)
        ):
            raise OperationError.single(
                ErrorCode.DUPLICATE,
                "someone at their new branch uses the same PIN: reset their PIN first",
                "branchIds" if new_branches != branches else "role",
            )
        if updates:
            await Staff.filter(id=staff.id).update(**updates)
        if new_branches != branches:
            await StaffBranch.filter(staff_id=staff.id, branch_id__in=list(branches - new_branches)).delete()
            for branch_id in sorted(new_branches - branches):
                await StaffBranch.create(staff_id=staff.id, branch_id=branch_id)
        await record_audit(
            actor,
            "staff.updated",
            target=("staff", staff.id),
            name=updates.get("name"),
            role=role.value if "role" in updates else None,
            pin_cleared="pin_digest" in updates,
            branches=",".join(map(str, sorted(new_branches))) if new_branches != branches else None,
        )
        return staff

    async with transaction() as tx:
        staff, replayed = await run_once(tx, "updateStaff", idempotency_key, request, apply, _load_staff)
    return await Staff.get(id=staff.id), replayed


async def _load_staff(pk: int) -> Staff:
    return await Staff.get(id=pk)


async def set_staff_active(actor: Actor, staff_id: int, active: bool, idempotency_key: str) -> tuple[Staff, bool]:
    """Deactivate (no sign-in; every session ended, its sockets closed) or reactivate a staff member.
    The last active owner stays. Returns (staff, replayed)."""
    require(actor, Permission.MANAGE_STAFF)  # before the key: a replay is answered only to those who may ask
    problems = Problems()
    problems.check_key(idempotency_key)
    problems.raise_if_any()
    revoked: list[int] = []

    async def apply() -> Staff:
        staff, _ = await _target(actor, staff_id)
        if not active and staff.id == actor.staff_id:
            raise OperationError.single(ErrorCode.INVALID, "you cannot deactivate yourself", "staffId")
        if staff.active == active:
            return staff  # already so: nothing to change, nothing to audit
        if not active:
            await _keep_an_owner(tx, staff, "staffId")
            revoked.extend(await _revoke_sessions(staff.id))
        elif staff.pin_digest and await _pin_taken_by_other(staff):
            raise OperationError.single(
                ErrorCode.DUPLICATE, "another active staff member at their branch uses their PIN: reset it", "staffId"
            )
        await Staff.filter(id=staff.id).update(active=active)
        action = "staff.reactivated" if active else "staff.deactivated"
        await record_audit(actor, action, target=("staff", staff.id), sessions_ended=len(revoked))
        return staff

    operation = "reactivateStaff" if active else "deactivateStaff"
    async with transaction() as tx:
        staff, replayed = await run_once(tx, operation, idempotency_key, {"staff": staff_id}, apply, _load_staff)
    if not active and not replayed:
        await announce_revoked(revoked, [staff.id])  # after the commit: a reconnecting socket finds it ended
    return await Staff.get(id=staff.id), replayed


async def _pin_taken_by_other(staff: Staff, role: Role | None = None, branch_ids: frozenset[int] | None = None) -> bool:
    """Someone else active who has this member's PIN where the member would sign in (at `branch_ids`, or
    everywhere for an owner or admin): the PIN would no longer name one person at a counter. The other
    keeps it (they had it while this member could not use it there), and this member needs a new one."""
    others = Staff.filter(pin_digest=staff.pin_digest, active=True).exclude(id=staff.id)
    if (role or staff.role) in ALL_BRANCH_ROLES or await others.filter(role__in=list(ALL_BRANCH_ROLES)).exists():
        return await others.exists()
    if branch_ids is None:
        branch_ids = frozenset(await StaffBranch.filter(staff_id=staff.id).values_list("branch_id", flat=True))
    return await others.filter(branch_links__branch_id__in=list(branch_ids)).exists()


def _secret_fingerprint(secret: str) -> str:
    """A secret in a request's fingerprint (to tell a repeat from a new request under the same key): keyed
    with the server secret, so the stored fingerprint is no offline guessing aid."""
    return pin_digest(f"request:{secret}")


async def reset_pin(actor: Actor, staff_id: int, new_pin: str, idempotency_key: str) -> tuple[Staff, bool]:
    """A manager or admin gives a staff member a new PIN, by the rules createStaff applies; the member's
    sessions end. Returns (staff, replayed)."""
    require(actor, Permission.MANAGE_STAFF)  # before the key: a replay is answered only to those who may ask
    problems = Problems()
    problems.check_key(idempotency_key)
    problems.raise_if_any()
    request = {"staff": staff_id, "pin": _secret_fingerprint(new_pin or "")}
    revoked: list[int] = []

    async def apply() -> Staff:
        staff, branches = await _target(actor, staff_id)
        problems = Problems()
        pins.check_new_pin(new_pin or "", staff.role, problems, "newPin")
        problems.raise_if_any()
        if await _pin_taken(new_pin, list(branches), staff.id, everywhere=staff.role in ALL_BRANCH_ROLES):
            raise OperationError.single(ErrorCode.DUPLICATE, "another staff member here uses this PIN", "newPin")
        await Staff.filter(id=staff.id).update(pin_digest=pin_digest(new_pin))
        revoked.extend(await _revoke_sessions(staff.id, actor.session_id))
        await record_audit(actor, "staff.pin_reset", target=("staff", staff.id), sessions_ended=len(revoked))
        return staff

    async with transaction() as tx:
        staff, replayed = await run_once(tx, "resetStaffPin", idempotency_key, request, apply, _load_staff)
    await announce_revoked(revoked)
    return await Staff.get(id=staff.id), replayed


async def reset_password(actor: Actor, staff_id: int, new_password: str, idempotency_key: str) -> tuple[Staff, bool]:
    """A manager or admin sets a staff member's password; the member's sessions end. Returns (staff, replayed)."""
    require(actor, Permission.MANAGE_STAFF)  # before the key: a replay is answered only to those who may ask
    problems = Problems()
    problems.check_key(idempotency_key)
    _check_password(new_password, problems, "newPassword")
    problems.raise_if_any()
    request = {"staff": staff_id, "password": _secret_fingerprint(new_password)}
    revoked: list[int] = []

    async def apply() -> Staff:
        staff, _ = await _target(actor, staff_id)
        hashed = await asyncio.to_thread(hash_password, new_password)
        await Staff.filter(id=staff.id).update(password_hash=hashed)
        revoked.extend(await _revoke_sessions(staff.id, actor.session_id))
        await record_audit(actor, "staff.password_reset", target=("staff", staff.id), sessions_ended=len(revoked))
        return staff

    async with transaction() as tx:
        staff, replayed = await run_once(tx, "resetStaffPassword", idempotency_key, request, apply, _load_staff)
    await announce_revoked(revoked)
    return await Staff.get(id=staff.id), replayed


def _check_password(password: str | None, problems: Problems, field: str) -> None:
    if password is None or not MIN_PASSWORD <= len(password) <= 200:
        problems.add(ErrorCode.INVALID, f"password must be {MIN_PASSWORD}–200 characters", field)


async def change_my_password(
    actor: Actor, current: str, new_password: str, idempotency_key: str, client_address: str = "local"
) -> tuple[Staff, bool]:
    """The signed-in member changes their own password (a password session, not a counter PIN one). The
    current password is guess-limited as at login; the member's other sessions end. Returns (staff, replayed)."""
    require_signed_in(actor)
    if actor.staff_id is None or actor.counter_id is not None:
        raise AccessDenied("sign in with your email and password to change your password")
    problems = Problems()
    problems.check_key(idempotency_key)
    _check_password(new_password, problems, "newPassword")
    problems.raise_if_any()
    request = {
        "staff": actor.staff_id,
        "current": _secret_fingerprint(current or ""),
        "password": _secret_fingerprint(new_password),
    }
    # A repeat is answered before the current password is checked: after the first change it is no longer right.
    earlier = await replay("changeMyPassword", idempotency_key, request, _load_staff)
    if earlier is not None:
        return earlier, True
    staff = await Staff.get(id=actor.staff_id)

    async def check() -> Staff | None:
        matches = await asyncio.to_thread(verify_password, staff.password_hash, current or "")
        return staff if matches else None

    outcome = await take_guess(
        [
            (PASSWORD_FOR_ACCOUNT_FROM_ADDRESS, f"{staff.email}|{client_address}"),
            (PASSWORD_FROM_ADDRESS, client_address),
        ],
        check,
    )
    if isinstance(outcome, Locked):
        raise locked_error(outcome, "wrong passwords", "currentPassword")
    if outcome.value is None:
        raise OperationError.single(ErrorCode.INVALID_CREDENTIALS, "wrong current password", "currentPassword")
    hashed = await asyncio.to_thread(hash_password, new_password)
    revoked: list[int] = []

    async def apply() -> Staff:
        await Staff.filter(id=staff.id).update(password_hash=hashed)
        revoked.extend(await _revoke_sessions(staff.id, actor.session_id))
        await record_audit(actor, "staff.password_changed", target=("staff", staff.id), sessions_ended=len(revoked))
        return staff

    async with transaction() as tx:
        result, replayed = await run_once(tx, "changeMyPassword", idempotency_key, request, apply, _load_staff)
    await announce_revoked(revoked)
    return await Staff.get(id=result.id), replayed
