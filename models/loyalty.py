"""Loyalty points: a wallet per customer and its append-only ledger of entries.

The wallet's balance is always the sum of its customer's entries (operations/directory/loyalty.py is
the only writer of both, and `check_loyalty` proves it). CHECK constraints back its guards: a wallet
never goes below zero, and each kind of entry moves points one way only.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class LoyaltyKind(StrEnum):
    EARN = "earn"  # points for what a sale paid (not with points)
    REDEEM = "redeem"  # points spent as a LOYALTY tender
    REFUND = "refund"  # points a return or void gives back: the share of the goods paid with points
    CLAWBACK = "clawback"  # earned points taken back when goods come back (0 when already spent)
    EXPIRE = "expire"  # an earn's unused points, after the retailer's expiry (0 when all were used)
    ADJUST = "adjust"  # a manager's correction, with a reason


# (model, name, check): migration 0022 adds them (Tortoise 1.1 drops Meta.constraints at table creation).
CHECKS: list[tuple[str, str, str]] = [
    ("LoyaltyWallet", "loyalty_wallet_balance_not_negative", "balance >= 0"),
    (
        "LoyaltyEntry",
        "loyalty_entry_points_by_kind",
        "(kind IN ('earn', 'refund') AND points > 0) OR (kind = 'redeem' AND points < 0)"
        " OR (kind IN ('clawback', 'expire') AND points <= 0) OR (kind = 'adjust' AND points <> 0)",
    ),
]


def _checks(model: str) -> list[CheckConstraint]:
    return [CheckConstraint(check=check, name=name) for m, name, check in CHECKS if m == model]


class LoyaltyWallet(Model):
    """A customer's points balance: the sum of their loyalty entries, never below zero."""

    customer_id = fields.IntField(primary_key=True, generated=False)
    balance = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "loyalty_wallet"
        constraints = _checks("LoyaltyWallet")


class LoyaltyEntry(Model):
    """Append-only: an entry is never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    customer = fields.ForeignKeyField("models.Customer", related_name="loyalty_entries", on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(LoyaltyKind, max_length=10)
    points = fields.IntField()  # signed: what this entry did to the balance
    branch = fields.ForeignKeyField(
        "models.Branch", related_name="loyalty_entries", null=True, on_delete=fields.RESTRICT
    )
    sale = fields.ForeignKeyField("models.Sale", related_name="loyalty_entries", null=True, on_delete=fields.RESTRICT)
    sale_return = fields.ForeignKeyField(
        "models.SaleReturn", related_name="loyalty_entries", null=True, on_delete=fields.RESTRICT
    )
    # An EXPIRE names the EARN it answers for (one each: its key is expire:<earn id>).
    earned_entry = fields.ForeignKeyField(
        "models.LoyaltyEntry", related_name="expiries", null=True, on_delete=fields.RESTRICT
    )
    expires_at = fields.DatetimeField(null=True)  # an EARN's, when the retailer lets points expire
    idempotency_key = fields.CharField(max_length=255, unique=True)
    note = fields.CharField(max_length=300, null=True)
    actor = fields.CharField(max_length=120, default="system")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "loyalty_entry"
        ordering = ["id"]
        constraints = _checks("LoyaltyEntry")
        indexes = (("customer_id", "id"), ("kind", "expires_at"))
