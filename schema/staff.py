"""Staff, sign-in and audit types."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import staff as models
from operations.kernel import Permission, staff_id_of
from schema.enums import mirrored
from schema.errors import UserError
from schema.types import Branch

StaffRole = mirrored(models.Role, "StaffRole")


@strawberry.type(description="A member of staff. Owners and admins work at every branch.")
class Staff(relay.Node):
    id: relay.NodeID[int]
    name: str
    role: StaffRole  # type: ignore[valid-type]
    active: bool
    email_address: strawberry.Private[str]
    shows_email: strawberry.Private[bool]

    @classmethod
    def from_model(cls, m: models.Staff, *, shows_email: bool = True) -> Self:
        return cls(
            id=m.id,
            name=m.name,
            role=StaffRole(m.role.value),
            active=m.active,
            email_address=m.email,
            shows_email=shows_email,
        )

    @strawberry.field(
        description="The sign-in email: shown to those who manage staff and to the staff member themself; "
        "null where a colleague appears on a record (a sale's cashier, who approved a count)."
    )
    def email(self) -> str | None:
        return self.email_address if self.shows_email else None

    @strawberry.field(description="Empty for owners and admins: they work everywhere.")
    async def branches(self, info: Info) -> list[Branch]:
        return [Branch.from_model(b) for b in await info.context.loaders.branches_of_staff.load(self.id)]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Staff are looked up by ID only by those who manage staff, and each by themselves."""
        actor = info.context.actor
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {s.id: s for s in await info.context.loaders.staff.load_many(wanted) if s is not None}
        allowed = actor.can(Permission.MANAGE_STAFF)
        return [cls.from_model(rows[i]) if i in rows and (allowed or i == actor.staff_id) else None for i in wanted]


async def staff_member(info: Info, staff_id: int | None) -> Staff | None:
    """A staff member named on a record the caller may see (a sale's cashier, who approved a transfer), as a
    `Staff` field shows them: colleagues see who did what (name, role), the email only those who manage staff
    or the person themself. Read through the request's staff loader, so a page costs one query."""
    if staff_id is None:
        return None
    row = await info.context.loaders.staff.load(staff_id)
    if row is None:
        return None
    actor = info.context.actor
    return Staff.from_model(row, shows_email=actor.can(Permission.MANAGE_STAFF) or row.id == actor.staff_id)


async def actor_as_staff(info: Info, label: str | None) -> Staff | None:
    """Who did something, from the label recorded at the time ("staff:12 (Ayesha Khan)"), as `staff_member`
    shows them; None when the system, Shopify or a worker acted."""
    return await staff_member(info, staff_id_of(label))


def actor_field(label_of: Callable[[Any], str | None], description: str | None = None) -> Any:
    """A `Staff` field for who did something: `actor_as_staff` of the label `label_of(root)` recorded then."""

    async def resolve(root: Any, info: Info) -> Staff | None:
        return await actor_as_staff(info, label_of(root))

    return strawberry.field(resolver=resolve, description=description)


# What the audit log records as a target (operations/kernel/audit.py `record`) -> its node type: the target's
# id is shown as that type's global ID, which node(id:) reads.
TARGET_NODE_TYPES = {
    "branch": "Branch",
    "counter": "Counter",
    "goods_receipt": "GoodsReceipt",
    "product": "Product",
    "purchase_order": "PurchaseOrder",
    "register": "Register",
    "sale": "Sale",
    "sale_return": "SaleReturn",
    "staff": "Staff",
    "stock_count": "StockCount",
    "supplier": "Supplier",
    "transfer": "Transfer",
    "transfer_discrepancy": "TransferDiscrepancy",
}


def _target_id(target_type: str | None, target_id: str | None) -> strawberry.ID | None:
    node_type = TARGET_NODE_TYPES.get(target_type or "")
    if target_id is None or node_type is None or not target_id.isdigit():
        return strawberry.ID(target_id) if target_id is not None else None
    return strawberry.ID(relay.to_base64(node_type, target_id))


@strawberry.type(description="A sensitive action: who did it, where, to what, and who approved it.")
class AuditEntry(relay.Node):
    id: relay.NodeID[int]
    at: datetime
    action: str = strawberry.field(description="e.g. staff.created, transfer.approved, shopify.connected.")
    target_type: str | None = strawberry.field(description="What was acted on, e.g. staff, transfer, shop.")
    target_id: strawberry.ID | None = strawberry.field(
        description="The target's global ID where it is a node (Staff, Transfer, Sale...: node(id:) reads it); "
        "else the key recorded, e.g. a shop's domain."
    )
    detail: strawberry.scalars.JSON
    actor_label: strawberry.Private[str]
    branch_id: strawberry.Private[int | None]
    approved_by_staff_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.AuditEntry) -> Self:
        return cls(
            id=m.id,
            at=m.at,
            action=m.action,
            target_type=m.target_type,
            target_id=_target_id(m.target_type, m.target_id),
            detail=m.detail,
            actor_label=m.actor,
            branch_id=m.branch_id,
            approved_by_staff_id=m.approved_by_staff_id,
        )

    @strawberry.field(
        description="Who did it; null when the system, Shopify or a worker acted (or you may not see them)."
    )
    async def actor(self, info: Info) -> Staff | None:
        return await actor_as_staff(info, self.actor_label)

    @strawberry.field(description="Where, when the action was at a branch.")
    async def branch(self, info: Info) -> Branch | None:
        if self.branch_id is None:
            return None
        row = await info.context.loaders.branch.load(self.branch_id)
        return Branch.from_model(row) if row is not None else None

    @strawberry.field(description="The manager whose PIN approved an override (null if none, or you may not see them).")
    async def approved_by(self, info: Info) -> Staff | None:
        if self.approved_by_staff_id is None:
            return None
        return (await Staff.resolve_nodes(info=info, node_ids=[str(self.approved_by_staff_id)]))[0]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Seen by those who may read the audit log, at their branches (an entry at no branch: by those who
        see every branch), as `auditLog` lists them."""
        actor = info.context.actor
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {e.id: e for e in await info.context.loaders.audit_entry.load_many(wanted) if e is not None}
        may = actor.can(Permission.VIEW_AUDIT)
        return [
            cls.from_model(rows[i])
            if i in rows and may and (actor.branch_ids is None or rows[i].branch_id in actor.branch_ids)
            else None
            for i in wanted
        ]


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
    idempotency_key: str = strawberry.field(
        description="A retried request returns the staff member created the first time."
    )
    password: str | None = None
    pin: str | None = strawberry.field(default=None, description="4 digits, for counter sign-in and approvals.")
    branch_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`, or as `authToken` in connection_init."
    )
    expires_at: datetime | None = None
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CounterLoginPayload:
    token: str | None = strawberry.field(
        default=None,
        description="A counter session: this counter's branch only, never administration. Send as "
        "`Authorization: Bearer <token>`, or as `authToken` in connection_init.",
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


_KEY = "Repeating a request with the same key returns the first result and changes nothing."


@strawberry.input
class UpdateStaffInput:
    staff_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=_KEY)
    name: str | None = None
    role: StaffRole | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Never one with powers you lack; only an owner makes owners and admins. Made an approver "
        "(a manager, an owner, an admin), a member's PIN is cleared: resetStaffPin gives them a longer one.",
    )
    branch_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="The whole new list; only branches where you manage staff. Ignored for owners and admins.",
    )


@strawberry.type
class UpdateStaffPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeactivateStaffInput:
    staff_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type
class DeactivateStaffPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReactivateStaffInput:
    staff_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type
class ReactivateStaffPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResetStaffPinInput:
    staff_id: strawberry.ID
    new_pin: str = strawberry.field(description="By the rules of createStaff's pin; unique at their branches.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type
class ResetStaffPinPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResetStaffPasswordInput:
    staff_id: strawberry.ID
    new_password: str
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type
class ResetStaffPasswordPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangeMyPasswordInput:
    current_password: str
    new_password: str
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type
class ChangeMyPasswordPayload:
    staff: Staff | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
