from tortoise import migrations
from tortoise.migrations import operations as ops
from models.staff import Role
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0002_check_constraints")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("actor_staff_id", fields.IntField(null=True)),
                ("actor", fields.CharField(max_length=120)),
                ("action", fields.CharField(max_length=60)),
                ("branch_id", fields.IntField(null=True, db_index=True)),
                ("target_type", fields.CharField(null=True, max_length=40)),
                ("target_id", fields.CharField(null=True, max_length=80)),
                ("approved_by_staff_id", fields.IntField(null=True)),
                ("detail", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={"table": "audit_entry", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CounterLock",
            fields=[
                ("counter_id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("failed_pins", fields.IntField(default=0)),
                ("locked_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "counter_lock",
                "app": "models",
                "pk_attr": "counter_id",
                "table_description": "Wrong PINs per counter: after a few, the counter refuses PINs for a while.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Staff",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("name", fields.CharField(max_length=120)),
                (
                    "role",
                    fields.CharEnumField(
                        description="OWNER: owner\nADMIN: admin\nBRANCH_MANAGER: branch_manager\nCASHIER: cashier\nINVENTORY: inventory\nFINANCE: finance",
                        enum_type=Role,
                        max_length=20,
                    ),
                ),
                ("password_hash", fields.CharField(null=True, max_length=200)),
                ("pin_digest", fields.CharField(null=True, db_index=True, max_length=64)),
                ("active", fields.BooleanField(default=True)),
                ("failed_logins", fields.IntField(default=0)),
                ("locked_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "staff", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffBranch",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="staff_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="branch_links",
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
                        related_name="staff_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "staff_branch",
                "app": "models",
                "unique_together": (("staff", "branch"),),
                "pk_attr": "id",
                "table_description": "Which branches a staff member works at (owners and admins see all without rows here).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffSession",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_digest", fields.CharField(unique=True, max_length=64)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="staff_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "counter",
                    fields.ForeignKeyField(
                        "models.Counter",
                        source_field="counter_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "staff_session",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An opaque bearer token, stored only as its SHA-256: a database leak yields no usable token.",
            },
            bases=["Model"],
        ),
    ]
