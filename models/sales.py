"""Counter sales: the sale document, its lines and tenders, and per-counter sale numbers."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class SaleStatus(StrEnum):
    DRAFT = "draft"  # parked or quoted; may hold stock as a reservation
    PLACED = "placed"  # paid, stock deducted
    UPDATED = "updated"  # placed, then partly returned or exchanged
    REFUNDED = "refunded"  # every unit returned
    VOIDED = "voided"  # cancelled in the same register with a manager's approval


class TenderType(StrEnum):
    CASH = "cash"
    CARD = "card"
    BANK = "bank"  # bank transfer, Raast, mobile wallets (JazzCash, Easypaisa)
    LOYALTY = "loyalty"  # the customer's loyalty points (operations/directory/loyalty.py)


class Sale(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=60, null=True, unique=True)  # given when placed
    branch = fields.ForeignKeyField("models.Branch", related_name="sales", on_delete=fields.RESTRICT)
    counter = fields.ForeignKeyField("models.Counter", related_name="sales", on_delete=fields.RESTRICT)
    register = fields.ForeignKeyField("models.Register", related_name="sales", null=True, on_delete=fields.RESTRICT)
    shift = fields.ForeignKeyField("models.Shift", related_name="sales", null=True, on_delete=fields.RESTRICT)
    cashier = fields.ForeignKeyField("models.Staff", related_name="sales", on_delete=fields.RESTRICT)
    salesperson = fields.ForeignKeyField(
        "models.Staff", related_name="sales_made", null=True, on_delete=fields.RESTRICT
    )
    customer = fields.ForeignKeyField("models.Customer", related_name="sales", null=True, on_delete=fields.RESTRICT)
    customer_name = fields.CharField(max_length=120, null=True)
    customer_phone = fields.CharField(max_length=30, null=True)
    status = fields.CharEnumField(SaleStatus, max_length=10)
    is_quote = fields.BooleanField(default=False)
    tax_inclusive = fields.BooleanField(default=True)
    currency = fields.CharField(max_length=3, default="PKR")
    order_discount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    subtotal = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount_total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    net_total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    tax_total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    paid = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    change_due = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    cash_taken = fields.DecimalField(max_digits=14, decimal_places=2, default=0)  # cash in − change out
    refunded_total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)
    request_hash = fields.CharField(max_length=64, null=True)
    offline_id = fields.CharField(max_length=100, null=True, unique=True)  # client-made ID of an offline sale
    oversold = fields.BooleanField(default=False)  # an offline sale that took stock below zero
    approved_by = fields.ForeignKeyField(
        "models.Staff", related_name="sales_approved", null=True, on_delete=fields.RESTRICT
    )
    reservation_key = fields.CharField(max_length=200, null=True)  # ledger key of a draft's held stock
    reservation_expires_at = fields.DatetimeField(null=True)
    note = fields.CharField(max_length=500, null=True)
    occurred_at = fields.DatetimeField()  # when it happened at the counter (offline sales: earlier)
    placed_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sale"
        ordering = ["id"]
        indexes = (("customer_id", "id"),)  # a customer's history


class SaleLine(Model):
    id = fields.IntField(primary_key=True)
    sale = fields.ForeignKeyField("models.Sale", related_name="lines", on_delete=fields.CASCADE)
    line_no = fields.IntField()
    variant = fields.ForeignKeyField("models.Variant", related_name="sale_lines", on_delete=fields.RESTRICT)
    sku = fields.CharField(max_length=64)
    description = fields.CharField(max_length=255)
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=14, decimal_places=2)
    price_overridden = fields.BooleanField(default=False)
    tax_rate = fields.DecimalField(max_digits=5, decimal_places=2)
    pct_code = fields.CharField(max_length=16, null=True)
    line_discount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    order_discount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    net = fields.DecimalField(max_digits=14, decimal_places=2)
    tax = fields.DecimalField(max_digits=14, decimal_places=2)
    total = fields.DecimalField(max_digits=14, decimal_places=2)
    returned_quantity = fields.IntField(default=0)

    class Meta:
        table = "sale_line"
        ordering = ["sale_id", "line_no"]
        unique_together = (("sale", "line_no"),)


class Tender(Model):
    id = fields.IntField(primary_key=True)
    sale = fields.ForeignKeyField("models.Sale", related_name="tenders", null=True, on_delete=fields.CASCADE)
    sale_return = fields.ForeignKeyField(
        "models.SaleReturn", related_name="tenders", null=True, on_delete=fields.CASCADE
    )
    type = fields.CharEnumField(TenderType, max_length=10)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)  # refunds are positive amounts paid out
    reference = fields.CharField(max_length=100, null=True)  # card last 4, bank transaction id
    account = fields.CharField(max_length=100, null=True)  # which of the retailer's bank accounts

    class Meta:
        table = "tender"
        ordering = ["id"]


class SaleNumberSequence(Model):
    """The last sale and return numbers handed out per counter (numbers run per branch and counter)."""

    counter_id = fields.IntField(primary_key=True, generated=False)
    last_number = fields.IntField(default=0)
    # Returns are numbered on their own run, so sale numbers stay consecutive (receipts, FBR).
    last_return_number = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "sale_number_sequence"


class Restock(StrEnum):
    RESTOCK = "restock"  # back on this branch's shelf
    NO_RESTOCK = "no_restock"  # thrown away / kept by the customer
    DAMAGED = "damaged"  # into this branch's damaged bucket


class SaleReturn(Model):
    """A return against one original sale, at any branch (an exchange links it to a new sale)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=60, unique=True)
    sale = fields.ForeignKeyField("models.Sale", related_name="returns", on_delete=fields.RESTRICT)
    branch = fields.ForeignKeyField("models.Branch", related_name="returns", on_delete=fields.RESTRICT)
    counter = fields.ForeignKeyField("models.Counter", related_name="returns", on_delete=fields.RESTRICT)
    register = fields.ForeignKeyField("models.Register", related_name="returns", null=True, on_delete=fields.RESTRICT)
    shift = fields.ForeignKeyField("models.Shift", related_name="returns", null=True, on_delete=fields.RESTRICT)
    cashier = fields.ForeignKeyField("models.Staff", related_name="returns", on_delete=fields.RESTRICT)
    approved_by = fields.ForeignKeyField(
        "models.Staff", related_name="returns_approved", null=True, on_delete=fields.RESTRICT
    )
    exchange_sale = fields.ForeignKeyField(
        "models.Sale", related_name="exchanged_from", null=True, on_delete=fields.RESTRICT
    )
    net = fields.DecimalField(max_digits=14, decimal_places=2)
    tax = fields.DecimalField(max_digits=14, decimal_places=2)
    total = fields.DecimalField(max_digits=14, decimal_places=2)  # refunded (before an exchange's new lines)
    cash_paid_out = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    reason = fields.CharField(max_length=200, null=True)
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)
    request_hash = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sale_return"
        ordering = ["id"]


class ReturnLine(Model):
    id = fields.IntField(primary_key=True)
    sale_return = fields.ForeignKeyField("models.SaleReturn", related_name="lines", on_delete=fields.CASCADE)
    sale_line = fields.ForeignKeyField("models.SaleLine", related_name="return_lines", on_delete=fields.RESTRICT)
    quantity = fields.IntField()
    restock = fields.CharEnumField(Restock, max_length=12)
    discount = fields.DecimalField(max_digits=14, decimal_places=2)
    net = fields.DecimalField(max_digits=14, decimal_places=2)
    tax = fields.DecimalField(max_digits=14, decimal_places=2)
    total = fields.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        table = "return_line"
        ordering = ["id"]
