"""driftReport, checkDrift and repairDrift: decode, call operations/drift/check.py and drift_repair.py, shape."""

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import drift as models
from operations.drift import check_drift as ops_check_drift
from operations.drift import launch_drift_check, require_manager, start_check
from operations.drift import repair_drift as ops_repair_drift
from operations.kernel import Actor, OperationError
from operations.sync import changed_since
from resolvers.mutations import payload
from schema import ids
from schema.drift import (
    CheckDriftInput,
    CheckDriftPayload,
    DriftCheck,
    DriftLine,
    DriftRepairResult,
    DriftRepairStatus,
    RepairDriftInput,
    RepairDriftPayload,
)
from schema.errors import BadRequest


async def _shape(actor: Actor, check: models.DriftCheck, only_drift: bool = False) -> DriftCheck:
    """The check with the lines this caller may see: a branch manager sees their branches only."""
    query = models.DriftLine.filter(check_id=check.id)
    if only_drift:
        query = query.filter(status=models.DriftLineStatus.UNEXPLAINED)
    if actor.branch_ids is not None:
        query = query.filter(branch_id__in=sorted(actor.branch_ids))
    rows = await query.order_by("id").prefetch_related("branch", "variant")
    changed = await changed_since(check)
    return DriftCheck.from_model(check, [DriftLine.from_model(r, changed) for r in rows])


async def drift_report(
    info: Info,
    check_id: strawberry.ID | None = None,
    only_drift: bool = False,
) -> DriftCheck | None:
    """The latest drift check (or the one asked for): each difference with Shopify, and why."""
    actor = info.context.actor
    require_manager(actor)
    if check_id is None:
        check = await models.DriftCheck.all().order_by("-id").first()
    else:
        try:
            pk = ids.decode(check_id, "DriftCheck", "checkId")
        except OperationError as error:
            raise BadRequest(str(error), field="checkId") from None
        check = await models.DriftCheck.get_or_none(id=pk)
    return await _shape(actor, check, only_drift) if check is not None else None


async def check_drift(info: Info, input: CheckDriftInput) -> CheckDriftPayload:
    """Compare Shopify with Branchline now. With `wait: false` the check runs on in the background
    (read it with driftReport)."""
    actor = info.context.actor

    async def run():
        if input.wait:
            check = await ops_check_drift(actor, input.idempotency_key)
        else:
            check, replayed = await start_check(actor, input.idempotency_key, background=True)
            if not replayed:
                launch_drift_check(check.id)
        return {"check": await _shape(actor, check)}

    return await payload(CheckDriftPayload, run)


async def repair_drift(info: Info, input: RepairDriftInput) -> RepairDriftPayload:
    """Set Shopify to Branchline's stock for unexplained lines (all of the check's, or those given).
    Refused per line, overwriting nothing, where Shopify changed since the check."""
    actor = info.context.actor

    async def run():
        pk = ids.decode(input.check_id, "DriftCheck", "checkId")
        lines = None
        if input.line_ids is not None:
            lines = [ids.decode(v, "DriftLine", f"lineIds.{i}") for i, v in enumerate(input.line_ids)]
        done = await ops_repair_drift(actor, pk, lines, input.idempotency_key)
        check = await models.DriftCheck.get(id=pk)
        shaped = await _shape(actor, check)
        by_id = {line.id: line for line in shaped.lines}
        results = [
            DriftRepairResult(
                line=by_id[relay.to_base64("DriftLine", o.line.id)],
                outcome=DriftRepairStatus(o.outcome.value),
                message=o.message,
                already_repaired=o.already,
            )
            for o in done.outcomes
        ]
        return {"check": shaped, "results": results, "repaired": done.repaired}

    return await payload(RepairDriftPayload, run)
