"""Suppliers, purchase orders, goods received and stock valuation: decode the input, call
operations/purchasing/orders.py, purchase_receiving.py or purchase_valuation.py, shape the payload."""

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Q

from models import purchasing as models
from operations.kernel import Actor, OperationError, Permission, require, require_signed_in
from operations.purchasing import GoodsIn, NewPurchaseOrder, NewSupplier, OrderLine, ReceiptLine
from operations.purchasing import cancel_purchase_order as ops_cancel_purchase_order
from operations.purchasing import close_purchase_order as ops_close_purchase_order
from operations.purchasing import create_purchase_order as ops_create_purchase_order
from operations.purchasing import create_supplier as ops_create_supplier
from operations.purchasing import place_purchase_order as ops_place_purchase_order
from operations.purchasing import receive_goods as ops_receive_goods
from operations.purchasing import stock_valuation as ops_stock_valuation
from resolvers.mutations import payload
from schema import ids
from schema.errors import BadRequest
from schema.pagination import decode_cursor, keyset_page
from schema.purchasing import (
    CancelPurchaseOrderInput,
    CancelPurchaseOrderPayload,
    ClosePurchaseOrderInput,
    ClosePurchaseOrderPayload,
    CreatePurchaseOrderInput,
    CreatePurchaseOrderPayload,
    CreateSupplierInput,
    CreateSupplierPayload,
    GoodsReceipt,
    PlacePurchaseOrderInput,
    PlacePurchaseOrderPayload,
    PurchaseOrder,
    PurchaseOrderStatus,
    ReceiveGoodsInput,
    ReceiveGoodsPayload,
    StockValuation,
    Supplier,
    UncostedStock,
    sees_purchasing,
)
from schema.types import Money

# --- who may see what (node(id:) asks the same, schema/purchasing.py) ------------------------------


def _require_sees_orders(actor: Actor, branch_id: int | None = None) -> None:
    require_signed_in(actor)
    if not sees_purchasing(actor, branch_id):
        require(actor, Permission.PURCHASE, branch_id)  # raises AccessDenied naming the permission


# --- queries -------------------------------------------------------------------------------------


def _query_id(value: str, type_name: str, field: str) -> int:
    try:
        return ids.decode(value, type_name, field)
    except OperationError as error:
        raise BadRequest(str(error), field=field) from None


async def suppliers(
    info: Info, first: int, after: str | None = None, search: str | None = None, active_only: bool = True
) -> relay.Connection[Supplier]:
    """`search` matches the name, phone, email or NTN."""
    _require_sees_orders(info.context.actor)
    queryset = models.Supplier.all()
    if active_only:
        queryset = queryset.filter(active=True)
    if search is not None:
        if len(search) > 100:
            raise BadRequest("search must be at most 100 characters", field="search")
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(phone__icontains=search) | Q(email__icontains=search) | Q(ntn=search)
        )
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Supplier.from_model
    )


async def purchase_orders(
    info: Info,
    first: int,
    after: str | None = None,
    branch_id: strawberry.ID | None = None,
    status: PurchaseOrderStatus | None = None,  # type: ignore[valid-type]
) -> relay.Connection[PurchaseOrder]:
    """Oldest first. Without branchId: every branch the caller may see orders at."""
    actor = info.context.actor
    require_signed_in(actor)
    queryset = models.PurchaseOrder.all()
    if branch_id is not None:
        branch_pk = _query_id(branch_id, "Branch", "branchId")
        _require_sees_orders(actor, branch_pk)
        queryset = queryset.filter(branch_id=branch_pk)
    else:
        _require_sees_orders(actor)
        if actor.branch_ids is not None:
            queryset = queryset.filter(branch_id__in=[b for b in actor.branch_ids if sees_purchasing(actor, b)])
    if status is not None:
        queryset = queryset.filter(status=models.PurchaseOrderStatus(status.value))
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=PurchaseOrder.from_model
    )


async def stock_valuation(info: Info, branch_id: strawberry.ID) -> StockValuation:
    branch_pk = _query_id(branch_id, "Branch", "branchId")
    try:
        found = await ops_stock_valuation(info.context.actor, branch_pk)
    except OperationError as error:
        raise BadRequest(str(error), code="NOT_FOUND", field="branchId") from None
    return StockValuation(
        value=Money(amount=found.value),
        units_valued=found.units_valued,
        variants_valued=found.variants_valued,
        uncosted_units=found.uncosted_units,
        uncosted_count=found.uncosted_count,
        uncosted=[UncostedStock(on_hand=u.on_hand, variant_pk=u.variant_id) for u in found.uncosted],
        branch_pk=branch_pk,
    )


# --- mutations -----------------------------------------------------------------------------------


async def create_supplier(info: Info, input: CreateSupplierInput) -> CreateSupplierPayload:
    async def run():
        supplier, _ = await ops_create_supplier(
            info.context.actor,
            NewSupplier(
                name=input.name,
                phone=input.phone,
                email=input.email,
                ntn=input.ntn,
                idempotency_key=input.idempotency_key,
            ),
        )
        return {"supplier": Supplier.from_model(supplier)}

    return await payload(CreateSupplierPayload, run)


async def create_purchase_order(info: Info, input: CreatePurchaseOrderInput) -> CreatePurchaseOrderPayload:
    async def run():
        branch_pk = ids.decode(input.branch_id, "Branch", "branchId")
        require(info.context.actor, Permission.PURCHASE, branch_pk)  # before anything else is told
        new = NewPurchaseOrder(
            supplier_id=ids.decode(input.supplier_id, "Supplier", "supplierId"),
            branch_id=branch_pk,
            lines=[
                OrderLine(line.variant.ref(f"lines.{i}.variant"), line.quantity, line.unit_cost)
                for i, line in enumerate(input.lines)
            ],
            idempotency_key=input.idempotency_key,
            expected_on=input.expected_on,
            note=input.note,
            place=input.place,
        )
        order, _ = await ops_create_purchase_order(info.context.actor, new)
        return {"purchase_order": PurchaseOrder.from_model(order)}

    return await payload(CreatePurchaseOrderPayload, run)


def _order_pk(value: strawberry.ID) -> int:
    return ids.decode(value, "PurchaseOrder", "purchaseOrderId")


async def place_purchase_order(info: Info, input: PlacePurchaseOrderInput) -> PlacePurchaseOrderPayload:
    async def run():
        order, _ = await ops_place_purchase_order(
            info.context.actor, _order_pk(input.purchase_order_id), input.idempotency_key
        )
        return {"purchase_order": PurchaseOrder.from_model(order)}

    return await payload(PlacePurchaseOrderPayload, run)


async def close_purchase_order(info: Info, input: ClosePurchaseOrderInput) -> ClosePurchaseOrderPayload:
    async def run():
        order, _ = await ops_close_purchase_order(
            info.context.actor, _order_pk(input.purchase_order_id), input.idempotency_key, input.reason
        )
        return {"purchase_order": PurchaseOrder.from_model(order)}

    return await payload(ClosePurchaseOrderPayload, run)


async def cancel_purchase_order(info: Info, input: CancelPurchaseOrderInput) -> CancelPurchaseOrderPayload:
    async def run():
        order, _ = await ops_cancel_purchase_order(
            info.context.actor, _order_pk(input.purchase_order_id), input.idempotency_key, input.reason
        )
        return {"purchase_order": PurchaseOrder.from_model(order)}

    return await payload(CancelPurchaseOrderPayload, run)


async def receive_goods(info: Info, input: ReceiveGoodsInput) -> ReceiveGoodsPayload:
    async def run():
        lines = []
        for i, line in enumerate(input.lines):
            where = f"lines.{i}"
            line_pk = ids.decode(line.line_id, "PurchaseOrderLine", f"{where}.lineId") if line.line_id else None
            lines.append(
                ReceiptLine(
                    quantity=line.quantity,
                    line_id=line_pk,
                    variant=line.variant.ref(f"{where}.variant") if line.variant is not None else None,
                    unit_cost=line.unit_cost,
                )
            )
        grn, _ = await ops_receive_goods(
            info.context.actor,
            GoodsIn(
                purchase_order_id=_order_pk(input.purchase_order_id),
                lines=lines,
                idempotency_key=input.idempotency_key,
                note=input.note,
            ),
        )
        order = await models.PurchaseOrder.get(id=grn.purchase_order_id)
        return {"goods_receipt": GoodsReceipt.from_model(grn), "purchase_order": PurchaseOrder.from_model(order)}

    return await payload(ReceiveGoodsPayload, run)
