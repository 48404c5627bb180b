from tortoise import migrations
from tortoise.migrations import operations as ops
from models.orders import ExchangeKind, ExchangeStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0015_fulfillment_match")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OrderExchange",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="exchanges",
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
                        related_name="order_exchanges",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="BEFORE_DISPATCH: before_dispatch\nAFTER_DELIVERY: after_delivery",
                        enum_type=ExchangeKind,
                        max_length=20,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        description="PENDING: pending\nSYNCED: synced\nREFUSED: refused\nDONE: done",
                        enum_type=ExchangeStatus,
                        max_length=12,
                    ),
                ),
                ("lines", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("price_difference", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("courier", fields.CharField(null=True, max_length=80)),
                ("tracking_number", fields.CharField(null=True, max_length=120)),
                ("note", fields.TextField(null=True, unique=False)),
                ("error", fields.TextField(null=True, unique=False)),
                ("idempotency_key", fields.CharField(unique=True, max_length=200)),
                ("created_by", fields.CharField(default="system", max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "online_order_exchange",
                "app": "models",
                "indexes": [Index(fields=["order_id", "status"])],
                "pk_attr": "id",
                "table_description": "A customer's exchange on an online order, one document for both sides and the price difference.",
            },
            bases=["Model"],
        ),
    ]
