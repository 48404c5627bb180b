from tortoise import migrations
from tortoise.migrations import operations as ops
from models.inbox import InboxStatus
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0012_online_orders")]

    initial = False

    operations = [
        ops.CreateModel(
            name="WebhookInbox",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("webhook_id", fields.CharField(unique=True, max_length=100)),
                ("business_key", fields.CharField(unique=True, max_length=255)),
                ("event_id", fields.CharField(null=True, max_length=100)),
                ("topic", fields.CharField(max_length=80)),
                ("shop_domain", fields.CharField(default="", max_length=255)),
                ("resource_key", fields.CharField(null=True, max_length=160)),
                ("subject", fields.CharField(null=True, max_length=200)),
                ("shopify_updated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("triggered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("payload", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("body", fields.TextField(null=True, unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=InboxStatus.PENDING,
                        description="PENDING: pending\nPROCESSING: processing\nRETRYING: retrying\nDONE: done\nSTALE: stale\nIGNORED: ignored\nEXCEPTION: exception\nPARKED: parked",
                        enum_type=InboxStatus,
                        max_length=12,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("claimed_by", fields.CharField(null=True, max_length=64)),
                ("error_code", fields.CharField(null=True, max_length=40)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("duplicates", fields.IntField(default=0)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("processed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "webhook_inbox",
                "app": "models",
                "indexes": [
                    Index(fields=["status", "next_attempt_at"]),
                    Index(fields=["resource_key", "id"]),
                    Index(fields=["subject", "topic"]),
                ],
                "pk_attr": "id",
                "table_description": "One webhook as Shopify sent it, deduplicated by delivery id and by content.",
            },
            bases=["Model"],
        ),
    ]
