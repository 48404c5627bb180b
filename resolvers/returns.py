"""createReturn and createExchange: decode the input, call operations/counter/returns.py or exchanges.py,
shape the payload."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import sales as models
from operations.counter import CheckoutLine, ExchangeRequest, Payment, ReturnItem, ReturnRequest
from operations.counter import create_exchange as ops_create_exchange
from operations.counter import create_return as ops_create_return
from operations.kernel import Permission, require, visible_branches
from resolvers.days import query_id, within_days
from resolvers.mutations import payload
from resolvers.sales import sale_ref
from schema import ids
from schema.pagination import decode_cursor, keyset_page
from schema.returns import (
    CreateExchangeInput,
    CreateExchangePayload,
    CreateReturnInput,
    CreateReturnPayload,
    ReturnLineInput,
    SaleReturn,
)
from schema.sales import CheckoutLineInput, Sale, TenderInput


async def returns(
    info: Info,
    first: int,
    after: str | None = None,
    branch_id: Annotated[strawberry.ID | None, strawberry.argument(description="Where the goods came back.")] = None,
    from_: Annotated[
        date | None,
        strawberry.argument(name="from", description="From this day on, as the returning branch's calendar has it."),
    ] = None,
    to: Annotated[
        date | None,
        strawberry.argument(description="Up to and including this day, as the returning branch's calendar has it."),
    ] = None,
    sale_id: Annotated[strawberry.ID | None, strawberry.argument(description="Against this original sale.")] = None,
) -> relay.Connection[SaleReturn]:
    """Returns and exchanges, oldest first: taken back at `branchId`, else at every branch where the caller may
    see sales."""
    actor = info.context.actor
    visible = visible_branches(actor)
    require(actor, Permission.VIEW_SALES)
    branch_pks = None if visible is None else sorted(visible)
    if branch_id is not None:
        branch_pk = query_id(branch_id, "Branch", "branchId")
        require(actor, Permission.VIEW_SALES, branch_pk)
        branch_pks = [branch_pk]
    queryset = models.SaleReturn.all() if branch_pks is None else models.SaleReturn.filter(branch_id__in=branch_pks)
    if sale_id is not None:
        queryset = queryset.filter(sale_id=query_id(sale_id, "Sale", "saleId"))
    queryset = await within_days(queryset, from_, to, branch_ids=branch_pks, at="created_at")
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=SaleReturn.from_model
    )


async def create_return(info: Info, input: CreateReturnInput) -> CreateReturnPayload:
    async def run():
        sale_id, sale_number = sale_ref(input.sale)
        request = ReturnRequest(
            sale_id=sale_id,
            sale_number=sale_number,
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            lines=_items(input.lines),
            refunds=_payments(input.refunds),
            idempotency_key=input.idempotency_key,
            reason=input.reason,
            manager_pin=input.manager_pin,
        )
        doc, _ = await ops_create_return(info.context.actor, request)
        return {"sale_return": SaleReturn.from_model(doc)}

    return await payload(CreateReturnPayload, run)


async def create_exchange(info: Info, input: CreateExchangeInput) -> CreateExchangePayload:
    async def run():
        sale_id, sale_number = sale_ref(input.sale)
        request = ExchangeRequest(
            sale_id=sale_id,
            sale_number=sale_number,
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            return_lines=_items(input.return_lines),
            new_lines=[_checkout_line(i, line) for i, line in enumerate(input.new_lines)],
            tenders=_payments(input.tenders),
            refunds=_payments(input.refunds),
            idempotency_key=input.idempotency_key,
            reason=input.reason,
            manager_pin=input.manager_pin,
        )
        doc, _ = await ops_create_exchange(info.context.actor, request)
        new_sale = await models.Sale.get(id=doc.exchange_sale_id)
        return {"sale_return": SaleReturn.from_model(doc), "sale": Sale.from_model(new_sale)}

    return await payload(CreateExchangePayload, run)


def _items(lines: list[ReturnLineInput]) -> list[ReturnItem]:
    return [ReturnItem(line.line_no, line.quantity, models.Restock(line.restock.value)) for line in lines]


def _payments(tenders: list[TenderInput]) -> list[Payment]:
    return [Payment(models.TenderType(t.type.value), t.amount, t.reference, t.account) for t in tenders]


def _checkout_line(i: int, line: CheckoutLineInput) -> CheckoutLine:
    return CheckoutLine(
        variant=line.variant.ref(f"newLines.{i}.variant"),
        quantity=line.quantity,
        price_override=line.price_override,
        discount=line.discount,
    )
