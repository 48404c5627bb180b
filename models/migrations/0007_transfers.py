"""Transfers of stock between branches, and the discrepancies found on receipt."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.transfers import DiscrepancyKind, TransferStatus


def _fk(model: str, related_name: str, on_delete: OnDelete, source_field: str):
    return fields.ForeignKeyField(
        model,
        source_field=source_field,
        db_constraint=True,
        to_field="id",
        related_name=related_name,
        on_delete=on_delete,
    )


def _who(name: str) -> list[tuple]:
    return [
        (f"{name}_by", fields.CharField(null=True, max_length=120)),
        (f"{name}_by_staff_id", fields.IntField(null=True)),
        (f"{name}_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
    ]


class Migration(migrations.Migration):
    dependencies = [("models", "0006_shopify_import")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Transfer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", fields.CharField(unique=True, max_length=20)),
                ("source_branch", _fk("models.Branch", "transfers_out", OnDelete.RESTRICT, "source_branch_id")),
                (
                    "destination_branch",
                    _fk("models.Branch", "transfers_in", OnDelete.RESTRICT, "destination_branch_id"),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        description="DRAFT: draft\nREQUESTED: requested\nAPPROVED: approved\nIN_TRANSIT: in_transit\n"
                        "PARTIALLY_RECEIVED: partially_received\nRECEIVED: received\nCLOSED: closed\n"
                        "CANCELLED: cancelled",
                        enum_type=TransferStatus,
                        max_length=20,
                    ),
                ),
                ("note", fields.CharField(null=True, max_length=1000)),
                ("requested_by", fields.CharField(max_length=120)),
                ("requested_by_staff_id", fields.IntField(null=True)),
                ("requested_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                *_who("approved"),
                *_who("dispatched"),
                *_who("received"),
                ("closed_by", fields.CharField(null=True, max_length=120)),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("cancelled_by", fields.CharField(null=True, max_length=120)),
                ("cancelled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("version", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "transfer",
                "app": "models",
                "indexes": [
                    Index(fields=["source_branch_id", "status"]),
                    Index(fields=["destination_branch_id", "status"]),
                ],
                "pk_attr": "id",
                "table_description": "A request to move stock from one branch to another, and its progress.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TransferLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("transfer", _fk("models.Transfer", "lines", OnDelete.CASCADE, "transfer_id")),
                ("variant", _fk("models.Variant", "transfer_lines", OnDelete.RESTRICT, "variant_id")),
                ("quantity_requested", fields.IntField()),
                ("quantity_dispatched", fields.IntField(default=0)),
                ("quantity_received", fields.IntField(default=0)),
                ("quantity_damaged", fields.IntField(default=0)),
                ("quantity_missing", fields.IntField(default=0)),
            ],
            options={
                "table": "transfer_line",
                "app": "models",
                "unique_together": (("transfer", "variant"),),
                "pk_attr": "id",
                "table_description": "One variant on a transfer. dispatched <= requested and received + damaged"
                " + missing <= dispatched.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TransferDiscrepancy",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("transfer", _fk("models.Transfer", "discrepancies", OnDelete.CASCADE, "transfer_id")),
                ("line", _fk("models.TransferLine", "discrepancies", OnDelete.CASCADE, "line_id")),
                (
                    "kind",
                    fields.CharEnumField(
                        description="MISSING: missing\nDAMAGED: damaged", enum_type=DiscrepancyKind, max_length=10
                    ),
                ),
                ("quantity", fields.IntField()),
                ("reason", fields.CharField(max_length=200)),
                ("recorded_by", fields.CharField(max_length=120)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("returned_to_stock_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("returned_to_stock_by", fields.CharField(null=True, max_length=120)),
            ],
            options={
                "table": "transfer_discrepancy",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Units of a line that did not arrive sellable, with why. Returned to stock once at most.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TransferNumberSequence",
            fields=[
                ("id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("last_number", fields.IntField(default=0)),
            ],
            options={
                "table": "transfer_number_sequence",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The last transfer number handed out (a single row), taken inside the creating"
                " transaction.",
            },
            bases=["Model"],
        ),
    ]
