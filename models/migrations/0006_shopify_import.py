from tortoise import migrations
from tortoise.migrations import operations as ops
from models.shopify import ConnectionStatus, ImportStatus
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0005_return_numbers")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Customer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("shopify_customer_id", fields.CharField(null=True, unique=True, max_length=80)),
                ("first_name", fields.CharField(default="", max_length=120)),
                ("last_name", fields.CharField(default="", max_length=120)),
                ("email", fields.CharField(null=True, max_length=255)),
                ("phone", fields.CharField(null=True, max_length=40)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "customer", "app": "models", "indexes": [Index(fields=["phone"])], "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ImportJob",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("source", fields.CharField(max_length=16)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ImportStatus.QUEUED,
                        description="QUEUED: queued\nRUNNING: running\nCOMPLETED: completed\nFAILED: failed",
                        enum_type=ImportStatus,
                        max_length=12,
                    ),
                ),
                ("phase", fields.CharField(default="queued", max_length=32)),
                ("objects_done", fields.BigIntField(default=0)),
                ("objects_total", fields.BigIntField(null=True)),
                ("rate", fields.FloatField(default=0)),
                ("counts", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("warnings", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("error_code", fields.CharField(null=True, max_length=40)),
                ("error", fields.TextField(null=True, unique=False)),
                ("bulk_operations", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("create_branches", fields.BooleanField(default=True)),
                ("requested_by", fields.CharField(default="system", max_length=120)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
                ("running", fields.CharField(null=True, unique=True, max_length=8)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("heartbeat_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "import_job",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One run of the catalog import. Progress is written as it goes so any process can show it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ShopifyConnection",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("shop_domain", fields.CharField(unique=True, max_length=255)),
                ("shop_name", fields.CharField(default="", max_length=255)),
                ("currency", fields.CharField(default="PKR", max_length=3)),
                ("api_version", fields.CharField(max_length=10)),
                ("base_url", fields.CharField(null=True, max_length=255)),
                ("access_token_encrypted", fields.TextField(unique=False)),
                ("client_secret_encrypted", fields.TextField(unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ConnectionStatus.CONNECTED,
                        description="CONNECTED: connected\nDISCONNECTED: disconnected",
                        enum_type=ConnectionStatus,
                        max_length=16,
                    ),
                ),
                ("webhook_subscriptions", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("connected_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("disconnected_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "shopify_connection",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The one Shopify shop this deployment serves. Tokens are Fernet-encrypted (operations/secrets.py).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ShopifyLocation",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("shopify_location_id", fields.CharField(unique=True, max_length=80)),
                ("name", fields.CharField(max_length=255)),
                ("active", fields.BooleanField(default=True)),
                ("address", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("ignored", fields.BooleanField(default=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "shopify_location",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A Shopify location seen by an import. Which branch it is lives on `Branch.shopify_location_id`.",
            },
            bases=["Model"],
        ),
    ]
