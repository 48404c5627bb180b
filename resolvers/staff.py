"""Signing in and out, staff accounts, and the audit log."""

import strawberry
from strawberry.types import Info

from models import staff as models
from operations.directory import staff as ops
from operations.kernel.access import Permission, require, require_signed_in, visible_branches
from resolvers.mutations import payload
from schema import ids
from schema.pagination import check_first
from schema.staff import (
    AuditEntry,
    CounterLoginInput,
    CounterLoginPayload,
    CreateStaffInput,
    CreateStaffPayload,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    Staff,
)

MAX_AUDIT_PAGE = 100


def _signed_in(result: ops.SignedIn) -> dict:
    return {"token": result.token, "expires_at": result.expires_at, "staff": Staff.from_model(result.staff)}


def _client_address(info: Info) -> str:
    """Who is asking, as the wrong-password limits count them. Behind a trusted proxy uvicorn has already
    put the X-Forwarded-For client here (BRANCHLINE_TRUSTED_PROXIES)."""
    client = getattr(info.context.request, "client", None)
    return client.host if client and client.host else "unknown"


async def login(info: Info, input: LoginInput) -> LoginPayload:
    async def run():
        return _signed_in(await ops.login(input.email, input.password, _client_address(info)))

    return await payload(LoginPayload, run)


async def counter_login(info: Info, input: CounterLoginInput) -> CounterLoginPayload:
    async def run():
        counter_pk = ids.decode(input.counter_id, "Counter", "counterId")
        staff_pk = ids.decode(input.staff_id, "Staff", "staffId") if input.staff_id else None
        return _signed_in(await ops.counter_login(counter_pk, input.pin, staff_pk))

    return await payload(CounterLoginPayload, run)


async def logout(info: Info) -> LogoutPayload:
    require_signed_in(info.context.actor)
    await ops.logout(info.context.actor)
    return LogoutPayload(ok=True)


async def create_staff(info: Info, input: CreateStaffInput) -> CreateStaffPayload:
    async def run():
        new = ops.NewStaff(
            email=input.email,
            name=input.name,
            role=models.Role(input.role.value),
            password=input.password,
            pin=input.pin,
            branch_ids=[ids.decode(b, "Branch", f"branchIds.{i}") for i, b in enumerate(input.branch_ids)],
        )
        return {"staff": Staff.from_model(await ops.create_staff(info.context.actor, new, input.idempotency_key))}

    return await payload(CreateStaffPayload, run)


async def me(info: Info) -> Staff:
    require_signed_in(info.context.actor)
    return Staff.from_model(await models.Staff.get(id=info.context.actor.staff_id))


async def audit_log(
    info: Info, first: int, before_id: strawberry.ID | None = None, branch_id: strawberry.ID | None = None
) -> list[AuditEntry]:
    """Newest first; page with `beforeId` = the last entry's id."""
    check_first(first)
    branch_pk = ids.decode(branch_id, "Branch", "branchId") if branch_id else None
    require(info.context.actor, Permission.VIEW_AUDIT, branch_pk)
    queryset = models.AuditEntry.all().order_by("-id")
    visible = visible_branches(info.context.actor)
    if branch_pk is not None:
        queryset = queryset.filter(branch_id=branch_pk)
    elif visible is not None:
        queryset = queryset.filter(branch_id__in=visible)
    if before_id is not None:
        queryset = queryset.filter(id__lt=int(before_id))
    return [
        AuditEntry(
            id=strawberry.ID(str(e.id)),
            at=e.at,
            actor=e.actor,
            action=e.action,
            branch_id=ids.global_id("Branch", e.branch_id) if e.branch_id else None,
            target_type=e.target_type,
            target_id=e.target_id,
            approved_by_staff_id=ids.global_id("Staff", e.approved_by_staff_id) if e.approved_by_staff_id else None,
            detail=e.detail,
        )
        for e in await queryset.limit(first)
    ]
