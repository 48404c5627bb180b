"""Sales at the counter: the sale, its lines and tenders, checkout input and payload."""

import asyncio
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import sales as models
from models.fiscal import FiscalKind
from operations.counter import receipt_of, render_thermal
from operations.kernel import Permission
from schema.customers import Customer, CustomerRefInput, customer_of
from schema.enums import mirrored
from schema.errors import BadRequest, UserError
from schema.fiscal import FiscalDocument
from schema.inputs import KEY_DESCRIPTION, VariantRefInput
from schema.registers import Register, Shift, register_of, shift_of
from schema.staff import Staff, staff_member
from schema.types import Branch, Counter, Money, Variant

SaleStatus = mirrored(models.SaleStatus, "SaleStatus")
TenderType = mirrored(
    models.TenderType,
    "TenderType",
    "CASH, CARD, BANK (bank transfer, Raast, JazzCash/Easypaisa wallets), or LOYALTY (the customer's points: "
    "whole points at the retailer's point value, on a sale that names its customer).",
)


async def _nobody() -> None:
    return None


def money(amount: Decimal, currency: str = "PKR") -> Money:
    return Money(amount=amount, currency=currency)


@strawberry.type
class SaleLine:
    line_no: int
    sku: str
    description: str
    quantity: int
    unit_price: Money
    price_overridden: bool
    tax_rate: Decimal
    line_discount: Money
    order_discount: Money = strawberry.field(description="This line's share of the order discount.")
    net: Money
    tax: Money
    total: Money
    returned_quantity: int
    variant_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.SaleLine, currency: str) -> Self:
        return cls(
            line_no=m.line_no,
            sku=m.sku,
            description=m.description,
            quantity=m.quantity,
            unit_price=money(m.unit_price, currency),
            price_overridden=m.price_overridden,
            tax_rate=m.tax_rate,
            line_discount=money(m.line_discount, currency),
            order_discount=money(m.order_discount, currency),
            net=money(m.net, currency),
            tax=money(m.tax, currency),
            total=money(m.total, currency),
            returned_quantity=m.returned_quantity,
            variant_pk=m.variant_id,
        )

    @strawberry.field
    async def variant(self, info: Info) -> Variant:
        return Variant.from_model(await info.context.loaders.variant.load(self.variant_pk))


@strawberry.type
class SaleTender:
    type: TenderType  # type: ignore[valid-type]
    amount: Money
    reference: str | None
    account: str | None


def tenders(rows: list[models.Tender], currency: str) -> list[SaleTender]:
    """A sale's tenders, or how a return's refund was paid out."""
    return [
        SaleTender(
            type=TenderType(t.type.value), amount=money(t.amount, currency), reference=t.reference, account=t.account
        )
        for t in rows
    ]


@strawberry.type(description="A counter sale (or a draft / quote before it is placed).")
class Sale(relay.Node):
    id: relay.NodeID[int]
    number: str | None = strawberry.field(description="Per branch and counter, e.g. LHR-GUL-C1-000042.")
    status: SaleStatus  # type: ignore[valid-type]
    is_quote: bool
    tax_inclusive: bool
    customer_name: str | None
    customer_phone: str | None
    subtotal: Money
    discount_total: Money
    net_total: Money
    tax_total: Money
    total: Money
    paid: Money
    change_due: Money
    refunded_total: Money
    occurred_at: datetime
    placed_at: datetime | None
    model: strawberry.Private[models.Sale]

    @classmethod
    def from_model(cls, m: models.Sale) -> Self:
        c = m.currency
        return cls(
            id=m.id,
            number=m.number,
            status=SaleStatus(m.status.value),
            is_quote=m.is_quote,
            tax_inclusive=m.tax_inclusive,
            customer_name=m.customer_name,
            customer_phone=m.customer_phone,
            subtotal=money(m.subtotal, c),
            discount_total=money(m.discount_total, c),
            net_total=money(m.net_total, c),
            tax_total=money(m.tax_total, c),
            total=money(m.total, c),
            paid=money(m.paid, c),
            change_due=money(m.change_due, c),
            refunded_total=money(m.refunded_total, c),
            occurred_at=m.occurred_at,
            placed_at=m.placed_at,
            model=m,
        )

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.model.branch_id))

    @strawberry.field
    async def counter(self, info: Info) -> Counter:
        return Counter.from_model(await info.context.loaders.counter.load(self.model.counter_id))

    @strawberry.field(description="The customer the sale is for; null when none was named.")
    async def customer(self, info: Info) -> Customer | None:
        return await customer_of(info, self.model.customer_id)

    @strawberry.field(
        description="Who made the sale (or saved the draft); null when the caller may not see them. No name is "
        "kept per sale: a reprinted receipt shows the cashier's name as it is now."
    )
    async def cashier(self, info: Info) -> Staff | None:
        return await staff_member(info, self.model.cashier_id)

    @strawberry.field(description="Who is credited with the sale (a commission), when the cashier named one.")
    async def salesperson(self, info: Info) -> Staff | None:
        return await staff_member(info, self.model.salesperson_id)

    @strawberry.field(description="The register the sale was placed in; null for a draft.")
    async def register(self, info: Info) -> Register | None:
        return await register_of(info, self.model.register_id)

    @strawberry.field(description="The cashier's shift the sale was placed in; null for a draft.")
    async def shift(self, info: Info) -> Shift | None:
        return await shift_of(info, self.model.shift_id)

    @strawberry.field
    async def lines(self, info: Info) -> list[SaleLine]:
        rows = await info.context.loaders.lines_of_sale.load(self.id)
        return [SaleLine.from_model(r, self.model.currency) for r in rows]

    @strawberry.field
    async def tenders(self, info: Info) -> list[SaleTender]:
        return tenders(await info.context.loaders.tenders_of_sale.load(self.id), self.model.currency)

    @strawberry.field(description="The receipt as thermal-printer text: 58 or 80 mm paper.")
    async def receipt_text(self, info: Info, width_mm: int = 80) -> str:
        if width_mm not in (58, 80):
            raise BadRequest("widthMm is 58 or 80", field="widthMm")
        m, loaders = self.model, info.context.loaders
        # Asked for together, so a page of sales reads each relation in one query, not one per sale.
        branch, counter, cashier, salesperson, lines, tenders, fiscal = await asyncio.gather(
            loaders.branch.load(m.branch_id),
            loaders.counter.load(m.counter_id),
            loaders.staff.load(m.cashier_id),
            loaders.staff.load(m.salesperson_id) if m.salesperson_id else _nobody(),
            loaders.lines_of_sale.load(m.id),
            loaders.tenders_of_sale.load(m.id),
            loaders.fiscal_of_sale.load(m.id),
        )
        receipt = receipt_of(
            m,
            branch=branch,
            counter=counter,
            cashier=cashier,
            salesperson=salesperson,
            lines=lines,
            tenders=tenders,
            fiscal=next((f for f in fiscal if f.kind is FiscalKind.INVOICE), None),
        )
        return render_thermal(receipt, width_mm)

    @strawberry.field(
        description="The sale's fiscal invoice (FBR/PRA): its status, number and QR once back; NOT_FISCALISED when "
        "the counter is not registered; null for a draft or a sale made before fiscal reporting."
    )
    async def fiscal(self, info: Info) -> FiscalDocument | None:
        docs = await info.context.loaders.fiscal_of_sale.load(self.id)
        invoice = next((f for f in docs if f.kind is FiscalKind.INVOICE), None)
        return FiscalDocument.from_model(invoice) if invoice else None

    @strawberry.field(description="The credit notes reported against this sale (its returns and a void).")
    async def fiscal_credit_notes(self, info: Info) -> list[FiscalDocument]:
        docs = await info.context.loaders.fiscal_of_sale.load(self.id)
        return [FiscalDocument.from_model(f) for f in docs if f.kind is FiscalKind.CREDIT_NOTE]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Only at branches where the caller may see sales."""
        wanted = [int(i) for i in node_ids if i.isdigit()]
        rows = {s.id: s for s in await info.context.loaders.sale.load_many(wanted) if s is not None}
        actor = info.context.actor
        return [
            cls.from_model(rows[i]) if i in rows and actor.can(Permission.VIEW_SALES, rows[i].branch_id) else None
            for i in wanted
        ]


@strawberry.input
class CheckoutLineInput:
    variant: VariantRefInput
    quantity: int
    price_override: Decimal | None = strawberry.field(default=None, description="Needs a manager's PIN.")
    discount: Decimal = strawberry.field(default=Decimal(0), description="Amount off the whole line.")


@strawberry.input
class TenderInput:
    type: TenderType  # type: ignore[valid-type]
    amount: Decimal
    reference: str | None = None
    account: str | None = None


@strawberry.input
class CheckoutInput:
    counter_id: strawberry.ID
    lines: list[CheckoutLineInput]
    tenders: list[TenderInput]
    idempotency_key: str
    order_discount: Decimal = Decimal(0)
    customer: CustomerRefInput | None = strawberry.field(
        default=None, description="The customer the sale is for (it shows in their history)."
    )
    customer_name: str | None = strawberry.field(
        default=None, description="The name on the receipt; the customer's when left out and a customer is given."
    )
    customer_phone: str | None = strawberry.field(
        default=None, description="The phone on the receipt, as given; the customer's when left out."
    )
    salesperson_id: strawberry.ID | None = None
    manager_pin: str | None = strawberry.field(
        default=None, description="Approves a price override or a discount above the limit."
    )
    note: str | None = None


@strawberry.type
class CheckoutPayload:
    sale: Sale | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SaveDraftPayload:
    sale: Sale | None = strawberry.field(default=None, description="The draft or quote as saved.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlaceDraftPayload:
    sale: Sale | None = strawberry.field(default=None, description="The placed sale.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class VoidSalePayload:
    sale: Sale | None = strawberry.field(default=None, description="The voided sale.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Save a sale for later: parked, or a quote. Give draftId to edit one.")
class SaveDraftInput:
    counter_id: strawberry.ID
    lines: list[CheckoutLineInput]
    idempotency_key: str = strawberry.field(
        description="A retried save returns the first result instead of making (or editing) the draft again."
    )
    draft_id: strawberry.ID | None = None
    order_discount: Decimal = Decimal(0)
    customer: CustomerRefInput | None = strawberry.field(
        default=None, description="The customer the draft is for (the placed sale keeps it)."
    )
    customer_name: str | None = strawberry.field(
        default=None, description="The name on the receipt; the customer's when left out and a customer is given."
    )
    customer_phone: str | None = strawberry.field(
        default=None, description="The phone on the receipt, as given; the customer's when left out."
    )
    hold_minutes: int | None = strawberry.field(
        default=None, description="Hold the stock (reserve it) for this many minutes, up to 48 hours."
    )
    is_quote: bool = False
    note: str | None = None


@strawberry.input(description="Turn a draft or quote into a sale at any counter of its branch.")
class PlaceDraftInput:
    draft_id: strawberry.ID
    counter_id: strawberry.ID
    tenders: list[TenderInput]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(one_of=True, description="A sale by exactly one of: its ID, its number (as on the receipt).")
class SaleRefInput:
    id: strawberry.ID | None = strawberry.UNSET
    number: str | None = strawberry.UNSET


@strawberry.input
class ReprintReceiptInput:
    sale: SaleRefInput
    width_mm: int = strawberry.field(default=80, description="The paper: 58 or 80 mm.")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class ReprintReceiptPayload:
    sale: Sale | None = None
    receipt_text: str | None = strawberry.field(
        default=None,
        description="The receipt as the sale stands now (its fiscal number and QR once back, 'fiscal number "
        "pending' before), marked as a duplicate with when it was reprinted.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VoidSaleInput:
    sale_id: strawberry.ID
    manager_pin: str
    reason: str
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class OfflineSaleInput:
    offline_id: str = strawberry.field(description="The counter's own ID for the sale; uploads are idempotent on it.")
    occurred_at: datetime
    lines: list[CheckoutLineInput]
    tenders: list[TenderInput]
    order_discount: Decimal = Decimal(0)
    customer_name: str | None = None
    customer_phone: str | None = None
    note: str | None = None


@strawberry.input
class SyncOfflineSalesInput:
    counter_id: strawberry.ID
    sales: list[OfflineSaleInput]


@strawberry.type
class OfflineSaleResult:
    offline_id: str
    sale: Sale | None
    replayed: bool = strawberry.field(description="True when this sale had been uploaded before.")
    oversold: bool = strawberry.field(description="Applied below zero: the goods had already left.")
    errors: list[UserError]


@strawberry.type
class SyncOfflineSalesPayload:
    results: list[OfflineSaleResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
