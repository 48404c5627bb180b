"""Suppliers, purchase orders and goods-received notes; weighted average unit cost per variant.

The stock itself arrives only through the ledger (operations/purchasing/orders.py posts it); these
tables say what was ordered from whom, at what cost, and what has come in so far. The unit cost
a variant is valued at lives on `Variant.average_cost` (models/catalog.py).
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

# PKR amounts on purchases keep 4 decimals: a carton of 144 at 10,000.00 is 69.4444 a unit.
COST_DIGITS = 14
COST_PLACES = 4


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"  # being put together, not sent to the supplier
    ORDERED = "ordered"  # sent to the supplier, nothing received yet
    PARTIALLY_RECEIVED = "partially_received"  # some units in, some still outstanding
    RECEIVED = "received"  # every ordered unit is in
    CLOSED = "closed"  # finished: whatever was still outstanding is no longer expected
    CANCELLED = "cancelled"  # called off before anything was received


class Supplier(Model):
    """Who the retailer buys from. NTN is Pakistan's national tax number, when the supplier has one."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    phone = fields.CharField(max_length=40, null=True)
    email = fields.CharField(max_length=255, null=True)
    ntn = fields.CharField(max_length=20, null=True, unique=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supplier"
        ordering = ["id"]


class PurchaseOrder(Model):
    """What a branch ordered from a supplier, and how much of it has arrived."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)  # PO-000042, one run per deployment
    supplier = fields.ForeignKeyField("models.Supplier", related_name="purchase_orders", on_delete=fields.RESTRICT)
    branch = fields.ForeignKeyField("models.Branch", related_name="purchase_orders", on_delete=fields.RESTRICT)
    status = fields.CharEnumField(PurchaseOrderStatus, max_length=20)
    currency = fields.CharField(max_length=3, default="PKR")
    expected_on = fields.DateField(null=True)
    note = fields.CharField(max_length=1000, null=True)
    created_by = fields.CharField(max_length=120)
    created_by_staff_id = fields.IntField(null=True)
    ordered_by = fields.CharField(max_length=120, null=True)
    ordered_at = fields.DatetimeField(null=True)
    last_received_at = fields.DatetimeField(null=True)
    closed_by = fields.CharField(max_length=120, null=True)
    closed_at = fields.DatetimeField(null=True)
    cancelled_by = fields.CharField(max_length=120, null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # Why it was closed short or cancelled.
    close_reason = fields.CharField(max_length=200, null=True)
    # Bumped by every step: the guarded UPDATE that also serialises steps on one order.
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "purchase_order"
        indexes = (("branch_id", "status"),)


class PurchaseOrderLine(Model):
    """One variant on an order. received + cancelled <= ordered, and outstanding is the rest."""

    id = fields.IntField(primary_key=True)
    purchase_order = fields.ForeignKeyField("models.PurchaseOrder", related_name="lines", on_delete=fields.CASCADE)
    line_no = fields.IntField()
    variant = fields.ForeignKeyField("models.Variant", related_name="purchase_lines", on_delete=fields.RESTRICT)
    quantity_ordered = fields.IntField()
    unit_cost = fields.DecimalField(max_digits=COST_DIGITS, decimal_places=COST_PLACES)
    quantity_received = fields.IntField(default=0)
    # Units no longer expected: the outstanding part when the order was closed short or cancelled.
    quantity_cancelled = fields.IntField(default=0)

    class Meta:
        table = "purchase_order_line"
        unique_together = (("purchase_order", "variant"), ("purchase_order", "line_no"))

    @property
    def outstanding(self) -> int:
        return self.quantity_ordered - self.quantity_received - self.quantity_cancelled


class GoodsReceipt(Model):
    """A goods-received note (GRN): units of a purchase order counted in at its branch."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=60, unique=True)  # GRN-000017 (a placeholder until numbered)
    purchase_order = fields.ForeignKeyField("models.PurchaseOrder", related_name="receipts", on_delete=fields.RESTRICT)
    branch = fields.ForeignKeyField("models.Branch", related_name="goods_receipts", on_delete=fields.RESTRICT)
    received_by = fields.CharField(max_length=120)
    received_by_staff_id = fields.IntField(null=True)
    received_at = fields.DatetimeField()
    note = fields.CharField(max_length=1000, null=True)
    idempotency_key = fields.CharField(max_length=200, unique=True)
    # A key repeated with different lines is a client bug, not a retry: refused.
    request_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "goods_receipt"
        indexes = (("purchase_order_id",),)


class GoodsReceiptLine(Model):
    """Units of one order line received on a GRN, at what cost, and the average cost it left."""

    id = fields.IntField(primary_key=True)
    goods_receipt = fields.ForeignKeyField("models.GoodsReceipt", related_name="lines", on_delete=fields.CASCADE)
    purchase_order_line = fields.ForeignKeyField(
        "models.PurchaseOrderLine", related_name="receipt_lines", on_delete=fields.RESTRICT
    )
    variant = fields.ForeignKeyField("models.Variant", related_name="receipt_lines", on_delete=fields.RESTRICT)
    quantity = fields.IntField()
    unit_cost = fields.DecimalField(max_digits=COST_DIGITS, decimal_places=COST_PLACES)
    average_cost_before = fields.DecimalField(max_digits=COST_DIGITS, decimal_places=COST_PLACES, null=True)
    average_cost_after = fields.DecimalField(max_digits=COST_DIGITS, decimal_places=COST_PLACES)
    on_hand_before = fields.IntField()  # across all branches, what the average was weighted by

    class Meta:
        table = "goods_receipt_line"


class PurchasingNumberSequence(Model):
    """The last number handed out per document kind (po, grn), taken inside the creating transaction."""

    kind = fields.CharField(max_length=8, primary_key=True)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "purchasing_number_sequence"
