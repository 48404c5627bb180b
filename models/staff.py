"""Staff, their branches, sign-in sessions, and the audit log."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BRANCH_MANAGER = "branch_manager"
    CASHIER = "cashier"
    INVENTORY = "inventory"
    FINANCE = "finance"


class Staff(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)  # stored lower-case
    name = fields.CharField(max_length=120)
    role = fields.CharEnumField(Role, max_length=20)
    password_hash = fields.CharField(max_length=200, null=True)  # argon2; null: PIN-only cashier
    # HMAC of the PIN under the server secret: lets a counter find the cashier by PIN alone.
    # A few digits are guessable whatever the hash; the guess limits (operations/kernel/attempts.py) protect them.
    pin_digest = fields.CharField(max_length=64, null=True, db_index=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff"
        ordering = ["id"]


class StaffBranch(Model):
    """Which branches a staff member works at (owners and admins see all without rows here)."""

    id = fields.IntField(primary_key=True)
    staff = fields.ForeignKeyField("models.Staff", related_name="branch_links", on_delete=fields.CASCADE)
    branch = fields.ForeignKeyField("models.Branch", related_name="staff_links", on_delete=fields.CASCADE)

    class Meta:
        table = "staff_branch"
        unique_together = (("staff", "branch"),)


class StaffSession(Model):
    """An opaque bearer token, stored only as its SHA-256: a database leak yields no usable token."""

    id = fields.IntField(primary_key=True)
    token_digest = fields.CharField(max_length=64, unique=True)
    staff = fields.ForeignKeyField("models.Staff", related_name="sessions", on_delete=fields.CASCADE)
    counter = fields.ForeignKeyField("models.Counter", related_name="sessions", null=True, on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_session"


class GuessLimit(Model):
    """Guesses of a secret (password, PIN) counted per scope, e.g. a counter, a branch, a client address.

    `attempts` counts the guesses in the current window that failed or are still being checked. Times
    are epoch seconds, so the guards compare numbers on both engines. `locks` counts the locks in a
    row, for the escalating lock length.
    """

    scope_key = fields.CharField(max_length=300, primary_key=True)
    attempts = fields.IntField(default=0)
    window_started = fields.FloatField(default=0)
    locked_until = fields.FloatField(default=0)
    locks = fields.IntField(default=0)
    last_locked = fields.FloatField(default=0)

    class Meta:
        table = "guess_limit"


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor_staff_id = fields.IntField(null=True)
    actor = fields.CharField(max_length=120)  # "staff:12 (Ayesha Khan)", "system", "shopify"
    action = fields.CharField(max_length=60)
    branch_id = fields.IntField(null=True, db_index=True)
    target_type = fields.CharField(max_length=40, null=True)
    target_id = fields.CharField(max_length=80, null=True)
    approved_by_staff_id = fields.IntField(null=True)  # manager override
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        ordering = ["id"]
