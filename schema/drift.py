"""GraphQL types for the drift report: where Shopify's stock differs from Branchline's, and why."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import drift as models
from operations.drift import IN_FLIGHT_KINDS
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.staff import Staff, actor_as_staff
from schema.types import Branch, StockBucket, Variant

DriftCheckStatus = mirrored(models.DriftCheckStatus, "DriftCheckStatus")
DriftLineStatus = mirrored(
    models.DriftLineStatus,
    "DriftLineStatus",
    (
        "EXPLAINED: work in flight accounts for it. UNEXPLAINED: drift, repairable. "
        "MOVING: stock moved while the check ran; check again."
    ),
)
DriftInFlightKind = strawberry.enum(
    Enum("DriftInFlightKind", {k.upper(): k for k in IN_FLIGHT_KINDS}),
    description="PENDING_PUSH, PARKED_PUSH: stock changes Shopify has not taken yet. MANUAL_FULFILLMENT: shipped "
    "here, not yet matched in Shopify. SMART_FULFILLMENT, PARKED_FULFILLMENT: fulfillments Shopify has not been "
    "told of yet. UNPROCESSED_WEBHOOK: Shopify told us something not handled yet.",
)
DriftRepairStatus = mirrored(
    models.DriftRepairStatus,
    "DriftRepairStatus",
    "CHANGED: Shopify's level changed since the check, nothing was overwritten; check again.",
)


@strawberry.type(description="What Shopify showed in the check.")
class ShopifyQuantities:
    stocked: bool = strawberry.field(description="False: the item had no level at this location in Shopify.")
    available: int
    committed: int
    reserved: int
    damaged: int
    on_hand: int


@strawberry.type(description="What Branchline held when the check compared.")
class BranchlineQuantities:
    on_hand: int
    reserved: int
    damaged: int


@strawberry.type(description="Work still travelling between Branchline and Shopify, and the units it accounts for.")
class DriftInFlight:
    kind: DriftInFlightKind  # type: ignore[valid-type]
    bucket: StockBucket = strawberry.field(description="ON_HAND or DAMAGED.")  # type: ignore[valid-type]
    quantity: int = strawberry.field(description="Branchline minus Shopify; 0 when a webhook's effect is unknown.")
    count: int

    @classmethod
    def from_part(cls, part: dict) -> "DriftInFlight":
        return cls(
            kind=DriftInFlightKind(part["kind"]),
            bucket=StockBucket(part["bucket"]),
            quantity=part["quantity"],
            count=part["count"],
        )


@strawberry.type(description="One branch and variant whose Shopify level differs from Branchline's.")
class DriftLine:
    id: strawberry.ID
    branch: Branch
    variant: Variant
    sku: str
    shopify: ShopifyQuantities
    branchline: BranchlineQuantities
    difference: int = strawberry.field(
        description="Branchline on hand minus Shopify (available + committed + reserved)."
    )
    damaged_difference: int = strawberry.field(description="Branchline damaged minus Shopify damaged.")
    in_flight: list[DriftInFlight]
    unexplained: int = strawberry.field(description="On-hand units nothing in flight accounts for: what repair sets.")
    unexplained_damaged: int
    status: DriftLineStatus  # type: ignore[valid-type]
    explanation: str
    changed_in_shopify_since_check: bool = strawberry.field(
        description="Shopify reported a change to this level after the check: a repair will likely be refused."
    )
    repair_status: DriftRepairStatus | None  # type: ignore[valid-type]
    repair_message: str | None
    repaired_at: datetime | None

    @classmethod
    def from_model(cls, m: models.DriftLine, changed: set[tuple[str, str]]) -> "DriftLine":
        return cls(
            id=strawberry.ID(relay.to_base64("DriftLine", m.id)),
            branch=Branch.from_model(m.branch),
            variant=Variant.from_model(m.variant),
            sku=m.variant.sku,
            shopify=ShopifyQuantities(
                stocked=m.shopify_stocked,
                available=m.shopify_available,
                committed=m.shopify_committed,
                reserved=m.shopify_reserved,
                damaged=m.shopify_damaged,
                on_hand=m.shopify_on_hand,
            ),
            branchline=BranchlineQuantities(
                on_hand=m.branchline_on_hand, reserved=m.branchline_reserved, damaged=m.branchline_damaged
            ),
            difference=m.difference,
            damaged_difference=m.damaged_difference,
            in_flight=[DriftInFlight.from_part(part) for part in m.in_flight],
            unexplained=m.unexplained,
            unexplained_damaged=m.unexplained_damaged,
            status=DriftLineStatus(m.status.value),
            explanation=m.explanation,
            changed_in_shopify_since_check=(m.inventory_item_id, m.location_id) in changed,
            repair_status=DriftRepairStatus(m.repair_status.value) if m.repair_status else None,
            repair_message=m.repair_message,
            repaired_at=m.repaired_at,
        )


@strawberry.type(description="One comparison of Shopify's inventory levels with Branchline's stock.")
class DriftCheck:
    id: strawberry.ID
    status: DriftCheckStatus  # type: ignore[valid-type]
    requested_by_label: strawberry.Private[str]
    levels_compared: int
    explained: int = strawberry.field(description="Lines whose difference is work in flight.")
    unexplained: int = strawberry.field(description="Lines of drift.")
    moving: int = strawberry.field(description="Lines that moved while the check ran.")
    error_code: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    lines: list[DriftLine] = strawberry.field(description="The lines you may see (your branches).")

    @strawberry.field(description="Who asked for it; null when the worker ran it (or you may not see them).")
    async def requested_by(self, info: Info) -> Staff | None:
        return await actor_as_staff(info, self.requested_by_label)

    @classmethod
    def from_model(cls, m: models.DriftCheck, lines: list[DriftLine]) -> "DriftCheck":
        return cls(
            id=strawberry.ID(relay.to_base64("DriftCheck", m.id)),
            status=DriftCheckStatus(m.status.value),
            requested_by_label=m.requested_by,
            levels_compared=m.levels_compared,
            explained=m.explained,
            unexplained=m.unexplained,
            moving=m.moving,
            error_code=m.error_code,
            error=m.error,
            created_at=m.created_at,
            finished_at=m.finished_at,
            lines=lines,
        )


@strawberry.type
class CheckDriftPayload:
    check: DriftCheck | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What a repair did to one line.")
class DriftRepairResult:
    line: DriftLine
    outcome: DriftRepairStatus  # type: ignore[valid-type]
    message: str
    already_repaired: bool = strawberry.field(description="Repaired by an earlier request: nothing sent now.")


@strawberry.type
class RepairDriftPayload:
    check: DriftCheck | None = None
    results: list[DriftRepairResult] = strawberry.field(default_factory=list)
    repaired: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Compare Shopify with Branchline now.")
class CheckDriftInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    wait: bool = strawberry.field(
        default=True, description="false: the check runs on in the background (read it with driftReport)."
    )


@strawberry.input(description="Set Shopify to Branchline's stock for a check's unexplained lines.")
class RepairDriftInput:
    check_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description=KEY_DESCRIPTION + " A repeat shows each line as the first request left it."
    )
    line_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Left out: all of them.")
