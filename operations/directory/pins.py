"""Counter PINs: the rules for choosing one, signing in at a counter, and a manager's approval.

Every PIN check, whether a cashier signs in or a manager's PIN approves an override, goes through
`_guarded_pin`, which counts wrong PINs per counter and per branch and locks both (operations/kernel/attempts.py).
A wrong PIN gets the same answer whatever else is wrong with the request: operations vouch for a
given PIN before they look at anything else (`vouch`), and ask for the approval later, once they know
whether they need it (`Approval.required`).
"""

import itertools
import re
from dataclasses import dataclass

from models.branches import Counter
from models.staff import Role, Staff, StaffBranch
from operations.kernel import (
    ALL_BRANCH_ROLES,
    PIN_AT_BRANCH,
    PIN_AT_COUNTER,
    ROLE_PERMISSIONS,
    SYSTEM,
    Actor,
    ErrorCode,
    Locked,
    OperationError,
    Permission,
    Problems,
    current_settings,
    locked_error,
    pin_digests,
    record_audit,
    take_guess,
)

MIN_DIGITS, MAX_DIGITS = 4, 8


def approver_digits() -> int:
    """Digits a PIN needs when its owner can approve overrides (the installed settings' `PinRules`:
    their PINs are longer, one of them unlocks the till's money), kept within MIN_DIGITS..MAX_DIGITS."""
    return max(MIN_DIGITS, min(current_settings().pins.approver_digits, MAX_DIGITS))


def can_approve(role: Role) -> bool:
    return Permission.APPROVE in ROLE_PERMISSIONS[role]


def is_weak(pin: str) -> bool:
    """One digit repeated, a run up or down (1234, 987654), or a short pattern repeated (1212, 123123)."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    return any(len(pin) % n == 0 and pin == pin[:n] * (len(pin) // n) for n in range(1, len(pin) // 2 + 1))


def check_new_pin(pin: str, role: Role, problems: Problems, field: str = "pin") -> None:
    shortest = approver_digits() if can_approve(role) else MIN_DIGITS
    if not re.fullmatch(rf"\d{{{shortest},{MAX_DIGITS}}}", pin):
        who = "someone who approves overrides" if can_approve(role) else "a PIN"
        problems.add(ErrorCode.INVALID, f"{who} needs {shortest}–{MAX_DIGITS} digits", field)
    elif is_weak(pin):
        problems.add(ErrorCode.INVALID, "this PIN is too easy to guess (repeated digits or a sequence)", field)


async def _staff_by_pin(branch_id: int | None, pin: str, staff_id: int | None) -> Staff | None:
    if branch_id is None or not re.fullmatch(rf"\d{{{MIN_DIGITS},{MAX_DIGITS}}}", pin):
        return None
    digests = pin_digests(pin)
    candidates = Staff.filter(pin_digest__in=digests, active=True)
    if staff_id is not None:
        candidates = candidates.filter(id=staff_id)
    for staff in await candidates:
        if staff.role in ALL_BRANCH_ROLES or await StaffBranch.exists(staff_id=staff.id, branch_id=branch_id):
            if staff.pin_digest != digests[0]:  # digested under a previous server secret: renew it
                await Staff.filter(id=staff.id).update(pin_digest=digests[0])
            return staff
    return None


async def _guarded_pin(counter_id: int | None, branch_id: int | None, check, what: str, field: str):
    """The one way a PIN is checked: returns what `check` found, or None for a wrong PIN."""
    scopes = [(PIN_AT_BRANCH, branch_id)]
    if counter_id is not None:
        scopes.insert(0, (PIN_AT_COUNTER, counter_id))
    outcome = await take_guess(scopes, check)
    if isinstance(outcome, Locked):
        raise locked_error(outcome, what, field)
    for key in outcome.newly_locked:
        await record_audit(SYSTEM, "pin.locked", branch_id=branch_id, target=("guess_limit", key))
    return outcome.value


async def sign_in_staff(counter_id: int, pin: str, staff_id: int | None) -> tuple[Staff, Counter]:
    """The staff member whose PIN this is at this counter's branch; INVALID_CREDENTIALS otherwise.

    An unknown counter is answered like a wrong PIN (and counted against its id), so the answer tells
    a stranger nothing about which counters exist.
    """
    counter = await Counter.get_or_none(id=counter_id)
    branch_id = counter.branch_id if counter else None

    async def check() -> Staff | None:
        return await _staff_by_pin(branch_id, pin or "", staff_id) if counter else None

    staff = await _guarded_pin(counter_id, branch_id, check, "wrong PINs at this counter", "pin")
    if staff is None or counter is None:
        raise OperationError.single(ErrorCode.INVALID_CREDENTIALS, "wrong PIN", "pin")
    return staff, counter


@dataclass(frozen=True)
class Approval:
    """A manager's PIN, checked before the operation looks at anything else."""

    by: Staff | None = None

    def required(self, action: str) -> Staff:
        if self.by is None:
            raise OperationError.single(ErrorCode.APPROVAL_REQUIRED, f"{action} needs a manager's PIN", "managerPin")
        return self.by


async def vouch(actor: Actor, branch_id: int, pin: str | None, counter_id: int | None = None) -> Approval:
    """Check a manager's PIN given with a request, whether or not the request turns out to need it.

    A wrong PIN, or the PIN of someone who may not approve at this branch, is APPROVAL_REQUIRED at
    once, counted, and written to the audit log.
    """
    if not pin:
        return Approval()
    counter_id = counter_id if counter_id is not None else actor.counter_id

    async def check() -> Staff | None:
        staff = await _staff_by_pin(branch_id, pin, None)
        if staff is None or not can_approve(staff.role):
            return None
        return staff

    staff = await _guarded_pin(counter_id, branch_id, check, "wrong manager PINs", "managerPin")
    if staff is None:
        await record_audit(actor, "approval.refused", branch_id=branch_id, counter_id=counter_id)
        raise OperationError.single(ErrorCode.APPROVAL_REQUIRED, "that PIN cannot approve here", "managerPin")
    return Approval(staff)
