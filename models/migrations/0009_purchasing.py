"""Purchasing: suppliers, purchase orders, goods-received notes, and a variant's average unit cost."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.purchasing import PurchaseOrderStatus


def _fk(model: str, related_name: str, on_delete: OnDelete, source_field: str):
    return fields.ForeignKeyField(
        model,
        source_field=source_field,
        db_constraint=True,
        to_field="id",
        related_name=related_name,
        on_delete=on_delete,
    )


def _id():
    return fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)


def _cost(null: bool = False):
    return fields.DecimalField(null=null, max_digits=14, decimal_places=4)


def _when(null: bool = True):
    return fields.DatetimeField(null=null, auto_now=False, auto_now_add=False)


class Migration(migrations.Migration):
    dependencies = [("models", "0008_counts")]

    initial = False

    operations = [
        ops.AddField(model_name="Variant", name="average_cost", field=_cost(null=True)),
        ops.CreateModel(
            name="Supplier",
            fields=[
                ("id", _id()),
                ("name", fields.CharField(max_length=200)),
                ("phone", fields.CharField(null=True, max_length=40)),
                ("email", fields.CharField(null=True, max_length=255)),
                ("ntn", fields.CharField(null=True, unique=True, max_length=20)),
                ("active", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "supplier",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Who the retailer buys from. NTN is Pakistan's national tax number, when the "
                "supplier has one.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PurchaseOrder",
            fields=[
                ("id", _id()),
                ("number", fields.CharField(unique=True, max_length=20)),
                ("supplier", _fk("models.Supplier", "purchase_orders", OnDelete.RESTRICT, "supplier_id")),
                ("branch", _fk("models.Branch", "purchase_orders", OnDelete.RESTRICT, "branch_id")),
                (
                    "status",
                    fields.CharEnumField(
                        description="DRAFT: draft\nORDERED: ordered\nPARTIALLY_RECEIVED: partially_received\n"
                        "RECEIVED: received\nCLOSED: closed\nCANCELLED: cancelled",
                        enum_type=PurchaseOrderStatus,
                        max_length=20,
                    ),
                ),
                ("currency", fields.CharField(default="PKR", max_length=3)),
                ("expected_on", fields.DateField(null=True)),
                ("note", fields.CharField(null=True, max_length=1000)),
                ("created_by", fields.CharField(max_length=120)),
                ("created_by_staff_id", fields.IntField(null=True)),
                ("ordered_by", fields.CharField(null=True, max_length=120)),
                ("ordered_at", _when()),
                ("last_received_at", _when()),
                ("closed_by", fields.CharField(null=True, max_length=120)),
                ("closed_at", _when()),
                ("cancelled_by", fields.CharField(null=True, max_length=120)),
                ("cancelled_at", _when()),
                ("close_reason", fields.CharField(null=True, max_length=200)),
                ("version", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "purchase_order",
                "app": "models",
                "indexes": [Index(fields=["branch_id", "status"])],
                "pk_attr": "id",
                "table_description": "What a branch ordered from a supplier, and how much of it has arrived.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PurchaseOrderLine",
            fields=[
                ("id", _id()),
                ("purchase_order", _fk("models.PurchaseOrder", "lines", OnDelete.CASCADE, "purchase_order_id")),
                ("line_no", fields.IntField()),
                ("variant", _fk("models.Variant", "purchase_lines", OnDelete.RESTRICT, "variant_id")),
                ("quantity_ordered", fields.IntField()),
                ("unit_cost", _cost()),
                ("quantity_received", fields.IntField(default=0)),
                ("quantity_cancelled", fields.IntField(default=0)),
            ],
            options={
                "table": "purchase_order_line",
                "app": "models",
                "unique_together": (("purchase_order", "variant"), ("purchase_order", "line_no")),
                "pk_attr": "id",
                "table_description": "One variant on an order. received + cancelled <= ordered, and outstanding is "
                "the rest.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GoodsReceipt",
            fields=[
                ("id", _id()),
                ("number", fields.CharField(unique=True, max_length=60)),
                (
                    "purchase_order",
                    _fk("models.PurchaseOrder", "receipts", OnDelete.RESTRICT, "purchase_order_id"),
                ),
                ("branch", _fk("models.Branch", "goods_receipts", OnDelete.RESTRICT, "branch_id")),
                ("received_by", fields.CharField(max_length=120)),
                ("received_by_staff_id", fields.IntField(null=True)),
                ("received_at", _when(null=False)),
                ("note", fields.CharField(null=True, max_length=1000)),
                ("idempotency_key", fields.CharField(unique=True, max_length=200)),
                ("request_hash", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "goods_receipt",
                "app": "models",
                "indexes": [Index(fields=["purchase_order_id"])],
                "pk_attr": "id",
                "table_description": "A goods-received note (GRN): units of a purchase order counted in at its branch.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GoodsReceiptLine",
            fields=[
                ("id", _id()),
                ("goods_receipt", _fk("models.GoodsReceipt", "lines", OnDelete.CASCADE, "goods_receipt_id")),
                (
                    "purchase_order_line",
                    _fk("models.PurchaseOrderLine", "receipt_lines", OnDelete.RESTRICT, "purchase_order_line_id"),
                ),
                ("variant", _fk("models.Variant", "receipt_lines", OnDelete.RESTRICT, "variant_id")),
                ("quantity", fields.IntField()),
                ("unit_cost", _cost()),
                ("average_cost_before", _cost(null=True)),
                ("average_cost_after", _cost()),
                ("on_hand_before", fields.IntField()),
            ],
            options={
                "table": "goods_receipt_line",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Units of one order line received on a GRN, at what cost, and the average cost "
                "it left.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PurchasingNumberSequence",
            fields=[
                ("kind", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=8)),
                ("last_number", fields.IntField(default=0)),
            ],
            options={
                "table": "purchasing_number_sequence",
                "app": "models",
                "pk_attr": "kind",
                "table_description": "The last number handed out per document kind (po, grn), taken inside the "
                "creating transaction.",
            },
            bases=["Model"],
        ),
    ]
