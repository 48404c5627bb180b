"""Reports: a sale line's cost of goods, salesperson commission rates, and export jobs.

`sale_line.unit_cost` is filled at checkout (and when a draft is placed) from the variant's weighted
average cost. Lines sold before this migration get the variant's average cost as it is now: the cost at
the time of those sales was never recorded, and today's is the closest figure there is.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.reports import ExportFormat, ExportStatus


async def cost_sold_lines(apps, schema_editor) -> None:
    await schema_editor.client.execute_script(
        "UPDATE sale_line SET unit_cost = (SELECT v.average_cost FROM variant v WHERE v.id = sale_line.variant_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0022_fiscal")]

    initial = False

    operations = [
        ops.AddField(
            model_name="SaleLine",
            name="unit_cost",
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=4),
        ),
        ops.RunPython(cost_sold_lines, ops.RunPython.noop),
        ops.CreateModel(
            name="CommissionRate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="staff_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="commission_rates",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("product_type", fields.CharField(null=True, max_length=120)),
                ("percent", fields.DecimalField(max_digits=5, decimal_places=2)),
                ("effective_from", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("set_by", fields.CharField(max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "commission_rate",
                "app": "models",
                "pk_attr": "id",
                "indexes": [Index(fields=["staff_id", "effective_from"])],
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReportExport",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("report", fields.CharField(max_length=40)),
                ("format", fields.CharEnumField(enum_type=ExportFormat, max_length=8)),
                ("parameters", fields.JSONField()),
                ("status", fields.CharEnumField(default=ExportStatus.RUNNING, enum_type=ExportStatus, max_length=10)),
                ("rows_written", fields.IntField(default=0)),
                ("path", fields.CharField(null=True, max_length=500)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "requested_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="requested_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="exports",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("branch_ids", fields.JSONField(null=True)),
                ("error", fields.TextField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "report_export", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
