from tortoise import migrations
from tortoise.migrations import operations as ops
from models.orders import CodStatus, FulfillmentStatus, FulfillmentWorkflow, OrderStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0011_reorder_quantity")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Order",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("shopify_order_id", fields.CharField(unique=True, max_length=80)),
                ("name", fields.CharField(max_length=40)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="orders",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("shopify_location_id", fields.CharField(null=True, max_length=80)),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "models.Customer",
                        source_field="customer_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="orders",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("customer_name", fields.CharField(default="", max_length=255)),
                ("customer_phone", fields.CharField(null=True, max_length=40)),
                ("customer_email", fields.CharField(null=True, max_length=255)),
                ("shipping_address", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("currency", fields.CharField(default="PKR", max_length=3)),
                ("total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("payment_gateways", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("financial_status", fields.CharField(default="pending", max_length=30)),
                ("is_cod", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=OrderStatus.OPEN,
                        description="OPEN: open\nPARTIALLY_FULFILLED: partially_fulfilled\nFULFILLED: fulfilled\nCANCELLED: cancelled",
                        enum_type=OrderStatus,
                        max_length=24,
                    ),
                ),
                (
                    "cod_status",
                    fields.CharEnumField(
                        null=True,
                        description="PENDING_CONFIRMATION: pending_confirmation\nCONFIRMED: confirmed\nCANCELLED: cancelled\nDISPATCHED: dispatched\nDELIVERED: delivered\nREFUSED: refused\nRETURNING: returning\nRETURNED: returned",
                        enum_type=CodStatus,
                        max_length=24,
                    ),
                ),
                ("courier", fields.CharField(null=True, max_length=80)),
                ("tracking_number", fields.CharField(null=True, max_length=120)),
                ("exception_code", fields.CharField(null=True, max_length=40)),
                ("exception_message", fields.TextField(null=True, unique=False)),
                ("shopify_updated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("shopify_created_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("cancelled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("version", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "online_order",
                "app": "models",
                "indexes": [Index(fields=["branch_id", "status"]), Index(fields=["updated_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Fulfillment",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fulfillments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fulfillments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "workflow",
                    fields.CharEnumField(
                        description="SMART: smart\nMANUAL: manual\nBRANCH_SYNC: branch_sync",
                        enum_type=FulfillmentWorkflow,
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=FulfillmentStatus.PENDING,
                        description="PENDING: pending\nSYNCED: synced\nCANCELLED: cancelled",
                        enum_type=FulfillmentStatus,
                        max_length=12,
                    ),
                ),
                ("shopify_fulfillment_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("tracking_company", fields.CharField(null=True, max_length=80)),
                ("tracking_number", fields.CharField(null=True, max_length=120)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
                ("created_by", fields.CharField(default="system", max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "online_fulfillment",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Units of an order leaving a branch. Each one deducts stock once, whichever side saw it first.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OrderHistory",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="history",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=40)),
                ("detail", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("actor", fields.CharField(default="system", max_length=120)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "online_order_history",
                "app": "models",
                "pk_attr": "id",
                "table_description": "What happened to an order, in order: intake, routing, COD steps, fulfillments, returns.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OrderLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("shopify_line_item_id", fields.CharField(unique=True, max_length=80)),
                (
                    "variant",
                    fields.ForeignKeyField(
                        "models.Variant",
                        source_field="variant_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="order_lines",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("sku", fields.CharField(null=True, max_length=100)),
                ("title", fields.CharField(default="", max_length=255)),
                ("quantity", fields.IntField()),
                ("unit_price", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("reserved", fields.IntField(default=0)),
                ("fulfilled", fields.IntField(default=0)),
                ("returned", fields.IntField(default=0)),
                ("shopify_restocked", fields.IntField(default=0)),
            ],
            options={"table": "online_order_line", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FulfillmentLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "fulfillment",
                    fields.ForeignKeyField(
                        "models.Fulfillment",
                        source_field="fulfillment_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "order_line",
                    fields.ForeignKeyField(
                        "models.OrderLine",
                        source_field="order_line_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fulfillment_lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("quantity", fields.IntField()),
            ],
            options={
                "table": "online_fulfillment_line",
                "app": "models",
                "unique_together": (("fulfillment", "order_line"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Branch",
            name="fulfillment_workflow",
            field=fields.CharField(default="branch_sync", db_default="branch_sync", max_length=16),
        ),
        ops.AddField(
            model_name="Branch",
            name="online_safety_stock",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="Branch",
            name="routing_priority",
            field=fields.IntField(default=100, db_default=100),
        ),
        ops.AddField(
            model_name="ShopifyConnection",
            name="orders_synced_until",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
