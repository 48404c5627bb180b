"""The stock ledger's tables.

`StockLevel` is a cache of the ledger that can always be rebuilt from `StockMovement`
(`branchline check` proves it). Only `operations/stock/ledger.py` writes these tables.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.constraints import checks_for


class Bucket(StrEnum):
    ON_HAND = "on_hand"
    RESERVED = "reserved"
    IN_TRANSIT = "in_transit"
    DAMAGED = "damaged"


class MovementReason(StrEnum):
    """Why a movement was written: the step that wrote it (a movement's own reason, else its posting's).
    The ledger writes no other (operations/stock/ledger.py `validate`)."""

    # at the counter
    SALE = "sale"
    VOID = "void"
    RETURN = "return"
    EXCHANGE = "exchange"
    DRAFT_HOLD = "draft_hold"
    DRAFT_HOLD_EXPIRED = "draft_hold_expired"
    # adjustments (operations/stock/adjustments.py AdjustmentReason); COUNT is also an approved stock count
    CORRECTION = "correction"
    COUNT = "count"
    DAMAGED = "damaged"
    SHRINKAGE = "shrinkage"
    FOUND = "found"
    PROMOTION = "promotion"
    INTERNAL_USE = "internal_use"
    OPENING_STOCK = "opening_stock"
    # the Shopify catalog import's opening stock, and goods received from a supplier
    IMPORT = "import"
    RECEIVED = "received"
    # transfers between branches
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    TRANSFER_DAMAGED = "transfer_damaged"
    TRANSFER_MISSING = "transfer_missing"
    TRANSFER_FOUND = "transfer_found"
    TRANSFER_RESTORED = "transfer_restored"
    # online orders
    ONLINE_ORDER = "online_order"
    ORDER_ROUTED = "order_routed"
    ORDER_RELEASED = "order_released"
    ORDER_RETURNED = "order_returned"
    ORDER_EXCHANGED = "order_exchanged"
    ORDER_EXCHANGE = "order_exchange"
    EXCHANGE_SHIPPED = "exchange_shipped"
    ONLINE_FULFILLMENT = "online_fulfillment"
    FULFILLMENT_CANCELLED = "fulfillment_cancelled"


class ShopifyEffect(StrEnum):
    """How Shopify learns of a movement: each change reaches it by exactly one path.

    docs/architecture.md, Shopify sync, has the paths."""

    PUSH = "push"  # the outbox sends a delta
    SHOPIFY_KNOWS = "shopify_knows"  # Shopify moved its own stock (its order, its fulfillment)
    FULFILLMENT = "fulfillment"  # a fulfillmentCreate makes Shopify deduct itself
    NOT_SYNCED = "not_synced"  # the bucket has no Shopify counterpart, or the variant is not on Shopify


class StockLevel(Model):
    id = fields.IntField(primary_key=True)
    branch = fields.ForeignKeyField("models.Branch", related_name="stock_levels", on_delete=fields.RESTRICT)
    variant = fields.ForeignKeyField("models.Variant", related_name="stock_levels", on_delete=fields.RESTRICT)
    on_hand = fields.IntField(default=0)
    reserved = fields.IntField(default=0)
    in_transit = fields.IntField(default=0)
    damaged = fields.IntField(default=0)
    reorder_point = fields.IntField(default=0)
    # How many to bring in when the level falls to the reorder point (order or transfer).
    reorder_quantity = fields.IntField(default=0, db_default=0)
    version = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stock_level"
        constraints = checks_for("StockLevel")
        unique_together = (("branch", "variant"),)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockPosting(Model):
    """One batch of movements applied together, under one idempotency key."""

    id = fields.IntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=200, unique=True)
    # A key reused with different movements is a client bug, not a retry: refuse it.
    request_hash = fields.CharField(max_length=64)
    reason = fields.CharField(max_length=40)
    reference_type = fields.CharField(max_length=40, null=True)
    reference_id = fields.CharField(max_length=80, null=True)
    actor = fields.CharField(max_length=120, default="system")
    note = fields.TextField(null=True)
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stock_posting"


class StockMovement(Model):
    """Append-only: a movement is never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    posting = fields.ForeignKeyField("models.StockPosting", related_name="movements", on_delete=fields.RESTRICT)
    branch = fields.ForeignKeyField("models.Branch", related_name="movements", on_delete=fields.RESTRICT)
    variant = fields.ForeignKeyField("models.Variant", related_name="movements", on_delete=fields.RESTRICT)
    # Per-branch, gap-free, in commit order: what live clients resume from.
    sequence = fields.BigIntField()
    bucket = fields.CharEnumField(Bucket, max_length=16)
    delta = fields.IntField()
    reason = fields.CharField(max_length=40)  # a MovementReason
    shopify_effect = fields.CharEnumField(ShopifyEffect, max_length=16)
    on_hand_after = fields.IntField()
    reserved_after = fields.IntField()
    in_transit_after = fields.IntField()
    damaged_after = fields.IntField()
    occurred_at = fields.DatetimeField()

    class Meta:
        table = "stock_movement"
        constraints = checks_for("StockMovement")
        unique_together = (("branch", "sequence"),)
        indexes = (("variant_id", "branch_id"),)


class BranchStockSequence(Model):
    """The last stock sequence handed out per branch.

    Taken inside the writing transaction, after the level updates, so the row lock is held only
    until commit: sequences are therefore assigned in commit order (an autoincrement id is not).
    """

    branch_id = fields.IntField(primary_key=True, generated=False)
    last_sequence = fields.BigIntField(default=0)

    class Meta:
        table = "branch_stock_sequence"
