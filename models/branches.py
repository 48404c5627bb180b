"""Branches (physical stores) and their counters (tills)."""

from tortoise import fields
from tortoise.models import Model


class Branch(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True, description="Short code shown on receipts, e.g. LHR-1")
    name = fields.CharField(max_length=120)
    timezone = fields.CharField(max_length=64, default="Asia/Karachi")
    # Some retailers keep selling when the system says zero (stock not yet received on paper).
    allow_negative_stock = fields.BooleanField(default=False)
    shopify_location_id = fields.CharField(max_length=80, null=True, unique=True)
    # How this branch ships online orders (models.orders.FulfillmentWorkflow): smart, manual or
    # branch_sync. Kept as text so branches need not import the orders module.
    fulfillment_workflow = fields.CharField(max_length=16, default="branch_sync", db_default="branch_sync")
    # Routing: lower ships first when several branches could take an order.
    routing_priority = fields.IntField(default=100, db_default=100)
    # Units per variant kept for walk-in customers: routing does not promise them online.
    online_safety_stock = fields.IntField(default=0, db_default=0)
    # Loyalty points earned per PKR 100 paid at this branch; None: the retailer's default
    # (BRANCHLINE_LOYALTY_POINTS_PER_100_PKR), 0: no points earned here.
    loyalty_points_per_100_pkr = fields.DecimalField(max_digits=8, decimal_places=2, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    counters: fields.ReverseRelation["Counter"]

    class Meta:
        table = "branch"
        ordering = ["id"]


class Counter(Model):
    id = fields.IntField(primary_key=True)
    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "models.Branch", related_name="counters", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=120)
    # A deactivated counter takes no sign-in, register or sale (operations/directory/branches.py).
    active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "counter"
        unique_together = (("branch", "code"),)
        ordering = ["id"]
