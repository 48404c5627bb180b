"""Repairing drift: make Shopify hold what Branchline holds, for the lines a check found unexplained.

Which quantity is set, and why `on_hand`:
`inventorySetQuantities` accepts only `available` or `on_hand` (reference §3.2; the simulator refuses
anything else with INVALID_NAME). Branchline's truth is the physical count, on_hand, and the line's
compare-and-swap must fail only when the count itself changed. With `available`, every order placed
in Shopify between the check and the repair (available → committed, on_hand unchanged) would make
the swap fail although nothing the repair relies on moved; with `on_hand` the order passes through and
the repair is still right, because Branchline's on_hand does not move for an order either. Shopify
moves the set difference through `available` (as the simulator does), which is exactly the state
the push worker keeps in step with Branchline's on_hand. So:

    on_hand := Shopify's on_hand in the check + the unexplained units, changeFromQuantity = that on_hand

Work in flight at check time is left out on purpose: when a pending push lands later it adds its
delta on top, and the two sides meet. `damaged` cannot be set (only available/on_hand), so damaged
drift travels as an `inventoryAdjustQuantities` delta on `damaged` with `changeFromQuantity` = the
damaged Shopify showed, after the on_hand set (a damaged change moves on_hand too, so the order
matters for the on_hand swap).

If anything moved in Shopify since the check, the swap refuses (CHANGE_FROM_QUANTITY_STALE): nothing
is overwritten and the line says "changed since the check, check again". Every call carries an
`@idempotent` key derived from the check and the line, so a retried repair is applied once.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from models.drift import DriftCheck, DriftCheckStatus, DriftLine, DriftLineStatus, DriftRepairStatus
from operations.drift.check import require_manager
from operations.kernel import Actor, ErrorCode, OperationError, Problems, record_audit, replay, run_once, transaction
from operations.sync import client_for, current_connection
from shopify import documents
from shopify.client import ShopifyClient, payload
from shopify.errors import ShopifyError, ShopifyUserErrors

log = logging.getLogger(__name__)

MAX_LINES = 250

CHANGED_MESSAGE = "changed in Shopify since the check: check again"


@dataclass
class LineOutcome:
    line: DriftLine
    outcome: DriftRepairStatus
    message: str
    already: bool = False  # repaired by an earlier request: nothing sent now


@dataclass
class Repair:
    check: DriftCheck
    outcomes: list[LineOutcome]
    replayed: bool = False  # a repeat of an earlier request: its lines as that request left them, nothing sent

    @property
    def repaired(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome is DriftRepairStatus.REPAIRED)


async def repair_drift(
    actor: Actor, check_id: int, line_ids: list[int] | None = None, idempotency_key: str | None = None
) -> Repair:
    """Repair the given lines of a check (default: all its unexplained lines the caller may see).

    The key is claimed once every line is done, since the lines are repaired outside any transaction (a
    Shopify call each): a repeat finds it and is answered with each line's recorded outcome, sending
    nothing; a request that died half way claimed nothing, so its repeat repairs what is left (the calls
    are keyed per line, Shopify applies each once)."""
    require_manager(actor)
    request = {"check": check_id, "lines": line_ids}
    earlier = await replay("repairDrift", idempotency_key, request, _load)
    check = earlier or await DriftCheck.get_or_none(id=check_id)
    if check is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, f"drift check {check_id} does not exist", "checkId")
    if check.status is not DriftCheckStatus.COMPLETED:
        raise OperationError.single(
            ErrorCode.WRONG_STATE, f"drift check {check_id} is {check.status.value}: only a completed one", "checkId"
        )
    lines = await _lines(actor, check, line_ids)
    if earlier is not None:
        return Repair(check, [_as_recorded(line) for line in lines if line.repair_status is not None], True)
    connection = await current_connection()
    if connection is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "connect Shopify first (connectShopify)")
    outcomes = []
    async with await client_for(connection) as client:
        for line in lines:
            if line.repair_status is DriftRepairStatus.REPAIRED:
                outcomes.append(LineOutcome(line, DriftRepairStatus.REPAIRED, line.repair_message or "", already=True))
                continue
            outcome, message = await _repair(client, line)
            outcomes.append(LineOutcome(line, outcome, message))
            await _record(actor, line, outcome, message)
    async with transaction() as tx:
        _, replayed = await run_once(tx, "repairDrift", idempotency_key, request, lambda: _load(check.id), _load)
    return Repair(check, outcomes, replayed)


async def _load(pk: int) -> DriftCheck:
    return await DriftCheck.get(id=pk)


def _as_recorded(line: DriftLine) -> LineOutcome:
    """A line as a repair left it; repaired by an earlier request, nothing is sent for it now."""
    repaired = line.repair_status is DriftRepairStatus.REPAIRED
    return LineOutcome(line, line.repair_status, line.repair_message or "", already=repaired)


async def _lines(actor: Actor, check: DriftCheck, line_ids: list[int] | None) -> list[DriftLine]:
    if line_ids is None:
        lines = await DriftLine.filter(check_id=check.id, status=DriftLineStatus.UNEXPLAINED).order_by("id")
        visible = actor.branch_ids
        return [ln for ln in lines if visible is None or ln.branch_id in visible]
    if len(line_ids) > MAX_LINES:
        raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_LINES} lines at a time", "lineIds")
    wanted = list(dict.fromkeys(line_ids))
    found = {ln.id: ln for ln in await DriftLine.filter(check_id=check.id, id__in=wanted)}
    problems = Problems()
    for i, line_id in enumerate(wanted):
        line = found.get(line_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, f"drift check {check.id} has no line {line_id}", f"lineIds.{i}")
        elif line.status is not DriftLineStatus.UNEXPLAINED:
            why = "work in flight explains it" if line.status is DriftLineStatus.EXPLAINED else "stock was moving"
            problems.add(
                ErrorCode.WRONG_STATE, f"line {line_id} is {line.status.value} ({why}): not repaired", f"lineIds.{i}"
            )
    problems.raise_if_any()
    for line in found.values():
        require_manager(actor, line.branch_id)
    return [found[i] for i in wanted]


def _key(line: DriftLine, what: str) -> str:
    return f"branchline-drift-{line.check_id}-{line.id}-{what}"


async def _repair(client: ShopifyClient, line: DriftLine) -> tuple[DriftRepairStatus, str]:
    done = []
    try:
        if not line.shopify_stocked:  # Shopify has no level to set: stock the item there first (at 0)
            data = await client.mutate(
                documents.STOCK_ITEM_AT_LOCATION,
                {"item": line.inventory_item_id, "location": line.location_id},
                idempotency_key=_key(line, "activate"),
            )
            payload(data, "inventoryActivate")
        if line.unexplained:
            target = line.shopify_on_hand + line.unexplained
            data = await client.mutate(
                documents.REPAIR_DRIFT, _set_variables(line, target), idempotency_key=_key(line, "on_hand")
            )
            payload(data, "inventorySetQuantities")
            done.append(f"on hand {line.shopify_on_hand} → {target}")
        if line.unexplained_damaged:
            data = await client.mutate(
                documents.REPAIR_DAMAGED_DRIFT, _damaged_variables(line), idempotency_key=_key(line, "damaged")
            )
            payload(data, "inventoryAdjustQuantities")
            done.append(f"damaged {line.shopify_damaged} → {line.shopify_damaged + line.unexplained_damaged}")
    except ShopifyUserErrors as error:
        partly = f" ({', '.join(done)} already set)" if done else ""
        if "CHANGE_FROM_QUANTITY_STALE" in error.codes:
            return DriftRepairStatus.CHANGED, CHANGED_MESSAGE + partly
        return DriftRepairStatus.FAILED, f"Shopify refused: {error}{partly}"
    except ShopifyError as error:  # unreachable, throttled past patience: the same keys serve a retry
        log.warning("drift repair of line %s failed: %s", line.id, error)
        return DriftRepairStatus.FAILED, f"Shopify could not be reached ({type(error).__name__}): repair again"
    return DriftRepairStatus.REPAIRED, "Shopify set: " + ", ".join(done)


def _set_variables(line: DriftLine, target: int) -> dict:
    return {
        "input": {
            "name": "on_hand",
            "reason": "correction",
            "referenceDocumentUri": f"gid://branchline/DriftCheck/{line.check_id}",
            "quantities": [
                {
                    "inventoryItemId": line.inventory_item_id,
                    "locationId": line.location_id,
                    "quantity": target,
                    # What Shopify showed in the check: a level changed since is never overwritten.
                    "changeFromQuantity": line.shopify_on_hand,
                }
            ],
        }
    }


def _damaged_variables(line: DriftLine) -> dict:
    return {
        "input": {
            "name": "damaged",
            "reason": "correction",
            "referenceDocumentUri": f"gid://branchline/DriftCheck/{line.check_id}",
            "changes": [
                {
                    "inventoryItemId": line.inventory_item_id,
                    "locationId": line.location_id,
                    "delta": line.unexplained_damaged,
                    "changeFromQuantity": line.shopify_damaged,
                    "ledgerDocumentUri": f"gid://branchline/DriftLine/{line.id}",  # required for damaged
                }
            ],
        }
    }


async def _record(actor: Actor, line: DriftLine, outcome: DriftRepairStatus, message: str) -> None:
    line.repair_status, line.repair_message = outcome, message
    line.repaired_at, line.repaired_by = datetime.now(UTC), actor.label
    async with transaction() as tx:
        await line.save(
            using_db=tx.conn, update_fields=["repair_status", "repair_message", "repaired_at", "repaired_by"]
        )
        if outcome is DriftRepairStatus.REPAIRED:
            await record_audit(
                actor,
                "shopify.drift_repaired",
                branch_id=line.branch_id,
                target=("drift_line", line.id),
                variant_id=line.variant_id,
                on_hand=line.unexplained,
                damaged=line.unexplained_damaged,
            )
