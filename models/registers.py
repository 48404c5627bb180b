"""Cash registers (one open per counter), cashier shifts inside them, and cash in/out logs."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RegisterStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CashMovementKind(StrEnum):
    CASH_IN = "cash_in"  # e.g. change brought from the bank
    CASH_OUT = "cash_out"  # e.g. paid the tea boy, banked the takings


class Register(Model):
    id = fields.IntField(primary_key=True)
    counter = fields.ForeignKeyField("models.Counter", related_name="registers", on_delete=fields.RESTRICT)
    branch = fields.ForeignKeyField("models.Branch", related_name="registers", on_delete=fields.RESTRICT)
    # Equals counter_id while open, NULL once closed: UNIQUE makes "one open register per counter"
    # a database fact on SQLite and PostgreSQL alike (NULLs never collide).
    open_counter_id = fields.IntField(null=True, unique=True)
    status = fields.CharEnumField(RegisterStatus, max_length=10, default=RegisterStatus.OPEN)
    opening_float = fields.DecimalField(max_digits=14, decimal_places=2)
    opened_by = fields.ForeignKeyField("models.Staff", related_name="registers_opened", on_delete=fields.RESTRICT)
    opened_at = fields.DatetimeField(auto_now_add=True)
    closed_by = fields.ForeignKeyField(
        "models.Staff", related_name="registers_closed", null=True, on_delete=fields.RESTRICT
    )
    closed_at = fields.DatetimeField(null=True)
    expected_cash = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    counted_cash = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    over_short = fields.DecimalField(max_digits=14, decimal_places=2, null=True)  # counted − expected
    counted_denominations = fields.JSONField(null=True)  # {"5000": 3, "1000": 7, ...}
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)

    class Meta:
        table = "register"
        ordering = ["id"]


class Shift(Model):
    """The time one cashier works at an open register (sales and cash logs record it)."""

    id = fields.IntField(primary_key=True)
    register = fields.ForeignKeyField("models.Register", related_name="shifts", on_delete=fields.RESTRICT)
    cashier = fields.ForeignKeyField("models.Staff", related_name="shifts", on_delete=fields.RESTRICT)
    started_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "shift"
        ordering = ["id"]


class CashMovement(Model):
    id = fields.IntField(primary_key=True)
    register = fields.ForeignKeyField("models.Register", related_name="cash_movements", on_delete=fields.RESTRICT)
    shift = fields.ForeignKeyField("models.Shift", related_name="cash_movements", null=True, on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(CashMovementKind, max_length=10)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    reason = fields.CharField(max_length=200)
    staff = fields.ForeignKeyField("models.Staff", related_name="cash_movements", on_delete=fields.RESTRICT)
    at = fields.DatetimeField(auto_now_add=True)
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)

    class Meta:
        table = "cash_movement"
        ordering = ["id"]
