"""Staff, sign-in and audit types."""

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import staff as models
from operations.kernel.access import Permission, staff_id_of
from schema.errors import UserError
from schema.types import Branch

StaffRole = strawberry.enum(Enum("StaffRole", {r.name: r.value for r in models.Role}), name="StaffRole")


@strawberry.type(description="A member of staff. Owners and admins work at every branch.")
class Staff(relay.Node):
    id: relay.NodeID[int]
    email: str
    name: str
    role: StaffRole  # type: ignore[valid-type]
    active: bool

    @classmethod
    def from_model(cls, m: models.Staff) -> Self:
        return cls(id=m.id, email=m.email, name=m.name, role=StaffRole(m.role.value), active=m.active)

    @strawberry.field(description="Empty for owners and admins: they work everywhere.")
    async def branches(self, info: Info) -> list[Branch]:
        return [Branch.from_model(b) for b in await info.context.loaders.branches_of_staff.load(self.id)]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Staff are visible to those who manage staff, and each to themselves."""
        actor = info.context.actor
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {s.id: s for s in await info.context.loaders.staff.load_many(wanted) if s is not None}
        allowed = actor.can(Permission.MANAGE_STAFF)
        return [cls.from_model(rows[i]) if i in rows and (allowed or i == actor.staff_id) else None for i in wanted]


async def actor_as_staff(info: Info, label: str | None) -> Staff | None:
    """Who did something, from the label recorded at the time ("staff:12 (Ayesha Khan)"), as a `Staff` field
    shows it: None when the system, Shopify or a worker acted, and for a staff member the caller may not see
    (the same rule as `node(id:)`). Read through the request's staff loader, so a page costs one query."""
    staff_id = staff_id_of(label)
    if staff_id is None:
        return None
    return (await Staff.resolve_nodes(info=info, node_ids=[str(staff_id)]))[0]


def actor_field(label_of: Callable[[Any], str | None], description: str | None = None) -> Any:
    """A `Staff` field for who did something: `actor_as_staff` of the label `label_of(root)` recorded then."""

    async def resolve(root: Any, info: Info) -> Staff | None:
        return await actor_as_staff(info, label_of(root))

    return strawberry.field(resolver=resolve, description=description)


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    at: datetime
    actor: str
    action: str
    branch_id: strawberry.ID | None
    target_type: str | None
    target_id: str | None
    approved_by_staff_id: strawberry.ID | None
    detail: strawberry.scalars.JSON


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class CounterLoginInput:
    counter_id: strawberry.ID
    pin: str
    staff_id: strawberry.ID | None = strawberry.field(
        default=None, description="Optional: the cashier picked from a list, then the PIN."
    )


@strawberry.input
class CreateStaffInput:
    email: str
    name: str
    role: StaffRole  # type: ignore[valid-type]
    password: str | None = None
    pin: str | None = strawberry.field(default=None, description="4 digits, for counter sign-in and approvals.")
    branch_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retried request returns the staff member created the first time."
    )


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`, or as `authToken` in connection_init."
    )
    expires_at: datetime | None = None
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateStaffPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
