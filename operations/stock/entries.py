"""What the ledger takes and gives back: movements, postings, applied movements, shortages.

Kept apart from `operations/stock/ledger.py` (the code that writes stock) so callers can build
movements and read results without the SQL.
"""

from dataclasses import dataclass
from datetime import datetime

from models.stock import Bucket, ShopifyEffect
from operations.kernel import ErrorCode, OperationError, Problem


@dataclass(frozen=True)
class Movement:
    branch_id: int
    variant_id: int
    delta: int
    bucket: Bucket = Bucket.ON_HAND
    reason: str | None = None  # defaults to the posting's reason
    shopify_effect: ShopifyEffect = ShopifyEffect.PUSH
    # Compare-and-set for counts: the movement applies only if on hand is still this value.
    expected_on_hand: int | None = None
    # The request line this movement comes from, when it is not the movement's own position (a damaged
    # line makes two movements): errors name `lines.<line>`, a line the caller sent.
    line: int | None = None


@dataclass(frozen=True)
class Posting:
    idempotency_key: str
    reason: str
    actor: str = "system"
    reference_type: str | None = None
    reference_id: str | None = None
    note: str | None = None
    occurred_at: datetime | None = None
    # What makes a retry "the same request": by default the movements; a caller that derives
    # movements from current stock (a count) passes a hash of its client's input instead.
    request_hash: str | None = None
    # None: each branch's own setting. True: apply even below zero (late offline sales,
    # Shopify orders that already happened) — the caller reports them as exceptions.
    allow_negative: bool | None = None


@dataclass(frozen=True)
class AppliedMovement:
    id: int
    branch_id: int
    variant_id: int
    sku: str
    bucket: Bucket
    delta: int
    reason: str
    sequence: int
    on_hand: int
    reserved: int
    in_transit: int
    damaged: int
    occurred_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def event(self) -> dict:
        """The `stockChanged` payload as published on the bus."""
        return stock_event(
            self.id,
            self.branch_id,
            self.variant_id,
            self.sku,
            self.bucket.value,
            self.delta,
            self.reason,
            self.sequence,
            (self.on_hand, self.reserved, self.in_transit, self.damaged),
            self.occurred_at.isoformat(),
        )


def stock_event(
    movement_id: int,
    branch_id: int,
    variant_id: int,
    sku: str,
    bucket: str,
    delta: int,
    reason: str,
    sequence: int,
    levels: tuple[int, int, int, int],
    occurred_at: str,
) -> dict:
    """The `stockChanged` payload; `levels` are on hand, reserved, in transit and damaged after the
    movement. A plain function so the import's bulk path can build 100,000 of them without first
    making a frozen dataclass of each."""
    on_hand, reserved, in_transit, damaged = levels
    return {
        "movementId": movement_id,
        "branchId": branch_id,
        "variantId": variant_id,
        "sku": sku,
        "bucket": bucket,
        "delta": delta,
        "reason": reason,
        "sequence": sequence,
        "onHand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "inTransit": in_transit,
        "damaged": damaged,
        "occurredAt": occurred_at,
    }


@dataclass(frozen=True)
class PostingResult:
    posting_id: int
    idempotency_key: str
    movements: list[AppliedMovement]
    replayed: bool = False  # True when the key had been posted before: nothing was applied now


@dataclass(frozen=True)
class Shortage:
    branch_id: int
    variant_id: int
    sku: str
    requested: int
    available: int


class InsufficientStock(OperationError):
    def __init__(self, shortages: list[Shortage], fields: dict[tuple[int, int], str]):
        self.shortages = shortages
        super().__init__(
            [
                Problem(
                    ErrorCode.INSUFFICIENT_STOCK,
                    f"{s.sku}: {s.requested} requested, {s.available} available at branch {s.branch_id}",
                    fields.get((s.branch_id, s.variant_id)),
                )
                for s in shortages
            ]
        )
