"""Mutation inputs. Every mutation that changes state takes an idempotencyKey."""

from decimal import Decimal

import strawberry

from operations.directory import VariantRef
from operations.stock import AdjustmentReason as OperationReason
from schema import ids
from schema.enums import mirrored
from schema.types import FulfillmentWorkflow

AdjustmentReason = mirrored(
    OperationReason,
    "AdjustmentReason",
    (
        "Why stock is adjusted. DAMAGED moves units from on hand to the damaged bucket; "
        "COUNT sets on hand to countedQuantity."
    ),
)

KEY_DESCRIPTION = "Repeating a request with the same key returns the first result and changes nothing."


@strawberry.input(one_of=True, description="A variant by exactly one of: its ID, its SKU, its barcode (a scan).")
class VariantRefInput:
    id: strawberry.ID | None = strawberry.UNSET
    sku: str | None = strawberry.UNSET
    barcode: str | None = strawberry.UNSET

    def ref(self, field: str) -> VariantRef:
        """The variant as operations name it; `field` is where this input sits (`lines.0.variant`), for the
        error a malformed ID gets."""

        def given(value):
            return None if value is strawberry.UNSET else value

        pk = given(self.id)
        return VariantRef(
            id=None if pk is None else ids.decode(pk, "Variant", f"{field}.id"),
            sku=given(self.sku),
            barcode=given(self.barcode),
        )


@strawberry.input
class CreateBranchInput:
    code: str
    name: str
    timezone: str = "Asia/Karachi"
    allow_negative_stock: bool = False
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="How a branch takes part in online orders; fields left out stay as they are.")
class SetBranchOnlineSettingsInput:
    branch_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    fulfillment_workflow: FulfillmentWorkflow | None = None  # type: ignore[valid-type]
    routing_priority: int | None = None
    online_safety_stock: int | None = None


@strawberry.input
class CreateCounterInput:
    branch_id: strawberry.ID
    code: str
    name: str
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class UpdateCounterInput:
    counter_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    code: str | None = strawberry.field(default=None, description="Unique at the counter's branch.")
    name: str | None = None


@strawberry.input
class DeactivateCounterInput:
    counter_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class VariantInput:
    sku: str
    price: Decimal
    barcode: str | None = None
    title: str = ""
    size: str | None = None
    colour: str | None = None
    tax_rate: Decimal = Decimal("0")
    pct_code: str | None = None


@strawberry.input
class CreateProductInput:
    title: str
    variants: list[VariantInput]
    vendor: str = ""
    product_type: str = ""
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class StockLineInput:
    variant: VariantRefInput
    quantity: int | None = strawberry.field(default=None, description="The change: -2 takes two units off.")
    counted_quantity: int | None = strawberry.field(
        default=None, description="What is physically there: on hand becomes this."
    )


@strawberry.input
class AdjustStockInput:
    branch_id: strawberry.ID
    reason: AdjustmentReason  # type: ignore[valid-type]
    lines: list[StockLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    note: str | None = None
    manager_pin: str | None = strawberry.field(
        default=None,
        description="A manager's PIN: needed when the adjustment moves more units than the approval size "
        "(BRANCHLINE_ADJUSTMENT_APPROVAL_UNITS) and the caller may not approve at this branch themself.",
    )


@strawberry.input
class ReorderPointLineInput:
    variant: VariantRefInput
    reorder_point: int = strawberry.field(description="Low stock when available is at or below this.")
    reorder_quantity: int | None = strawberry.field(
        default=None, description="How many to bring in when low (reorderSuggestions). Left out: unchanged."
    )


@strawberry.input
class SetReorderPointsInput:
    branch_id: strawberry.ID
    lines: list[ReorderPointLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
