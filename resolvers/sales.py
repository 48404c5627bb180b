"""Checkout and sales queries."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Subquery

from models import sales as models
from operations.counter import Checkout, CheckoutLine, Draft, OfflineSale, Payment
from operations.counter import checkout as ops_checkout
from operations.counter import place_draft as ops_place_draft
from operations.counter import reprint_receipt as ops_reprint_receipt
from operations.counter import save_draft as ops_save_draft
from operations.counter import sync_offline_sales as ops_sync_offline_sales
from operations.counter import void_sale as ops_void_sale
from operations.kernel import OperationError, Permission, require
from resolvers.days import query_id, within_days
from resolvers.mutations import payload
from schema import ids
from schema.errors import user_errors
from schema.pagination import decode_cursor, keyset_page
from schema.sales import (
    CheckoutInput,
    CheckoutPayload,
    OfflineSaleResult,
    PlaceDraftInput,
    PlaceDraftPayload,
    ReprintReceiptInput,
    ReprintReceiptPayload,
    Sale,
    SaleRefInput,
    SaleStatus,
    SaveDraftInput,
    SaveDraftPayload,
    SyncOfflineSalesInput,
    SyncOfflineSalesPayload,
    TenderType,
    VoidSaleInput,
    VoidSalePayload,
)


def _lines(lines, field: str = "lines") -> list[CheckoutLine]:
    return [
        CheckoutLine(
            variant=line.variant.ref(f"{field}.{i}.variant"),
            quantity=line.quantity,
            price_override=line.price_override,
            discount=line.discount,
        )
        for i, line in enumerate(lines)
    ]


def _payments(tenders) -> list[Payment]:
    return [Payment(models.TenderType(t.type.value), t.amount, t.reference, t.account) for t in tenders]


async def checkout(info: Info, input: CheckoutInput) -> CheckoutPayload:
    async def run():
        customer = input.customer.ref("customer") if input.customer else (None, None)
        request = Checkout(
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            lines=_lines(input.lines),
            payments=_payments(input.tenders),
            idempotency_key=input.idempotency_key,
            order_discount=input.order_discount,
            customer_name=input.customer_name,
            customer_phone=input.customer_phone,
            customer_id=customer[0],
            customer_by_phone=customer[1],
            salesperson_id=ids.decode(input.salesperson_id, "Staff", "salespersonId") if input.salesperson_id else None,
            manager_pin=input.manager_pin,
            note=input.note,
        )
        sale, _ = await ops_checkout(info.context.actor, request)
        return {"sale": Sale.from_model(sale)}

    return await payload(CheckoutPayload, run)


async def sales(
    info: Info,
    branch_id: strawberry.ID,
    first: int,
    after: str | None = None,
    number: Annotated[str | None, strawberry.argument(description="As on the receipt, exactly.")] = None,
    from_: Annotated[
        date | None,
        strawberry.argument(name="from", description="From this day on, as the branch's calendar has it."),
    ] = None,
    to: Annotated[
        date | None, strawberry.argument(description="Up to and including this day, as the branch's calendar has it.")
    ] = None,
    counter_id: strawberry.ID | None = None,
    cashier_id: Annotated[strawberry.ID | None, strawberry.argument(description="Who rang the sale up.")] = None,
    salesperson_id: strawberry.ID | None = None,
    customer_phone: Annotated[str | None, strawberry.argument(description="As written down at the counter.")] = None,
    customer_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="The customer named on the sale.")
    ] = None,
    status: SaleStatus | None = None,  # type: ignore[valid-type]
    tender_type: Annotated[
        TenderType | None,  # type: ignore[valid-type]
        strawberry.argument(description="Paid (at least partly) this way."),
    ] = None,
) -> relay.Connection[Sale]:
    """A branch's sales, oldest first (page on with `after`); each filter given narrows the list. `from`/`to`
    are the branch's local days: a sale at 23:30 in Karachi is on that Karachi day."""
    branch_pk = query_id(branch_id, "Branch", "branchId")
    require(info.context.actor, Permission.VIEW_SALES, branch_pk)
    queryset = models.Sale.filter(branch_id=branch_pk)
    if number is not None:
        queryset = queryset.filter(number=number)
    if customer_phone is not None:
        queryset = queryset.filter(customer_phone=customer_phone)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=query_id(customer_id, "Customer", "customerId"))
    if counter_id is not None:
        queryset = queryset.filter(counter_id=query_id(counter_id, "Counter", "counterId"))
    if cashier_id is not None:
        queryset = queryset.filter(cashier_id=query_id(cashier_id, "Staff", "cashierId"))
    if salesperson_id is not None:
        queryset = queryset.filter(salesperson_id=query_id(salesperson_id, "Staff", "salespersonId"))
    if status is not None:
        queryset = queryset.filter(status=models.SaleStatus(status.value))
    if tender_type is not None:
        paid_so = models.Tender.filter(sale_id__isnull=False, type=models.TenderType(tender_type.value))
        queryset = queryset.filter(id__in=Subquery(paid_so.values("sale_id")))
    queryset = await within_days(queryset, from_, to, branch_ids=[branch_pk], at="occurred_at")
    return await keyset_page(
        queryset,
        first=first,
        after_key=decode_cursor(after),
        key="id",
        to_node=Sale.from_model,
    )


async def save_draft(info: Info, input: SaveDraftInput) -> SaveDraftPayload:
    async def run():
        customer = input.customer.ref("customer") if input.customer else (None, None)
        draft = Draft(
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            lines=_lines(input.lines),
            order_discount=input.order_discount,
            customer_name=input.customer_name,
            customer_phone=input.customer_phone,
            customer_id=customer[0],
            customer_by_phone=customer[1],
            hold_minutes=input.hold_minutes,
            is_quote=input.is_quote,
            note=input.note,
        )
        draft_pk = ids.decode(input.draft_id, "Sale", "draftId") if input.draft_id else None
        saved = await ops_save_draft(info.context.actor, draft, draft_pk, input.idempotency_key)
        return {"sale": Sale.from_model(saved)}

    return await payload(SaveDraftPayload, run)


async def place_draft(info: Info, input: PlaceDraftInput) -> PlaceDraftPayload:
    async def run():
        sale, _ = await ops_place_draft(
            info.context.actor,
            ids.decode(input.draft_id, "Sale", "draftId"),
            ids.decode(input.counter_id, "Counter", "counterId"),
            _payments(input.tenders),
            input.idempotency_key,
        )
        return {"sale": Sale.from_model(sale)}

    return await payload(PlaceDraftPayload, run)


async def void_sale(info: Info, input: VoidSaleInput) -> VoidSalePayload:
    async def run():
        sale_pk = ids.decode(input.sale_id, "Sale", "saleId")
        voided = await ops_void_sale(
            info.context.actor, sale_pk, input.manager_pin, input.reason, input.idempotency_key
        )
        return {"sale": Sale.from_model(voided)}

    return await payload(VoidSalePayload, run)


def sale_ref(sale: SaleRefInput) -> tuple[int | None, str | None]:
    """(id, number): the one given (SaleRefInput is @oneOf)."""
    if sale.id is not strawberry.UNSET and sale.id is not None:
        return ids.decode(sale.id, "Sale", "sale.id"), None
    return None, None if sale.number is strawberry.UNSET else sale.number


async def reprint_receipt(info: Info, input: ReprintReceiptInput) -> ReprintReceiptPayload:
    async def run():
        sale_id, sale_number = sale_ref(input.sale)
        sale, text, _ = await ops_reprint_receipt(
            info.context.actor, sale_id, sale_number, input.width_mm, input.idempotency_key
        )
        return {"sale": Sale.from_model(sale), "receipt_text": text}

    return await payload(ReprintReceiptPayload, run)


async def sync_offline_sales(info: Info, input: SyncOfflineSalesInput) -> SyncOfflineSalesPayload:
    async def run():
        uploads = [
            OfflineSale(
                offline_id=s.offline_id,
                occurred_at=s.occurred_at,
                lines=_lines(s.lines, f"sales.{i}.lines"),
                payments=_payments(s.tenders),
                order_discount=s.order_discount,
                customer_name=s.customer_name,
                customer_phone=s.customer_phone,
                note=s.note,
            )
            for i, s in enumerate(input.sales)
        ]
        counter_pk = ids.decode(input.counter_id, "Counter", "counterId")
        results = await ops_sync_offline_sales(info.context.actor, counter_pk, uploads)
        return {
            "results": [
                OfflineSaleResult(
                    offline_id=r.offline_id,
                    sale=Sale.from_model(r.sale) if r.sale else None,
                    replayed=r.replayed,
                    oversold=bool(r.sale and r.sale.oversold),
                    errors=user_errors(OperationError(r.problems)) if r.problems else [],
                )
                for r in results
            ]
        }

    return await payload(SyncOfflineSalesPayload, run)
