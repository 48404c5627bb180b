"""Checkout and sales queries."""

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import sales as models
from operations.counter import checkout as ops
from operations.counter import drafts, offline
from operations.kernel.access import Permission, require
from operations.kernel.errors import OperationError
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest, user_errors
from schema.pagination import decode_cursor, keyset_page
from schema.sales import (
    CheckoutInput,
    CheckoutPayload,
    OfflineSaleResult,
    PlaceDraftInput,
    PlaceDraftPayload,
    Sale,
    SaveDraftInput,
    SaveDraftPayload,
    SyncOfflineSalesInput,
    SyncOfflineSalesPayload,
    VoidSaleInput,
    VoidSalePayload,
)


def _lines(lines, field: str = "lines") -> list[ops.CheckoutLine]:
    return [
        ops.CheckoutLine(
            variant=line.variant.ref(f"{field}.{i}.variant"),
            quantity=line.quantity,
            price_override=line.price_override,
            discount=line.discount,
        )
        for i, line in enumerate(lines)
    ]


def _payments(tenders) -> list[ops.Payment]:
    return [ops.Payment(models.TenderType(t.type.value), t.amount, t.reference, t.account) for t in tenders]


async def checkout(info: Info, input: CheckoutInput) -> CheckoutPayload:
    async def run():
        request = ops.Checkout(
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            lines=_lines(input.lines),
            payments=_payments(input.tenders),
            idempotency_key=input.idempotency_key,
            order_discount=input.order_discount,
            customer_name=input.customer_name,
            customer_phone=input.customer_phone,
            salesperson_id=ids.decode(input.salesperson_id, "Staff", "salespersonId") if input.salesperson_id else None,
            manager_pin=input.manager_pin,
            note=input.note,
        )
        sale, _ = await ops.checkout(info.context.actor, request)
        return {"sale": Sale.from_model(sale)}

    return await payload(CheckoutPayload, run)


async def sales(info: Info, branch_id: strawberry.ID, first: int, after: str | None = None) -> relay.Connection[Sale]:
    """A branch's sales, oldest first (page on with `after`)."""
    try:
        branch_pk = ids.decode(branch_id, "Branch", "branchId")
    except Exception:
        raise BadRequest(f"not a valid Branch ID: {branch_id!r}", field="branchId") from None
    require(info.context.actor, Permission.VIEW_SALES, branch_pk)
    return await keyset_page(
        models.Sale.filter(branch_id=branch_pk),
        first=first,
        after_key=decode_cursor(after),
        key="id",
        to_node=Sale.from_model,
    )


async def save_draft(info: Info, input: SaveDraftInput) -> SaveDraftPayload:
    async def run():
        draft = drafts.Draft(
            counter_id=ids.decode(input.counter_id, "Counter", "counterId"),
            lines=_lines(input.lines),
            order_discount=input.order_discount,
            customer_name=input.customer_name,
            customer_phone=input.customer_phone,
            hold_minutes=input.hold_minutes,
            is_quote=input.is_quote,
            note=input.note,
        )
        draft_pk = ids.decode(input.draft_id, "Sale", "draftId") if input.draft_id else None
        saved = await drafts.save_draft(info.context.actor, draft, draft_pk, input.idempotency_key)
        return {"sale": Sale.from_model(saved)}

    return await payload(SaveDraftPayload, run)


async def place_draft(info: Info, input: PlaceDraftInput) -> PlaceDraftPayload:
    async def run():
        sale, _ = await drafts.place_draft(
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
        voided = await drafts.void_sale(
            info.context.actor, sale_pk, input.manager_pin, input.reason, input.idempotency_key
        )
        return {"sale": Sale.from_model(voided)}

    return await payload(VoidSalePayload, run)


async def sync_offline_sales(info: Info, input: SyncOfflineSalesInput) -> SyncOfflineSalesPayload:
    async def run():
        uploads = [
            offline.OfflineSale(
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
        results = await offline.sync_offline_sales(info.context.actor, counter_pk, uploads)
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
