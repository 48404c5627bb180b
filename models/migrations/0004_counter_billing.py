from tortoise import migrations
from tortoise.migrations import operations as ops
from models.outbox import OutboxStatus
from models.registers import CashMovementKind, RegisterStatus
from models.sales import Restock, SaleStatus, TenderType
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0003_staff")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OutboxRow",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("topic", fields.CharField(max_length=60)),
                ("key", fields.CharField(unique=True, max_length=200)),
                ("payload", fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                (
                    "status",
                    fields.CharEnumField(
                        default=OutboxStatus.PENDING,
                        description="PENDING: pending\nDONE: done\nPARKED: parked",
                        enum_type=OutboxStatus,
                        max_length=10,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "outbox",
                "app": "models",
                "indexes": [Index(fields=["status", "next_attempt_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Register",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "counter",
                    fields.ForeignKeyField(
                        "models.Counter",
                        source_field="counter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="registers",
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
                        related_name="registers",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("open_counter_id", fields.IntField(null=True, unique=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=RegisterStatus.OPEN,
                        description="OPEN: open\nCLOSED: closed",
                        enum_type=RegisterStatus,
                        max_length=10,
                    ),
                ),
                ("opening_float", fields.DecimalField(max_digits=14, decimal_places=2)),
                (
                    "opened_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="opened_by_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="registers_opened",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("opened_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "closed_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="closed_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="registers_closed",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("expected_cash", fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ("counted_cash", fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ("over_short", fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ("counted_denominations", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
            ],
            options={"table": "register", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SaleNumberSequence",
            fields=[
                ("counter_id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("last_number", fields.IntField(default=0)),
            ],
            options={
                "table": "sale_number_sequence",
                "app": "models",
                "pk_attr": "counter_id",
                "table_description": "The last sale number handed out per counter (sale numbers run per branch and counter).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Shift",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "register",
                    fields.ForeignKeyField(
                        "models.Register",
                        source_field="register_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="shifts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "cashier",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="cashier_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="shifts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "shift",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The time one cashier works at an open register (sales and cash logs record it).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CashMovement",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "register",
                    fields.ForeignKeyField(
                        "models.Register",
                        source_field="register_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="cash_movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "shift",
                    fields.ForeignKeyField(
                        "models.Shift",
                        source_field="shift_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="cash_movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="CASH_IN: cash_in\nCASH_OUT: cash_out", enum_type=CashMovementKind, max_length=10
                    ),
                ),
                ("amount", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("reason", fields.CharField(max_length=200)),
                (
                    "staff",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="staff_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="cash_movements",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
            ],
            options={"table": "cash_movement", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Sale",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", fields.CharField(null=True, unique=True, max_length=60)),
                (
                    "branch",
                    fields.ForeignKeyField(
                        "models.Branch",
                        source_field="branch_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
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
                        related_name="sales",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "register",
                    fields.ForeignKeyField(
                        "models.Register",
                        source_field="register_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "shift",
                    fields.ForeignKeyField(
                        "models.Shift",
                        source_field="shift_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "cashier",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="cashier_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "salesperson",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="salesperson_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales_made",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("customer_name", fields.CharField(null=True, max_length=120)),
                ("customer_phone", fields.CharField(null=True, max_length=30)),
                (
                    "status",
                    fields.CharEnumField(
                        description="DRAFT: draft\nPLACED: placed\nUPDATED: updated\nREFUNDED: refunded\nVOIDED: voided",
                        enum_type=SaleStatus,
                        max_length=10,
                    ),
                ),
                ("is_quote", fields.BooleanField(default=False)),
                ("tax_inclusive", fields.BooleanField(default=True)),
                ("currency", fields.CharField(default="PKR", max_length=3)),
                ("order_discount", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("subtotal", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("discount_total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("net_total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("tax_total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("paid", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("change_due", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("cash_taken", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("refunded_total", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
                ("request_hash", fields.CharField(null=True, max_length=64)),
                ("offline_id", fields.CharField(null=True, unique=True, max_length=100)),
                ("oversold", fields.BooleanField(default=False)),
                (
                    "approved_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="approved_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales_approved",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("reservation_key", fields.CharField(null=True, max_length=200)),
                ("reservation_expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("note", fields.CharField(null=True, max_length=500)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("placed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("voided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "sale", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SaleLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("line_no", fields.IntField()),
                (
                    "variant",
                    fields.ForeignKeyField(
                        "models.Variant",
                        source_field="variant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sale_lines",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("sku", fields.CharField(max_length=64)),
                ("description", fields.CharField(max_length=255)),
                ("quantity", fields.IntField()),
                ("unit_price", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("price_overridden", fields.BooleanField(default=False)),
                ("tax_rate", fields.DecimalField(max_digits=5, decimal_places=2)),
                ("pct_code", fields.CharField(null=True, max_length=16)),
                ("line_discount", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("order_discount", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("net", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("tax", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("total", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("returned_quantity", fields.IntField(default=0)),
            ],
            options={"table": "sale_line", "app": "models", "unique_together": (("sale", "line_no"),), "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SaleReturn",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", fields.CharField(unique=True, max_length=60)),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="returns",
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
                        related_name="returns",
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
                        related_name="returns",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "register",
                    fields.ForeignKeyField(
                        "models.Register",
                        source_field="register_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="returns",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "shift",
                    fields.ForeignKeyField(
                        "models.Shift",
                        source_field="shift_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="returns",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "cashier",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="cashier_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="returns",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "approved_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="approved_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="returns_approved",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "exchange_sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="exchange_sale_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="exchanged_from",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("net", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("tax", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("total", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("cash_paid_out", fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ("reason", fields.CharField(null=True, max_length=200)),
                ("idempotency_key", fields.CharField(null=True, unique=True, max_length=200)),
                ("request_hash", fields.CharField(null=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "sale_return",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A return against one original sale, at any branch (an exchange links it to a new sale).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReturnLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "sale_return",
                    fields.ForeignKeyField(
                        "models.SaleReturn",
                        source_field="sale_return_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="lines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "sale_line",
                    fields.ForeignKeyField(
                        "models.SaleLine",
                        source_field="sale_line_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="return_lines",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("quantity", fields.IntField()),
                (
                    "restock",
                    fields.CharEnumField(
                        description="RESTOCK: restock\nNO_RESTOCK: no_restock\nDAMAGED: damaged",
                        enum_type=Restock,
                        max_length=12,
                    ),
                ),
                ("discount", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("net", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("tax", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("total", fields.DecimalField(max_digits=14, decimal_places=2)),
            ],
            options={"table": "return_line", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Tender",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="tenders",
                        on_delete=OnDelete.CASCADE,
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
                        related_name="tenders",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "type",
                    fields.CharEnumField(
                        description="CASH: cash\nCARD: card\nBANK: bank", enum_type=TenderType, max_length=10
                    ),
                ),
                ("amount", fields.DecimalField(max_digits=14, decimal_places=2)),
                ("reference", fields.CharField(null=True, max_length=100)),
                ("account", fields.CharField(null=True, max_length=100)),
            ],
            options={"table": "tender", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
