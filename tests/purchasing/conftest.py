"""Two branches (Lahore receives, Karachi holds some stock too), a supplier, three variants, and
staff with the roles purchasing passes through."""

from decimal import Decimal

import pytest

from models.purchasing import GoodsReceipt, PurchaseOrderLine
from models.staff import Role
from models.stock import StockLevel
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from operations.purchasing import orders as purchasing
from operations.purchasing import receiving
from operations.purchasing import suppliers as purchase_suppliers
from tests.api.conftest import anonymous, api  # noqa: F401  (the in-process GraphQL client fixtures)
from tests.factories import key, make_branch, make_variants, stock
from tests.operations.conftest import staff_actor


class Setup:
    pass


@pytest.fixture
async def shop(db):
    s = Setup()
    s.lahore = await make_branch("LHR")
    s.karachi = await make_branch("KHI")
    s.kurta, s.shawl, s.scarf = await make_variants(3, prefix="K")
    await stock(s.lahore.id, s.kurta.id, 10)  # opening stock: no cost known
    await stock(s.karachi.id, s.kurta.id, 5)
    s.supplier, _ = await purchase_suppliers.create_supplier(
        SYSTEM, purchase_suppliers.NewSupplier("Faisalabad Textiles", "+92 41 1234567", "sales@fbt.pk", "1234567-8")
    )
    s.buyer = await staff_actor(Role.INVENTORY, [s.lahore.id], email="buyer-lhr@t.pk")
    s.manager = await staff_actor(Role.BRANCH_MANAGER, [s.lahore.id], email="manager-lhr@t.pk")
    s.karachi_clerk = await staff_actor(Role.INVENTORY, [s.karachi.id], email="clerk-khi@t.pk")
    s.cashier = await staff_actor(Role.CASHIER, [s.lahore.id], email="cashier-lhr@t.pk")
    s.finance = await staff_actor(Role.FINANCE, [s.lahore.id], email="finance@t.pk")
    return s


def order(s, lines, *, place=True, k=None, branch=None, **kw) -> purchasing.NewPurchaseOrder:
    """lines: (variant, quantity, unit cost as text)."""
    return purchasing.NewPurchaseOrder(
        supplier_id=kw.pop("supplier_id", s.supplier.id),
        branch_id=(branch or s.lahore).id,
        lines=[purchasing.OrderLine(VariantRef(id=v.id), q, Decimal(c)) for v, q, c in lines],
        idempotency_key=key("po") if k is None else k,
        place=place,
        **kw,
    )


async def placed(s, lines, **kw):
    po, _ = await purchasing.create_purchase_order(s.buyer, order(s, lines, **kw))
    return po


def goods(po, lines, k=None, note=None) -> receiving.GoodsIn:
    """lines: (variant, quantity[, unit cost as text])."""
    out = []
    for v, q, *cost in lines:
        out.append(receiving.ReceiptLine(q, variant=VariantRef(id=v.id), unit_cost=Decimal(cost[0]) if cost else None))
    return receiving.GoodsIn(po.id, out, key("grn") if k is None else k, note)


async def on_hand(branch, variant) -> int:
    found = await StockLevel.get_or_none(branch_id=branch.id, variant_id=variant.id)
    return found.on_hand if found else 0


async def lines_of(po) -> dict[int, PurchaseOrderLine]:
    """Order lines by variant id."""
    return {line.variant_id: line for line in await PurchaseOrderLine.filter(purchase_order_id=po.id)}


async def receipts_of(po) -> list[GoodsReceipt]:
    return list(await GoodsReceipt.filter(purchase_order_id=po.id).order_by("id"))
