"""Fiscal reporting: registering counters, the authorities' tokens, fiscalStatus and fiscalAlerts."""

from collections.abc import AsyncGenerator

from strawberry.types import Info

from models.fiscal import FiscalAuthority
from operations.fiscal import (
    FISCAL_CHANNEL,
    FiscalFigures,
)
from operations.fiscal import (
    fiscal_status as ops_fiscal_status,
)
from operations.fiscal import (
    requeue_fiscal as ops_requeue_fiscal,
)
from operations.fiscal import (
    set_branch_fiscal_authority as ops_set_branch_fiscal_authority,
)
from operations.fiscal import (
    set_counter_fiscal_registration as ops_set_counter_fiscal_registration,
)
from operations.fiscal import (
    set_fiscal_token as ops_set_fiscal_token,
)
from operations.kernel import Permission, Problems, require
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.fiscal import (
    BranchFiscalStatus,
    FiscalDocument,
    FiscalStatus,
    RequeueFiscalInput,
    RequeueFiscalPayload,
    SetBranchFiscalAuthorityInput,
    SetBranchFiscalAuthorityPayload,
    SetCounterFiscalRegistrationInput,
    SetCounterFiscalRegistrationPayload,
    SetFiscalTokenInput,
    SetFiscalTokenPayload,
)
from schema.types import Branch, Counter
from subscriptions import live
from subscriptions.bus import BusClosed, SlowConsumer

# The worker publishes on FISCAL_CHANNEL after a round that changed something; ageing grows by itself, so a
# subscriber also re-reads the status this often.
REFRESH_SECONDS = 30.0


def status_of(f: FiscalFigures) -> FiscalStatus:
    return FiscalStatus(
        at=f.at,
        ageing_hours=f.ageing_hours,
        pending=f.pending,
        ageing=f.ageing,
        parked=f.parked,
        flagged_count=f.flagged_count,
        oldest_pending_at=f.oldest_pending_at,
        oldest_pending_seconds=f.oldest_pending_seconds,
        branches=[
            BranchFiscalStatus(
                pending=b.pending,
                ageing=b.ageing,
                oldest_pending_at=b.oldest_pending_at,
                parked=b.parked,
                refused=b.refused,
                recorded=b.recorded,
                flagged=b.flagged,
                not_fiscalised=b.not_fiscalised,
                fiscalised=b.fiscalised,
                branch_pk=b.branch_id,
            )
            for b in f.branches
        ],
        flagged=[FiscalDocument.from_model(d) for d in f.flagged],
    )


async def fiscal_status(info: Info, branch_id: str | None = None) -> FiscalStatus:
    branch_pk = ids.decode(branch_id, "Branch", "branchId") if branch_id else None
    return status_of(await ops_fiscal_status(info.context.actor, branch_pk))


def _signature(s: FiscalStatus) -> tuple:
    return (
        s.pending,
        s.ageing,
        s.parked,
        s.flagged_count,
        tuple((b.branch_pk, b.refused, b.recorded) for b in s.branches),
    )


async def fiscal_alerts(info: Info, branch_id: str | None = None) -> AsyncGenerator[FiscalStatus, None]:
    """The status now, then again whenever it changes: an invoice reported, parked, refused or flagged, or one
    ageing past the authority's window (seen within REFRESH_SECONDS)."""
    branch_pk = ids.decode(branch_id, "Branch", "branchId") if branch_id else None
    require(info.context.actor, Permission.VIEW_SALES, branch_pk)
    bus = live.current()
    if bus is None:
        raise BadRequest("live events are not available on this server", code="UNAVAILABLE")
    async with bus.subscribe([FISCAL_CHANNEL]) as subscription:
        status = status_of(await ops_fiscal_status(info.context.actor, branch_pk))
        yield status
        last = _signature(status)
        while True:
            try:
                event = await subscription.get(timeout=REFRESH_SECONDS)
            except (SlowConsumer, BusClosed):
                raise BadRequest("fiscal alerts stopped: subscribe again", code="UNAVAILABLE") from None
            status = status_of(await ops_fiscal_status(info.context.actor, branch_pk))
            if event is None and _signature(status) == last:
                continue
            last = _signature(status)
            yield status


async def set_counter_fiscal_registration(
    info: Info, input: SetCounterFiscalRegistrationInput
) -> SetCounterFiscalRegistrationPayload:
    async def run():
        counter_pk = ids.decode(input.counter_id, "Counter", "counterId")
        counter = await ops_set_counter_fiscal_registration(
            info.context.actor, counter_pk, input.pos_id, input.registered, input.idempotency_key
        )
        return {"counter": Counter.from_model(counter)}

    return await payload(SetCounterFiscalRegistrationPayload, run)


async def set_branch_fiscal_authority(
    info: Info, input: SetBranchFiscalAuthorityInput
) -> SetBranchFiscalAuthorityPayload:
    async def run():
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId")
        authority = FiscalAuthority(input.authority.value)
        branch = await ops_set_branch_fiscal_authority(info.context.actor, branch_pk, authority, input.idempotency_key)
        return {"branch": Branch.from_model(branch)}

    return await payload(SetBranchFiscalAuthorityPayload, run)


async def set_fiscal_token(info: Info, input: SetFiscalTokenInput) -> SetFiscalTokenPayload:
    async def run():
        authority = FiscalAuthority(input.authority.value)
        credential = await ops_set_fiscal_token(info.context.actor, authority, input.token, input.idempotency_key)
        return {"authority": credential.authority, "updated_at": credential.updated_at}

    return await payload(SetFiscalTokenPayload, run)


async def requeue_fiscal(info: Info, input: RequeueFiscalInput) -> RequeueFiscalPayload:
    async def run():
        problems = Problems()
        problems.check_key(input.idempotency_key, required=True)
        problems.raise_if_any()
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId") if input.branch_id else None
        rows, _ = await ops_requeue_fiscal(info.context.actor, input.idempotency_key, branch_pk)
        return {"requeued": rows}

    return await payload(RequeueFiscalPayload, run)
