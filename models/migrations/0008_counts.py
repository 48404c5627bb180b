"""Stock counts and their lines."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.counts import CountKind, CountStatus


def _fk(model: str, related_name: str, on_delete: OnDelete, source_field: str):
    return fields.ForeignKeyField(
        model,
        source_field=source_field,
        db_constraint=True,
        to_field="id",
        related_name=related_name,
        on_delete=on_delete,
    )


def _when(name: str) -> tuple:
    return (name, fields.DatetimeField(null=True, auto_now=False, auto_now_add=False))


class Migration(migrations.Migration):
    dependencies = [("models", "0007_transfers")]

    initial = False

    operations = [
        ops.CreateModel(
            name="StockCount",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("branch", _fk("models.Branch", "stock_counts", OnDelete.RESTRICT, "branch_id")),
                (
                    "kind",
                    fields.CharEnumField(description="FULL: full\nCYCLE: cycle", enum_type=CountKind, max_length=10),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=CountStatus.OPEN,
                        description="OPEN: open\nREVIEW: review\nAPPROVED: approved\nABANDONED: abandoned",
                        enum_type=CountStatus,
                        max_length=10,
                    ),
                ),
                ("blind", fields.BooleanField(default=False)),
                ("product_type", fields.CharField(null=True, max_length=120)),
                ("start_sequence", fields.BigIntField()),
                ("zero_uncounted", fields.BooleanField(default=False)),
                ("note", fields.CharField(null=True, max_length=1000)),
                ("opened_by", fields.CharField(max_length=120)),
                ("opened_by_staff_id", fields.IntField(null=True)),
                ("submitted_by", fields.CharField(null=True, max_length=120)),
                _when("submitted_at"),
                ("approved_by", fields.CharField(null=True, max_length=120)),
                ("approved_by_staff_id", fields.IntField(null=True)),
                _when("approved_at"),
                ("abandoned_by", fields.CharField(null=True, max_length=120)),
                _when("abandoned_at"),
                ("posting_id", fields.IntField(null=True)),
                ("version", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "stock_count",
                "app": "models",
                "indexes": [Index(fields=["branch_id", "status"])],
                "pk_attr": "id",
                "table_description": "A count of (part of) one branch's stock, from opening to approval.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StockCountLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("count", _fk("models.StockCount", "lines", OnDelete.CASCADE, "count_id")),
                ("variant", _fk("models.Variant", "count_lines", OnDelete.RESTRICT, "variant_id")),
                ("expected_at_start", fields.IntField()),
                ("counted", fields.IntField(null=True)),
                ("counted_through_sequence", fields.BigIntField(null=True)),
                _when("counted_at"),
                ("movements_since_start", fields.IntField(null=True)),
                ("variance", fields.IntField(null=True)),
            ],
            options={
                "table": "stock_count_line",
                "app": "models",
                "unique_together": (("count", "variant"),),
                "pk_attr": "id",
                "table_description": "One variant in a count: expected when the count opened, and what the counters"
                " found.",
            },
            bases=["Model"],
        ),
    ]
