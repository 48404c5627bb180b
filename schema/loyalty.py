"""Loyalty points: a customer's wallet and its entries, and the inputs and payloads that change them."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import loyalty as models
from operations.directory import loyalty_entries_query
from operations.kernel import Permission, current_settings
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.pagination import decode_cursor, keyset_page
from schema.types import Branch, Money

if TYPE_CHECKING:
    from schema.customers import Customer
    from schema.returns import SaleReturn
    from schema.sales import Sale

LoyaltyKind = mirrored(
    models.LoyaltyKind,
    "LoyaltyKind",
    "EARN (a sale paid), REDEEM (spent as a LOYALTY tender), REFUND (points paid for goods that came back), "
    "CLAWBACK (earned points taken back by a return or void), EXPIRE (an earn's unused points), ADJUST (a manager).",
)


@strawberry.type(description="One change to a customer's points. Entries are never changed or removed.")
class LoyaltyEntry:
    kind: LoyaltyKind  # type: ignore[valid-type]
    points: int = strawberry.field(description="Signed: what this entry did to the balance.")
    note: str | None = strawberry.field(
        description="A manager's reason; for a clawback or expiry that found fewer points, how many were missing."
    )
    expires_at: datetime | None = strawberry.field(description="An earn's expiry, when points expire.")
    created_at: datetime
    model: strawberry.Private[models.LoyaltyEntry]

    @classmethod
    def from_model(cls, m: models.LoyaltyEntry) -> Self:
        return cls(
            kind=LoyaltyKind[m.kind.name],
            points=m.points,
            note=m.note,
            expires_at=m.expires_at,
            created_at=m.created_at,
            model=m,
        )

    @strawberry.field(description="The sale it came from; null when none, or the caller may not see its sales.")
    async def sale(self, info: Info) -> Annotated["Sale", strawberry.lazy("schema.sales")] | None:
        from schema.sales import Sale

        if self.model.sale_id is None:
            return None
        row = await info.context.loaders.sale.load(self.model.sale_id)
        if row is None or not info.context.actor.can(Permission.VIEW_SALES, row.branch_id):
            return None
        return Sale.from_model(row)

    @strawberry.field(description="The return or exchange it came from; null when none, or not to be seen.")
    async def sale_return(self, info: Info) -> Annotated["SaleReturn", strawberry.lazy("schema.returns")] | None:
        from schema.returns import SaleReturn

        if self.model.sale_return_id is None:
            return None
        row = await info.context.loaders.sale_return.load(self.model.sale_return_id)
        if row is None or not info.context.actor.can(Permission.VIEW_SALES, row.branch_id):
            return None
        return SaleReturn.from_model(row)


@strawberry.type(description="A customer's loyalty points: the balance is always the sum of the entries.")
class LoyaltyWallet:
    customer_pk: strawberry.Private[int]

    @strawberry.field(description="Points the customer holds.")
    async def balance(self, info: Info) -> int:
        return await info.context.loaders.loyalty_balance.load(self.customer_pk)

    @strawberry.field(description="What the balance pays for as a LOYALTY tender, at today's point value.")
    async def value(self, info: Info) -> Money:
        points = await info.context.loaders.loyalty_balance.load(self.customer_pk)
        return Money(amount=(current_settings().loyalty.point_value * points).quantize(Decimal("0.01")))

    @strawberry.field(description="The entries, newest first; `first` is capped at 100.")
    async def entries(self, first: int = 20, after: str | None = None) -> relay.Connection[LoyaltyEntry]:
        return await keyset_page(
            loyalty_entries_query(self.customer_pk),
            first=first,
            after_key=decode_cursor(after),
            key="id",
            to_node=LoyaltyEntry.from_model,
            descending=True,
        )


@strawberry.input(description="A manager adds (positive) or takes (negative) points, with a reason. Audited.")
class AdjustLoyaltyPointsInput:
    customer_id: strawberry.ID
    points: int
    reason: str
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="Where it was done, if anywhere.")


@strawberry.type
class AdjustLoyaltyPointsPayload:
    entry: LoyaltyEntry | None = None
    customer: Annotated["Customer", strawberry.lazy("schema.customers")] | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Taking more points than the wallet holds is INSUFFICIENT_POINTS."
    )


@strawberry.input(
    description="A branch's own loyalty earn rate: points per PKR 100 paid (0: none earned there), or null for the "
    "retailer's default (BRANCHLINE_LOYALTY_POINTS_PER_100_PKR)."
)
class SetBranchLoyaltySettingsInput:
    branch_id: strawberry.ID
    points_per_100_pkr: Decimal | None
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class SetBranchLoyaltySettingsPayload:
    branch: Branch | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
