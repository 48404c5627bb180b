"""Online orders from Shopify, their lines, their fulfillments and their history.

An order reserves its units at one branch (the branch of Shopify's assigned location, or the one
routing chose); each unit leaves stock exactly once, by whichever fulfillment workflow the branch
uses (docs/architecture.md, Shopify sync). Only `operations/` writes these tables; stock itself moves
only through the ledger.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    OPEN = "open"  # units reserved, nothing has left yet
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class CodStatus(StrEnum):
    """Cash-on-delivery lifecycle. Prepaid orders have none."""

    PENDING_CONFIRMATION = "pending_confirmation"  # the shop calls the customer before shipping
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # by the customer before dispatch: the reservation is released
    DISPATCHED = "dispatched"  # handed to the courier (courier and tracking number recorded)
    DELIVERED = "delivered"  # cash collected
    REFUSED = "refused"  # the customer refused at the door
    RETURNING = "returning"  # return to origin (RTO) in transit back to a branch
    RETURNED = "returned"  # received back at a branch with a condition check


class FinancialStatus(StrEnum):
    """Shopify's financial status of an order (OrderDisplayFinancialStatus), as its webhooks spell it."""

    AUTHORIZED = "authorized"
    EXPIRED = "expired"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    PENDING = "pending"  # also manual payment methods such as COD until marked paid
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfillmentWorkflow(StrEnum):
    """How a branch ships online orders; chosen per branch."""

    SMART = "smart"  # fulfilled in Branchline, Shopify told with fulfillmentCreate
    MANUAL = "manual"  # recorded in Branchline, fulfilled in Shopify by hand later (matched, not deducted)
    BRANCH_SYNC = "branch_sync"  # fulfilled in Shopify, Branchline deducts when the webhook says so


class OrderExceptionCode(StrEnum):
    """What a person must resolve on an order (`Order.exception_code`); the order is kept meanwhile."""

    UNKNOWN_LOCATION = "UNKNOWN_LOCATION"  # Shopify's assigned location is no branch
    UNKNOWN_VARIANT = "UNKNOWN_VARIANT"  # a line's variant is not in Branchline
    UNTRACKED_ITEM = "UNTRACKED_ITEM"  # Shopify does not track a line's stock
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"  # the branch is short of units it reserved
    EXCHANGE_REFUSED = "EXCHANGE_REFUSED"  # Shopify would not take an exchange's order edit


class OrderEventKind(StrEnum):
    """A step in an order's life (`OrderHistory.kind`, and the `orderEvents` it announces)."""

    CREATED = "created"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    ROUTED = "routed"
    CONFIRMED = "confirmed"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    REFUSED = "refused"
    RETURNED = "returned"
    FULFILLED = "fulfilled"
    EXCEPTION = "exception"
    EXCHANGED = "exchanged"
    EXCHANGE_SYNCED = "exchange_synced"
    EXCHANGE_REFUSED = "exchange_refused"


class FulfillmentStatus(StrEnum):
    PENDING = "pending"  # deducted here, Shopify not yet told (Smart) or not yet matched (Manual)
    SYNCED = "synced"  # Shopify holds the matching fulfillment
    CANCELLED = "cancelled"


class Order(Model):
    id = fields.IntField(primary_key=True)
    shopify_order_id = fields.CharField(max_length=80, unique=True)  # gid://shopify/Order/…
    name = fields.CharField(max_length=40)  # "#1001", what the customer and the staff quote
    # Where the units are reserved and will ship from; NULL while the order waits for a branch
    # (location not mapped to a branch): such an order is an exception to resolve.
    branch = fields.ForeignKeyField("models.Branch", related_name="orders", null=True, on_delete=fields.RESTRICT)
    shopify_location_id = fields.CharField(max_length=80, null=True)  # Shopify's assigned location
    customer = fields.ForeignKeyField("models.Customer", related_name="orders", null=True, on_delete=fields.SET_NULL)
    customer_name = fields.CharField(max_length=255, default="")
    customer_phone = fields.CharField(max_length=40, null=True)
    customer_email = fields.CharField(max_length=255, null=True)
    shipping_address = fields.JSONField(default=dict)
    currency = fields.CharField(max_length=3, default="PKR")
    total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    payment_gateways = fields.JSONField(default=list)
    financial_status = fields.CharField(max_length=30, default="pending")  # Shopify's: a FinancialStatus
    is_cod = fields.BooleanField(default=False)
    status = fields.CharEnumField(OrderStatus, max_length=24, default=OrderStatus.OPEN)
    cod_status = fields.CharEnumField(CodStatus, max_length=24, null=True)
    courier = fields.CharField(max_length=80, null=True)
    tracking_number = fields.CharField(max_length=120, null=True)
    # Something needs a person (unknown variant, unmapped location, short stock): shown on the
    # online-orders screen until resolved; the order is kept, never dropped.
    exception_code = fields.CharField(max_length=40, null=True)  # an OrderExceptionCode
    exception_message = fields.TextField(null=True)
    # Shopify's updated_at of the newest version applied: an older webhook is stale and ignored.
    shopify_updated_at = fields.DatetimeField(null=True)
    shopify_created_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    lines: fields.ReverseRelation["OrderLine"]

    class Meta:
        table = "online_order"
        ordering = ["-id"]
        indexes = (("branch_id", "status"), ("updated_at",), ("customer_id", "id"))


class OrderLine(Model):
    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="lines", on_delete=fields.CASCADE)
    shopify_line_item_id = fields.CharField(max_length=80, unique=True)  # gid://shopify/LineItem/…
    # NULL when the Shopify variant is unknown here or not tracked: the line reserves nothing.
    variant = fields.ForeignKeyField("models.Variant", related_name="order_lines", null=True, on_delete=fields.RESTRICT)
    sku = fields.CharField(max_length=100, null=True)
    title = fields.CharField(max_length=255, default="")
    quantity = fields.IntField()  # Shopify's current quantity (after edits and removals)
    unit_price = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    reserved = fields.IntField(default=0)  # units of this line held at the order's branch now
    fulfilled = fields.IntField(default=0)  # units that left stock, by any workflow
    returned = fields.IntField(default=0)  # units Branchline put back in stock (RTO received, restock)
    # Units Shopify restocked itself (cancel or refund with restock): matched against `returned` so a
    # unit that comes back is counted back once on each side, whichever side saw it first.
    shopify_restocked = fields.IntField(default=0)

    class Meta:
        table = "online_order_line"
        ordering = ["id"]


class Fulfillment(Model):
    """Units of an order leaving a branch. Each one deducts stock once, whichever side saw it first."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="fulfillments", on_delete=fields.CASCADE)
    branch = fields.ForeignKeyField("models.Branch", related_name="fulfillments", on_delete=fields.RESTRICT)
    workflow = fields.CharEnumField(FulfillmentWorkflow, max_length=16)
    status = fields.CharEnumField(FulfillmentStatus, max_length=12, default=FulfillmentStatus.PENDING)
    # Shopify's fulfillment this one is (Branch Sync), became (Smart) or was matched to (Manual).
    shopify_fulfillment_id = fields.CharField(max_length=80, null=True, unique=True)
    # Shopify's fulfillment that covers this one's units, set on every fulfillment one Shopify fulfillment
    # was matched or split to (several Manual ones fulfilled there in one go): its cancel and tracking reach all.
    matched_shopify_fulfillment_id = fields.CharField(max_length=80, null=True, db_index=True)
    tracking_company = fields.CharField(max_length=80, null=True)
    tracking_number = fields.CharField(max_length=120, null=True)
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)
    created_by = fields.CharField(max_length=120, default="system")
    created_at = fields.DatetimeField(auto_now_add=True)

    lines: fields.ReverseRelation["FulfillmentLine"]

    class Meta:
        table = "online_fulfillment"
        ordering = ["id"]


class FulfillmentLine(Model):
    id = fields.IntField(primary_key=True)
    fulfillment = fields.ForeignKeyField("models.Fulfillment", related_name="lines", on_delete=fields.CASCADE)
    order_line = fields.ForeignKeyField("models.OrderLine", related_name="fulfillment_lines", on_delete=fields.CASCADE)
    quantity = fields.IntField()

    class Meta:
        table = "online_fulfillment_line"
        unique_together = (("fulfillment", "order_line"),)


class ExchangeKind(StrEnum):
    BEFORE_DISPATCH = "before_dispatch"  # the reserved variant is swapped; Shopify's order is edited
    AFTER_DELIVERY = "after_delivery"  # the customer's units come back and a replacement goes out


class ExchangeStatus(StrEnum):
    PENDING = "pending"  # done here; Shopify's order edit not yet committed
    SYNCED = "synced"  # Shopify's order shows the swap
    REFUSED = "refused"  # Shopify would not take the edit: the swap was undone here, see `error`
    DONE = "done"  # after delivery: nothing to edit in Shopify, both stock moves pushed as deltas


class OrderExchange(Model):
    """A customer's exchange on an online order, one document for both sides and the price difference.

    `lines`: [{orderLineId, quantity, fromVariantId, toVariantId, newOrderLineId?, condition?,
    shopifyQuantityBefore?}] as taken; `price_difference` is what the customer owes (negative: is owed).
    """

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="exchanges", on_delete=fields.CASCADE)
    branch = fields.ForeignKeyField("models.Branch", related_name="order_exchanges", on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(ExchangeKind, max_length=20)
    status = fields.CharEnumField(ExchangeStatus, max_length=12)
    lines = fields.JSONField(default=list)
    price_difference = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    courier = fields.CharField(max_length=80, null=True)
    tracking_number = fields.CharField(max_length=120, null=True)
    note = fields.TextField(null=True)
    error = fields.TextField(null=True)  # why Shopify refused the edit
    idempotency_key = fields.CharField(max_length=200, unique=True)
    created_by = fields.CharField(max_length=120, default="system")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "online_order_exchange"
        ordering = ["id"]
        indexes = (("order_id", "status"),)


class OrderHistory(Model):
    """What happened to an order, in order: intake, routing, COD steps, fulfillments, returns."""

    id = fields.BigIntField(primary_key=True)
    order = fields.ForeignKeyField("models.Order", related_name="history", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=40)  # an OrderEventKind: created, updated, routed, confirmed, ...
    detail = fields.JSONField(default=dict)
    actor = fields.CharField(max_length=120, default="system")
    occurred_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "online_order_history"
        ordering = ["id"]
