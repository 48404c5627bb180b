"""Signing in and out, staff accounts, and the audit log."""

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Subquery

from models import staff as models
from operations.directory import NewStaff, SignedIn, StaffChange, change_my_password, set_staff_active
from operations.directory import counter_login as ops_counter_login
from operations.directory import create_staff as ops_create_staff
from operations.directory import login as ops_login
from operations.directory import logout as ops_logout
from operations.directory import reset_password as ops_reset_password
from operations.directory import reset_pin as ops_reset_pin
from operations.directory import update_staff as ops_update_staff
from operations.kernel import OperationError, Permission, require, require_signed_in, visible_branches
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.pagination import check_first, decode_cursor, keyset_page
from schema.staff import (
    AuditEntry,
    ChangeMyPasswordInput,
    ChangeMyPasswordPayload,
    CounterLoginInput,
    CounterLoginPayload,
    CreateStaffInput,
    CreateStaffPayload,
    DeactivateStaffInput,
    DeactivateStaffPayload,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    ReactivateStaffInput,
    ReactivateStaffPayload,
    ResetStaffPasswordInput,
    ResetStaffPasswordPayload,
    ResetStaffPinInput,
    ResetStaffPinPayload,
    Staff,
    StaffRole,
    UpdateStaffInput,
    UpdateStaffPayload,
)


def _signed_in(result: SignedIn) -> dict:
    return {"token": result.token, "expires_at": result.expires_at, "staff": Staff.from_model(result.staff)}


def _client_address(info: Info) -> str:
    """Who is asking, as the wrong-password limits count them. Behind a trusted proxy uvicorn has already
    put the X-Forwarded-For client here (BRANCHLINE_TRUSTED_PROXIES)."""
    client = getattr(info.context.request, "client", None)
    return client.host if client and client.host else "unknown"


async def login(info: Info, input: LoginInput) -> LoginPayload:
    async def run():
        return _signed_in(await ops_login(input.email, input.password, _client_address(info)))

    return await payload(LoginPayload, run)


async def counter_login(info: Info, input: CounterLoginInput) -> CounterLoginPayload:
    async def run():
        counter_pk = ids.decode(input.counter_id, "Counter", "counterId")
        staff_pk = ids.decode(input.staff_id, "Staff", "staffId") if input.staff_id else None
        return _signed_in(await ops_counter_login(counter_pk, input.pin, staff_pk))

    return await payload(CounterLoginPayload, run)


async def logout(info: Info) -> LogoutPayload:
    require_signed_in(info.context.actor)
    await ops_logout(info.context.actor)
    return LogoutPayload(ok=True)


async def create_staff(info: Info, input: CreateStaffInput) -> CreateStaffPayload:
    async def run():
        new = NewStaff(
            email=input.email,
            name=input.name,
            role=models.Role(input.role.value),
            password=input.password,
            pin=input.pin,
            branch_ids=[ids.decode(b, "Branch", f"branchIds.{i}") for i, b in enumerate(input.branch_ids)],
        )
        return {"staff": Staff.from_model(await ops_create_staff(info.context.actor, new, input.idempotency_key))}

    return await payload(CreateStaffPayload, run)


async def me(info: Info) -> Staff:
    require_signed_in(info.context.actor)
    return Staff.from_model(await models.Staff.get(id=info.context.actor.staff_id))


async def audit_log(
    info: Info, first: int, after: str | None = None, branch_id: strawberry.ID | None = None
) -> relay.Connection[AuditEntry]:
    """Newest first (page on with `after`); at one branch, or every branch the caller sees."""
    check_first(first)
    try:
        branch_pk = ids.decode(branch_id, "Branch", "branchId") if branch_id else None
    except OperationError:
        raise BadRequest(f"not a valid Branch ID: {branch_id!r}", field="branchId") from None
    require(info.context.actor, Permission.VIEW_AUDIT, branch_pk)
    queryset = models.AuditEntry.all()
    visible = visible_branches(info.context.actor)
    if branch_pk is not None:
        queryset = queryset.filter(branch_id=branch_pk)
    elif visible is not None:
        queryset = queryset.filter(branch_id__in=visible)
    return await keyset_page(
        queryset,
        first=first,
        after_key=decode_cursor(after),
        key="id",
        to_node=AuditEntry.from_model,
        descending=True,
    )


async def staff_members(
    info: Info,
    first: int,
    after: str | None = None,
    branch_id: strawberry.ID | None = None,
    role: StaffRole | None = None,  # type: ignore[valid-type]
    active: bool | None = None,
) -> relay.Connection[Staff]:
    """Staff, for those who manage them: at the caller's branches (owners and admins: everyone), or at one."""
    check_first(first)
    try:
        branch_pk = ids.decode(branch_id, "Branch", "branchId") if branch_id else None
    except OperationError:
        raise BadRequest(f"not a valid Branch ID: {branch_id!r}", field="branchId") from None
    actor = info.context.actor
    require(actor, Permission.MANAGE_STAFF, branch_pk)
    queryset = models.Staff.all()
    visible = visible_branches(actor)
    if branch_pk is not None:
        visible = frozenset({branch_pk})
    if visible is not None:
        links = models.StaffBranch.filter(branch_id__in=list(visible)).values("staff_id")
        queryset = queryset.filter(id__in=Subquery(links))
    if role is not None:
        queryset = queryset.filter(role=models.Role(role.value))
    if active is not None:
        queryset = queryset.filter(active=active)
    return await keyset_page(queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Staff.from_model)


def _staff_id(value: strawberry.ID) -> int:
    return ids.decode(value, "Staff", "staffId")


async def update_staff(info: Info, input: UpdateStaffInput) -> UpdateStaffPayload:
    async def run():
        branch_ids = None
        if input.branch_ids is not None:
            branch_ids = [ids.decode(b, "Branch", f"branchIds.{i}") for i, b in enumerate(input.branch_ids)]
        role = models.Role(input.role.value) if input.role is not None else None
        change = StaffChange(name=input.name, role=role, branch_ids=branch_ids)
        staff, _ = await ops_update_staff(info.context.actor, _staff_id(input.staff_id), change, input.idempotency_key)
        return {"staff": Staff.from_model(staff)}

    return await payload(UpdateStaffPayload, run)


async def deactivate_staff(info: Info, input: DeactivateStaffInput) -> DeactivateStaffPayload:
    async def run():
        staff, _ = await set_staff_active(info.context.actor, _staff_id(input.staff_id), False, input.idempotency_key)
        return {"staff": Staff.from_model(staff)}

    return await payload(DeactivateStaffPayload, run)


async def reactivate_staff(info: Info, input: ReactivateStaffInput) -> ReactivateStaffPayload:
    async def run():
        staff, _ = await set_staff_active(info.context.actor, _staff_id(input.staff_id), True, input.idempotency_key)
        return {"staff": Staff.from_model(staff)}

    return await payload(ReactivateStaffPayload, run)


async def reset_staff_pin(info: Info, input: ResetStaffPinInput) -> ResetStaffPinPayload:
    async def run():
        actor, staff_pk = info.context.actor, _staff_id(input.staff_id)
        staff, _ = await ops_reset_pin(actor, staff_pk, input.new_pin, input.idempotency_key)
        return {"staff": Staff.from_model(staff)}

    return await payload(ResetStaffPinPayload, run)


async def reset_staff_password(info: Info, input: ResetStaffPasswordInput) -> ResetStaffPasswordPayload:
    async def run():
        actor, staff_pk = info.context.actor, _staff_id(input.staff_id)
        staff, _ = await ops_reset_password(actor, staff_pk, input.new_password, input.idempotency_key)
        return {"staff": Staff.from_model(staff)}

    return await payload(ResetStaffPasswordPayload, run)


async def change_password(info: Info, input: ChangeMyPasswordInput) -> ChangeMyPasswordPayload:
    async def run():
        staff, _ = await change_my_password(
            info.context.actor, input.current_password, input.new_password, input.idempotency_key, _client_address(info)
        )
        return {"staff": Staff.from_model(staff)}

    return await payload(ChangeMyPasswordPayload, run)
