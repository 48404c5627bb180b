from tortoise import migrations
from tortoise.migrations import operations as ops
from models.drift import DriftCheckStatus, DriftLineStatus, DriftRepairStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0013_webhook_inbox")]

    initial = False

    operations = [
        ops.CreateModel(
            name="DriftCheck",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=DriftCheckStatus.RUNNING,
                        description="RUNNING: running\nCOMPLETED: completed\nFAILED: failed",
                        enum_type=DriftCheckStatus,
                        max_length=12,
                    ),
                ),
                ("running", fields.CharField(null=True, unique=True, max_length=8)),
                ("requested_by", fields.CharField(default="system", max_length=120)),
                ("bulk_operation_id", fields.CharField(null=True, max_length=120)),
                ("levels_compared", fields.IntField(default=0)),
                ("explained", fields.IntField(default=0)),
                ("unexplained", fields.IntField(default=0)),
                ("moving", fields.IntField(default=0)),
                ("error_code", fields.CharField(null=True, max_length=40)),
                ("error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("export_started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("heartbeat_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "drift_check",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One comparison of every mapped Shopify inventory level with Branchline's stock.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DriftLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "check",
                    fields.ForeignKeyField(
                        "models.DriftCheck",
                        source_field="check_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
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
                        related_name="drift_lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "variant",
                    fields.ForeignKeyField(
                        "models.Variant",
                        source_field="variant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="drift_lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("inventory_item_id", fields.CharField(max_length=80)),
                ("location_id", fields.CharField(max_length=80)),
                ("shopify_stocked", fields.BooleanField(default=True)),
                ("shopify_available", fields.IntField(default=0)),
                ("shopify_committed", fields.IntField(default=0)),
                ("shopify_reserved", fields.IntField(default=0)),
                ("shopify_damaged", fields.IntField(default=0)),
                ("shopify_on_hand", fields.IntField(default=0)),
                ("branchline_on_hand", fields.IntField(default=0)),
                ("branchline_reserved", fields.IntField(default=0)),
                ("branchline_damaged", fields.IntField(default=0)),
                ("difference", fields.IntField(default=0)),
                ("damaged_difference", fields.IntField(default=0)),
                ("in_flight", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("unexplained", fields.IntField(default=0)),
                ("unexplained_damaged", fields.IntField(default=0)),
                (
                    "status",
                    fields.CharEnumField(
                        description="EXPLAINED: explained\nUNEXPLAINED: unexplained\nMOVING: moving",
                        enum_type=DriftLineStatus,
                        max_length=12,
                    ),
                ),
                ("explanation", fields.TextField(default="", unique=False)),
                (
                    "repair_status",
                    fields.CharEnumField(
                        null=True,
                        description="REPAIRED: repaired\nCHANGED: changed\nFAILED: failed",
                        enum_type=DriftRepairStatus,
                        max_length=12,
                    ),
                ),
                ("repair_message", fields.TextField(null=True, unique=False)),
                ("repaired_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("repaired_by", fields.CharField(null=True, max_length=120)),
            ],
            options={
                "table": "drift_line",
                "app": "models",
                "unique_together": (("check", "branch", "variant"),),
                "pk_attr": "id",
                "table_description": "One (branch, variant) whose Shopify level differs from Branchline's, and why.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DriftSignal",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("inventory_item_id", fields.CharField(max_length=80)),
                ("location_id", fields.CharField(max_length=80)),
                ("available", fields.IntField(null=True)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "drift_signal",
                "app": "models",
                "unique_together": (("inventory_item_id", "location_id"),),
                "pk_attr": "id",
                "table_description": "Shopify said a level changed (inventory_levels/update), one row per level, kept fresh.",
            },
            bases=["Model"],
        ),
    ]
