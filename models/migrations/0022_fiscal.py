"""Fiscal reporting (docs/fbr.md): each counter's POSID and registration, each branch's authority, the tokens,
and one fiscal document per sale, return or void."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.fiscal import FiscalAuthority, FiscalKind, FiscalStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0021_loyalty")]

    initial = False

    operations = [
        ops.CreateModel(
            name="FiscalCredential",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "authority",
                    fields.CharEnumField(
                        unique=True, description="FBR: fbr\nPRA: pra", enum_type=FiscalAuthority, max_length=8
                    ),
                ),
                ("token_encrypted", fields.TextField(unique=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "fiscal_credential",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The token one authority gave this retailer (one deployment serves one retailer), encrypted at rest.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FiscalDocument",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="INVOICE: invoice\nCREDIT_NOTE: credit_note", enum_type=FiscalKind, max_length=12
                    ),
                ),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fiscal_documents",
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
                        related_name="fiscal_documents",
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
                        related_name="fiscal_documents",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "counter",
                    fields.ForeignKeyField(
                        "models.Counter",
                        source_field="counter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fiscal_documents",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "authority",
                    fields.CharEnumField(description="FBR: fbr\nPRA: pra", enum_type=FiscalAuthority, max_length=8),
                ),
                ("pos_id", fields.CharField(null=True, max_length=20)),
                ("usin", fields.CharField(unique=True, max_length=60)),
                ("ref_usin", fields.CharField(null=True, max_length=60)),
                (
                    "status",
                    fields.CharEnumField(
                        description="NOT_FISCALISED: not_fiscalised\nPENDING: pending\nFISCALISED: fiscalised\nRECORDED: recorded\nREFUSED: refused",
                        enum_type=FiscalStatus,
                        max_length=16,
                    ),
                ),
                ("flag", fields.CharField(null=True, max_length=300)),
                ("fiscal_number", fields.CharField(null=True, max_length=40)),
                ("qr_content", fields.CharField(null=True, max_length=300)),
                ("payload", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("answer", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("error", fields.TextField(null=True, unique=False)),
                ("issued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("reported_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "fiscal_document",
                "app": "models",
                "indexes": [
                    Index(fields=["status", "issued_at"]),
                    Index(fields=["sale_id"]),
                    Index(fields=["sale_return_id"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Branch",
            name="fiscal_authority",
            field=fields.CharField(default="fbr", db_default="fbr", max_length=8),
        ),
        ops.AddField(
            model_name="Counter",
            name="fiscal_pos_id",
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name="Counter",
            name="fiscal_registered",
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
