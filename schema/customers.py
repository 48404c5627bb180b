"""Customers: the type, its history, and the inputs and payloads of creating and changing one."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import customers as models
from operations.directory import may_see_customers
from operations.kernel import Permission
from schema import ids
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.pagination import check_first, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from schema.loyalty import LoyaltyWallet
    from schema.orders import Order
    from schema.sales import Sale


@strawberry.type(description="A customer: made at the counter or imported from Shopify. One customer per phone.")
class Customer(relay.Node):
    id: relay.NodeID[int]
    first_name: str
    last_name: str
    display_name: str
    phone: str | None = strawberry.field(description="E.164, e.g. +923001234567.")
    email: str | None
    cnic: str | None = strawberry.field(description="National identity card number, 5-7-1 digits with dashes.")
    ntn: str | None = strawberry.field(description="National tax number, as given.")
    shopify_customer_id: str | None = strawberry.field(description="The Shopify customer's GID, when linked.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, m: models.Customer) -> Self:
        return cls(
            id=m.id,
            first_name=m.first_name,
            last_name=m.last_name,
            display_name=m.display_name,
            phone=m.phone,
            email=m.email,
            cnic=m.cnic,
            ntn=m.ntn,
            shopify_customer_id=m.shopify_customer_id,
            created_at=m.created_at,
            updated_at=m.updated_at,
        )

    @strawberry.field(
        description="The customer's counter sales (drafts too), newest first, at the branches where the caller "
        "may see sales; `first` is capped at 100."
    )
    async def sales(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> relay.Connection[Annotated["Sale", strawberry.lazy("schema.sales")]]:
        from schema.sales import Sale

        return await _history(info, info.context.loaders.sales_of_customer, self.id, first, after, Sale.from_model)

    @strawberry.field(
        description="The customer's online orders (linked by their Shopify customer, or their phone when the order "
        "came in), newest first, at the branches where the caller may see sales; `first` is capped at 100."
    )
    async def orders(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> relay.Connection[Annotated["Order", strawberry.lazy("schema.orders")]]:
        from schema.orders import Order

        return await _history(info, info.context.loaders.orders_of_customer, self.id, first, after, Order.from_model)

    @strawberry.field(description="The customer's loyalty points and their entries.")
    def loyalty(self) -> Annotated["LoyaltyWallet", strawberry.lazy("schema.loyalty")]:
        from schema.loyalty import LoyaltyWallet

        return LoyaltyWallet(customer_pk=self.id)

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        """Staff who sell or see sales."""
        wanted = [int(i) for i in node_ids if i.isdigit()]
        if not may_see_customers(info.context.actor):
            return [None for _ in wanted]
        rows = {c.id: c for c in await info.context.loaders.customer.load_many(wanted) if c is not None}
        return [cls.from_model(rows[i]) if i in rows else None for i in wanted]


async def _history(info: Info, loader, customer_id: int, first: int, after: str | None, to_node) -> relay.Connection:
    """A page of a customer's sales or orders, newest first, through the loader that reads a whole page of
    customers' at once."""
    check_first(first)
    before = decode_cursor(after)
    actor = info.context.actor
    branches = actor.branch_ids if actor.can(Permission.VIEW_SALES) else frozenset()
    rows = await loader.load((customer_id, first + 1, before, None if branches is None else tuple(sorted(branches))))
    edges = [relay.Edge(cursor=encode_cursor(row.id), node=to_node(row)) for row in rows[:first]]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=len(rows) > first,
            has_previous_page=before is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def customer_of(info: Info, customer_id: int | None) -> Customer | None:
    """A record's customer through the loader; null when none is named or the caller may not see customers."""
    if customer_id is None or not may_see_customers(info.context.actor):
        return None
    row = await info.context.loaders.customer.load(customer_id)
    return Customer.from_model(row) if row is not None else None


@strawberry.input(
    one_of=True,
    description="The customer a sale is for, by exactly one of: its ID, or its phone (any common form) at the "
    "counter — a phone nobody has is refused (NOT_FOUND): create the customer first.",
)
class CustomerRefInput:
    id: strawberry.ID | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET

    def ref(self, field: str) -> tuple[int | None, str | None]:
        """(customer id, phone) as operations take them; `field` is where this input sits (`customer`)."""
        pk = None if self.id in (None, strawberry.UNSET) else ids.decode(self.id, "Customer", f"{field}.id")
        phone = None if self.phone in (None, strawberry.UNSET) else self.phone
        return pk, phone


@strawberry.input(description="A customer at the counter. The phone is kept in E.164; one customer per phone.")
class CreateCustomerInput:
    first_name: str
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    last_name: str = ""
    phone: str | None = strawberry.field(
        default=None, description="Pakistani in any common form (0300-1234567, +92 300 1234567), or +country code."
    )
    email: str | None = None
    cnic: str | None = strawberry.field(default=None, description="13 digits, with or without dashes.")
    ntn: str | None = strawberry.field(default=None, description="7 or 8 digits, optionally -digit.")


@strawberry.input(description="Change a customer: what is left out stays; an empty string clears an optional field.")
class UpdateCustomerInput:
    customer_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    cnic: str | None = None
    ntn: str | None = None


@strawberry.type
class CreateCustomerPayload:
    customer: Customer | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="A phone another customer has is DUPLICATE (field phone), naming that customer and their ID.",
    )


@strawberry.type
class UpdateCustomerPayload:
    customer: Customer | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="A phone another customer has is DUPLICATE (field phone), naming that customer and their ID.",
    )
