"""createReturn and createExchange: decode the input, call operations/counter/returns.py or exchanges.py,
shape the payload."""

from strawberry import UNSET
from strawberry.types import Info

from models import sales as models
from operations.counter import CheckoutLine, ExchangeRequest, Payment, ReturnItem, ReturnRequest
from operations.counter import create_exchange as ops_create_exchange
from operations.counter import create_return as ops_create_return
from resolvers.mutations import payload
from schema import ids
from schema.returns import (
    CreateExchangeInput,
    CreateExchangePayload,
    CreateReturnInput,
    CreateReturnPayload,
    ReturnLineInput,
    SaleRefInput,
    SaleReturn,
)
from schema.sales import CheckoutLineInput, Sale, TenderInput


async def create_return(info: Info, input: CreateReturnInput) -> CreateReturnPayload:
    async def run():
        sale_id, sale_number = _sale(input.sale)
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
        sale_id, sale_number = _sale(input.sale)
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


def _sale(sale: SaleRefInput) -> tuple[int | None, str | None]:
    """(id, number): the one given (SaleRefInput is @oneOf)."""
    if sale.id is not UNSET and sale.id is not None:
        return ids.decode(sale.id, "Sale", "sale.id"), None
    return None, None if sale.number is UNSET else sale.number


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
