"""Returns and exchanges: the return document, its lines, and the createReturn / createExchange
inputs and payloads."""

from collections.abc import Iterable
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import sales as models
from operations.kernel import Permission
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.registers import Register, Shift, register_of, shift_of
from schema.sales import CheckoutLineInput, Sale, SaleRefInput, SaleTender, TenderInput, money, tenders
from schema.types import Branch, Money

Restock = mirrored(
    models.Restock,
    "Restock",
    (
        "RESTOCK: back on the returning branch's shelf. NO_RESTOCK: no stock comes back. "
        "DAMAGED: into the returning branch's damaged bucket."
    ),
)


@strawberry.type
class ReturnLine:
    line_no: int = strawberry.field(description="The original sale's line.")
    sku: str
    description: str
    quantity: int
    restock: Restock  # type: ignore[valid-type]
    discount: Money = strawberry.field(description="The share of the line and order discounts given back.")
    net: Money
    tax: Money
    total: Money = strawberry.field(description="Refunded for these units: net + tax.")


@strawberry.type(
    description="Goods taken back against an original sale, at any branch; an exchange links its new sale."
)
class SaleReturn(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="R- and the returning counter's next number, e.g. R-KHI-C1-000043.")
    reason: str | None = strawberry.field(description="Free text, as written down at the counter.")
    net: Money
    tax: Money
    total: Money = strawberry.field(description="Refunded for the returned lines (before an exchange's new lines).")
    cash_paid_out: Money = strawberry.field(description="Cash handed back from the returning counter's drawer.")
    created_at: datetime
    model: strawberry.Private[models.SaleReturn]

    @classmethod
    def from_model(cls, m: models.SaleReturn, currency: str = "PKR") -> Self:
        return cls(
            id=m.id,
            number=m.number,
            reason=m.reason,
            net=money(m.net, currency),
            tax=money(m.tax, currency),
            total=money(m.total, currency),
            cash_paid_out=money(m.cash_paid_out, currency),
            created_at=m.created_at,
            model=m,
        )

    @strawberry.field(description="The original sale the goods came back against.")
    async def sale(self, info: Info) -> Sale:
        return Sale.from_model(await info.context.loaders.sale.load(self.model.sale_id))

    @strawberry.field(description="The branch that took the goods back (and got the stock).")
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.model.branch_id))

    @strawberry.field(description="The returning counter's register; null when none was open (no cash refund then).")
    async def register(self, info: Info) -> Register | None:
        return await register_of(info, self.model.register_id)

    @strawberry.field(description="The shift of the cashier who took the goods back, when a register was open.")
    async def shift(self, info: Info) -> Shift | None:
        return await shift_of(info, self.model.shift_id)

    @strawberry.field
    async def lines(self, info: Info) -> list[ReturnLine]:
        rows = await info.context.loaders.lines_of_return.load(self.id)
        c = self.total.currency
        return [
            ReturnLine(
                line_no=r.sale_line.line_no,
                sku=r.sale_line.sku,
                description=r.sale_line.description,
                quantity=r.quantity,
                restock=Restock(r.restock.value),
                discount=money(r.discount, c),
                net=money(r.net, c),
                tax=money(r.tax, c),
                total=money(r.total, c),
            )
            for r in rows
        ]

    @strawberry.field(description="How the refund was paid out: cash, card or bank.")
    async def tenders(self, info: Info) -> list[SaleTender]:
        return tenders(await info.context.loaders.tenders_of_return.load(self.id), self.total.currency)

    @strawberry.field(description="The new sale of an exchange.")
    async def exchange_sale(self, info: Info) -> Sale | None:
        if self.model.exchange_sale_id is None:
            return None
        return Sale.from_model(await info.context.loaders.sale.load(self.model.exchange_sale_id))

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Only at branches where the caller may see sales."""
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {r.id: r for r in await info.context.loaders.sale_return.load_many(wanted) if r is not None}
        actor = info.context.actor
        return [
            cls.from_model(rows[i]) if i in rows and actor.can(Permission.VIEW_SALES, rows[i].branch_id) else None
            for i in wanted
        ]


@strawberry.input
class ReturnLineInput:
    line_no: int = strawberry.field(description="The original sale's line number.")
    quantity: int
    restock: Restock  # type: ignore[valid-type]


@strawberry.input
class CreateReturnInput:
    sale: SaleRefInput = strawberry.field(description="The original sale.")
    counter_id: strawberry.ID = strawberry.field(description="Where the customer is now: any branch's counter.")
    lines: list[ReturnLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    refunds: list[TenderInput] = strawberry.field(
        default_factory=list,
        description="Must add up exactly to the refund, less the share paid with loyalty points (it goes back to "
        "the wallet as points: never a LOYALTY refund here); cash needs the counter's register open.",
    )
    reason: str | None = None
    manager_pin: str | None = strawberry.field(default=None, description="Approves a refund above the limit.")


@strawberry.input(description="Return lines and new lines in one document; the difference is paid or refunded.")
class CreateExchangeInput:
    sale: SaleRefInput = strawberry.field(description="The original sale.")
    counter_id: strawberry.ID
    return_lines: list[ReturnLineInput]
    new_lines: list[CheckoutLineInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    tenders: list[TenderInput] = strawberry.field(
        default_factory=list, description="When the new lines cost more: pays the difference (change from cash)."
    )
    refunds: list[TenderInput] = strawberry.field(
        default_factory=list, description="When they cost less: adds up exactly to the difference."
    )
    reason: str | None = None
    manager_pin: str | None = strawberry.field(
        default=None, description="Approves a large refund, a price override or a large discount."
    )


@strawberry.type
class CreateReturnPayload:
    sale_return: SaleReturn | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateExchangePayload:
    sale_return: SaleReturn | None = None
    sale: Sale | None = strawberry.field(default=None, description="The new sale.")
    errors: list[UserError] = strawberry.field(default_factory=list)
