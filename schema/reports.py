"""Reports: the sales report's input, groupings and rows (operations/reports/)."""

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Self

import strawberry
from strawberry.types import Info

from operations.reports import Period as ops_Period
from operations.reports import SalesGroup as ops_SalesGroup
from operations.reports import SalesRow
from schema.enums import mirrored
from schema.staff import Staff, staff_member
from schema.types import Branch, Counter, Money, Product, Variant

SalesGroup = mirrored(
    ops_SalesGroup,
    "SalesGroup",
    "What a sales report's rows are per. DAY, WEEK (starting Monday) and MONTH are each branch's own calendar.",
)


ReportPeriod = mirrored(
    ops_Period,
    "ReportPeriod",
    "Days named relative to today, in place of from/to: TODAY, YESTERDAY, THIS_WEEK (Monday to today), THIS_MONTH "
    "(the first to today), in the branches' time zone (branches in several zones: the lowest-numbered one's).",
)


@strawberry.enum(description="A tender in a sales report: how a sale was paid or a refund paid back.")
class ReportTender(Enum):
    CASH = "cash"
    CARD = "card"
    BANK = "bank"
    LOYALTY = strawberry.enum_value("loyalty", description="The customer's loyalty points.")
    EXCHANGE_CREDIT = strawberry.enum_value(
        "exchange_credit", description="What an exchange's returned goods paid towards its new sale."
    )


@strawberry.input(description="Which sales a report covers and what its rows are per.")
class SalesReportInput:
    from_: Annotated[date | None, strawberry.argument(name="from")] = strawberry.field(
        default=None, name="from", description="The first local day (each branch's own calendar); or a period."
    )
    to: date | None = strawberry.field(default=None, description="The last local day, included.")
    period: ReportPeriod | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="In place of from and to."
    )
    branch_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Null: every branch the caller may see."
    )
    group_by: list[SalesGroup] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Empty: one row of totals."
    )


def _money(amount: Decimal | None) -> Money | None:
    return None if amount is None else Money(amount=amount)


@strawberry.type(
    description="One group of a sales report. Sales are placed, updated or refunded sales by when they were rung "
    "up (offline ones too), voided sales and drafts left out; returns count where and when the goods came back. "
    "Line figures (gross to cost) are null on rows per tender."
)
class SalesReportRow:
    day: date | None
    week: date | None = strawberry.field(description="The Monday the week starts.")
    month: date | None = strawberry.field(description="The first of the month.")
    tender_type: ReportTender | None
    product_type: str | None
    gross: Money | None = strawberry.field(description="Before discounts, in the sales' price basis.")
    discounts: Money | None
    net: Money | None = strawberry.field(description="After discounts, without tax.")
    tax: Money | None
    total: Money = strawberry.field(description="What customers were charged.")
    units: int | None
    sales_count: int
    average_basket: Money | None
    returns_count: int
    returned_units: int | None
    refunds: Money = strawberry.field(description="Paid back (an exchange's credit included), tax included.")
    refunded_net: Money | None = strawberry.field(description="Refunds without tax.")
    total_after_refunds: Money
    cost_of_goods: Money | None = strawberry.field(
        description="Units sold at the weighted average cost when sold, less the units returned."
    )
    margin: Money | None = strawberry.field(description="Net less refunded net less cost of goods.")
    uncosted_units: int | None = strawberry.field(description="Units sold with no cost yet (not in cost of goods).")
    branch_pk: strawberry.Private[int | None]
    counter_pk: strawberry.Private[int | None]
    cashier_pk: strawberry.Private[int | None]
    salesperson_pk: strawberry.Private[int | None]
    product_pk: strawberry.Private[int | None]
    variant_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, r: SalesRow) -> Self:
        key = {g.value: v for g, v in r.key.items()}
        return cls(
            day=key.get("day"),
            week=key.get("week"),
            month=key.get("month"),
            tender_type=ReportTender(key["tender_type"]) if key.get("tender_type") else None,
            product_type=key.get("product_type"),
            branch_pk=key.get("branch"),
            counter_pk=key.get("counter"),
            cashier_pk=key.get("cashier"),
            salesperson_pk=key.get("salesperson"),
            product_pk=key.get("product"),
            variant_pk=key.get("variant"),
            gross=_money(r.gross),
            discounts=_money(r.discounts),
            net=_money(r.net),
            tax=_money(r.tax),
            total=Money(amount=r.total),
            units=r.units,
            sales_count=r.sales_count,
            average_basket=_money(r.average_basket),
            returns_count=r.returns_count,
            returned_units=r.returned_units,
            refunds=Money(amount=r.refunds),
            refunded_net=_money(r.refunded_net),
            total_after_refunds=Money(amount=r.total_after_refunds),
            cost_of_goods=_money(r.cost_of_goods),
            margin=_money(r.margin),
            uncosted_units=r.uncosted_units,
        )

    @strawberry.field(description="Grouped by branch: the branch.")
    async def branch(self, info: Info) -> Branch | None:
        row = await info.context.loaders.branch.load(self.branch_pk) if self.branch_pk else None
        return Branch.from_model(row) if row else None

    @strawberry.field(description="Grouped by counter: the counter.")
    async def counter(self, info: Info) -> Counter | None:
        row = await info.context.loaders.counter.load(self.counter_pk) if self.counter_pk else None
        return Counter.from_model(row) if row else None

    @strawberry.field(description="Grouped by cashier: who rang the sales up (or took the returns).")
    async def cashier(self, info: Info) -> Staff | None:
        return await staff_member(info, self.cashier_pk)

    @strawberry.field(description="Grouped by salesperson: who made the sales (null: sales without one).")
    async def salesperson(self, info: Info) -> Staff | None:
        return await staff_member(info, self.salesperson_pk)

    @strawberry.field(description="Grouped by product.")
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.product.load(self.product_pk) if self.product_pk else None
        return Product.from_model(row) if row else None

    @strawberry.field(description="Grouped by variant.")
    async def variant(self, info: Info) -> Variant | None:
        row = await info.context.loaders.variant.load(self.variant_pk) if self.variant_pk else None
        return Variant.from_model(row) if row else None


@strawberry.type(description="A sales report: its rows in key order, and the totals over all of them.")
class SalesReport:
    rows: list[SalesReportRow]
    totals: SalesReportRow
