"""The attack suite runs against real servers (`branchline serve` over real HTTP and WebSocket), on
whichever backends the run uses (SQLite + memory, or PostgreSQL + Redis)."""

import itertools

import pytest

from tests.api.conftest import anonymous, api  # noqa: F401  (in-process, for the finer checks)
from tests.e2e.conftest import Server, free_port, owner_token, running_server, server  # noqa: F401

STAFF_PASSWORD = "security-password-1"
_numbers = itertools.count(1)


@pytest.fixture
async def staff_token(owner_token):  # noqa: F811  (after the owner: both in the same emptied database)
    """A factory: `await staff_token(Role.CASHIER)` signs in a new staff member with that role, at a
    branch of their own."""
    from operations.directory.branches import NewBranch, create_branch
    from operations.directory.staff import NewStaff, create_staff, login
    from operations.kernel.access import SYSTEM

    async def make(role) -> str:
        n = next(_numbers)
        branch, _ = await create_branch(SYSTEM, NewBranch(f"SEC-{n}", f"Security {n}"))
        email = f"{role.value}{n}@security.pk"
        await create_staff(SYSTEM, NewStaff(email, f"{role.value} user", role, STAFF_PASSWORD, None, [branch.id]))
        return (await login(email, STAFF_PASSWORD)).token

    return make
