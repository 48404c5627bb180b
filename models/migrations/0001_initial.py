from tortoise import migrations
from tortoise.migrations import operations as ops
from models.stock import Bucket, ShopifyEffect
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Branch",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "code",
                    fields.CharField(
                        unique=True, description="Short code shown on receipts, e.g. LHR-1", max_length=32
                    ),
                ),
                ("name", fields.CharField(max_length=120)),
                ("timezone", fields.CharField(default="Asia/Karachi", max_length=64)),
                ("allow_negative_stock", fields.BooleanField(default=False)),
                ("shopify_location_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "branch", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BranchStockSequence",
            fields=[
                ("branch_id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("last_sequence", fields.BigIntField(default=0)),
            ],
            options={
                "table": "branch_stock_sequence",
                "app": "models",
                "pk_attr": "branch_id",
                "table_description": "The last stock sequence handed out per branch.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Counter",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="counters",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("code", fields.CharField(max_length=32)),
                ("name", fields.CharField(max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "counter", "app": "models", "unique_together": (("branch", "code"),), "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="IdempotentRequest",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("operation", fields.CharField(max_length=60)),
                ("key", fields.CharField(max_length=200)),
                ("request_hash", fields.CharField(max_length=64)),
                ("result_type", fields.CharField(max_length=40)),
                ("result_id", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "idempotent_request",
                "app": "models",
                "unique_together": (("operation", "key"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Product",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("title", fields.CharField(max_length=255)),
                ("vendor", fields.CharField(default="", max_length=120)),
                ("product_type", fields.CharField(default="", max_length=120)),
                ("shopify_product_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "product", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StockPosting",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("idempotency_key", fields.CharField(unique=True, max_length=200)),
                ("request_hash", fields.CharField(max_length=64)),
                ("reason", fields.CharField(max_length=40)),
                ("reference_type", fields.CharField(null=True, max_length=40)),
                ("reference_id", fields.CharField(null=True, max_length=80)),
                ("actor", fields.CharField(default="system", max_length=120)),
                ("note", fields.TextField(null=True, unique=False)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "stock_posting",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One batch of movements applied together, under one idempotency key.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Variant",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "product",
                    fields.ForeignKeyField(
                        "models.Product",
                        source_field="product_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="variants",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("sku", fields.CharField(unique=True, max_length=64)),
                ("barcode", fields.CharField(null=True, unique=True, max_length=64)),
                ("title", fields.CharField(default="", max_length=255)),
                ("size", fields.CharField(null=True, max_length=40)),
                ("colour", fields.CharField(null=True, max_length=40)),
                ("price", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("tax_rate", fields.DecimalField(default=0, max_digits=5, decimal_places=2)),
                ("pct_code", fields.CharField(null=True, max_length=16)),
                ("shopify_variant_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("shopify_inventory_item_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "variant", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StockLevel",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stock_levels",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "variant",
                    fields.ForeignKeyField(
                        "models.Variant",
                        source_field="variant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stock_levels",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("on_hand", fields.IntField(default=0)),
                ("reserved", fields.IntField(default=0)),
                ("in_transit", fields.IntField(default=0)),
                ("damaged", fields.IntField(default=0)),
                ("reorder_point", fields.IntField(default=0)),
                ("version", fields.IntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "stock_level",
                "app": "models",
                "unique_together": (("branch", "variant"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StockMovement",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "posting",
                    fields.ForeignKeyField(
                        "models.StockPosting",
                        source_field="posting_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "variant",
                    fields.ForeignKeyField(
                        "models.Variant",
                        source_field="variant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("sequence", fields.BigIntField()),
                (
                    "bucket",
                    fields.CharEnumField(
                        description="ON_HAND: on_hand\nRESERVED: reserved\nIN_TRANSIT: in_transit\nDAMAGED: damaged",
                        enum_type=Bucket,
                        max_length=16,
                    ),
                ),
                ("delta", fields.IntField()),
                ("reason", fields.CharField(max_length=40)),
                (
                    "shopify_effect",
                    fields.CharEnumField(
                        description="PUSH: push\nSHOPIFY_KNOWS: shopify_knows\nFULFILLMENT: fulfillment\nNOT_SYNCED: not_synced",
                        enum_type=ShopifyEffect,
                        max_length=16,
                    ),
                ),
                ("on_hand_after", fields.IntField()),
                ("reserved_after", fields.IntField()),
                ("in_transit_after", fields.IntField()),
                ("damaged_after", fields.IntField()),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "stock_movement",
                "app": "models",
                "unique_together": (("branch", "sequence"),),
                "indexes": [Index(fields=["variant_id", "branch_id"])],
                "pk_attr": "id",
                "table_description": "Append-only: a movement is never updated or deleted.",
            },
            bases=["Model"],
        ),
    ]
