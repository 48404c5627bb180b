"""Loyalty points: a wallet per customer, its append-only ledger, and a branch's earn rate.

The CHECKs are added after the tables are made (Tortoise 1.1 drops Meta.constraints at table
creation: migration 0002 says more); on SQLite adding one rebuilds the table, which loses its
indexes, so they are put back at the end.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import CheckConstraint

from models.loyalty import CHECKS, LoyaltyKind

SQLITE_INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_loyalty_entry_idempotency_key" ON "loyalty_entry" ("idempotency_key")',
    'CREATE INDEX IF NOT EXISTS "idx_loyalty_entry_customer_id" ON "loyalty_entry" ("customer_id", "id")',
    'CREATE INDEX IF NOT EXISTS "idx_loyalty_entry_kind_expires" ON "loyalty_entry" ("kind", "expires_at")',
]


async def restore_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for sql in SQLITE_INDEXES:
        await schema_editor.client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [("models", "0020_catalog_edits")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LoyaltyEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "models.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="loyalty_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="EARN: earn\nREDEEM: redeem\nREFUND: refund\nCLAWBACK: clawback\nEXPIRE: expire"
                        "\nADJUST: adjust",
                        enum_type=LoyaltyKind,
                        max_length=10,
                    ),
                ),
                ("points", fields.IntField()),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="loyalty_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="loyalty_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "sale_return",
                    fields.ForeignKeyField(
                        "models.SaleReturn",
                        source_field="sale_return_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="loyalty_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "earned_entry",
                    fields.ForeignKeyField(
                        "models.LoyaltyEntry",
                        source_field="earned_entry_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="expiries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("idempotency_key", fields.CharField(unique=True, max_length=255)),
                ("note", fields.CharField(null=True, max_length=300)),
                ("actor", fields.CharField(default="system", max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "loyalty_entry",
                "app": "models",
                "indexes": [Index(fields=["customer_id", "id"]), Index(fields=["kind", "expires_at"])],
                "pk_attr": "id",
                "table_description": "Append-only: an entry is never updated or deleted.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LoyaltyWallet",
            fields=[
                ("customer_id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("balance", fields.IntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "loyalty_wallet",
                "app": "models",
                "pk_attr": "customer_id",
                "table_description": "A customer's points balance: the sum of their loyalty entries, never below zero.",
            },
            bases=["Model"],
        ),
        *(
            ops.AddConstraint(model_name=model, constraint=CheckConstraint(check=check, name=name))
            for model, name, check in CHECKS
        ),
        ops.RunPython(restore_sqlite_indexes, ops.RunPython.noop),
        ops.AddField(
            model_name="Branch",
            name="loyalty_points_per_100_pkr",
            field=fields.DecimalField(null=True, max_digits=8, decimal_places=2),
        ),
    ]
