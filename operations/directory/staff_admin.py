"""Administering staff: changing, deactivating and reactivating members, resetting their PIN or password,
and a member changing their own password. Within the caller's powers: nobody gives powers they lack, a
branch manager changes only staff of their branches, the last active owner stays (docs/security.md).
"""

import asyncio
from dataclasses import asdict, dataclass

from models.branches import Branch
from models.staff import Role, Staff, StaffBranch, StaffSession
from operations.directory import pins
from operations.directory.staff import MIN_PASSWORD, check_no_powers_beyond, now, pin_taken
from operations.kernel import (
    ALL_BRANCH_ROLES,
    PASSWORD_FOR_ACCOUNT_FROM_ADDRESS,
    PASSWORD_FROM_ADDRESS,
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
    record_audit,
    replay,
    require,
    require_signed_in,
    run_once,
    take_guess,
    transaction,
    verify_password,
)
from subscriptions.sessions import announce_revoked


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
    """Active owners besides this one. On PostgreSQL every active owner's row is locked, this one's too and
    in id order, so that two owners demoting or deactivating each other at once cannot both succeed and do not
    deadlock (each locking the other's row first): the second waits, then sees the first's change. SQLite
    runs one writing transaction at a time."""
    sql = "SELECT id FROM staff WHERE role = ? AND active = ? ORDER BY id"
    rows = await fetch(tx.conn, sql if is_sqlite(tx.conn) else sql + " FOR UPDATE", [Role.OWNER.value, True])
    return sum(1 for row in rows if row["id"] != staff_id)


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
        await StaffSession.filter(id__in=ids).update(revoked_at=now())
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
            check_no_powers_beyond(actor, role)
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
        if await pin_taken(new_pin, list(branches), staff.id, everywhere=staff.role in ALL_BRANCH_ROLES):
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
    # argon2 takes a good part of a second: hashed before the transaction, which it would otherwise hold open.
    hashed = await asyncio.to_thread(hash_password, new_password)

    async def apply() -> Staff:
        staff, _ = await _target(actor, staff_id)
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
