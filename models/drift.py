"""Reconciliation with Shopify: each drift check, the differences it found, and Shopify's change signals."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DriftCheckStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class DriftLineStatus(StrEnum):
    EXPLAINED = "explained"  # the whole difference is work in flight (pushes, fulfillments, webhooks)
    UNEXPLAINED = "unexplained"  # drift: nothing Branchline knows of accounts for it
    MOVING = "moving"  # stock moved while the check ran: the two sides were read at different moments


class DriftRepairStatus(StrEnum):
    REPAIRED = "repaired"
    CHANGED = "changed"  # Shopify's level changed since the check: the compare-and-swap refused
    FAILED = "failed"


class DriftCheck(Model):
    """One comparison of every mapped Shopify inventory level with Branchline's stock."""

    id = fields.IntField(primary_key=True)
    status = fields.CharEnumField(DriftCheckStatus, max_length=12, default=DriftCheckStatus.RUNNING)
    # "running" while the check runs, NULL after: the unique index lets one check run at a time
    # across every server process, as ImportJob.running does for imports.
    running = fields.CharField(max_length=8, null=True, unique=True)
    requested_by = fields.CharField(max_length=120, default="system")
    bulk_operation_id = fields.CharField(max_length=120, null=True)
    levels_compared = fields.IntField(default=0)
    explained = fields.IntField(default=0)
    unexplained = fields.IntField(default=0)
    moving = fields.IntField(default=0)
    error_code = fields.CharField(max_length=40, null=True)
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When Shopify's export began: Branchline changes after this are "moving", not drift.
    export_started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)

    lines: fields.ReverseRelation["DriftLine"]

    class Meta:
        table = "drift_check"
        ordering = ["-id"]


class DriftLine(Model):
    """One (branch, variant) whose Shopify level differs from Branchline's, and why."""

    id = fields.IntField(primary_key=True)
    check = fields.ForeignKeyField("models.DriftCheck", related_name="lines", on_delete=fields.CASCADE)
    branch = fields.ForeignKeyField("models.Branch", related_name="drift_lines", on_delete=fields.CASCADE)
    variant = fields.ForeignKeyField("models.Variant", related_name="drift_lines", on_delete=fields.CASCADE)
    inventory_item_id = fields.CharField(max_length=80)
    location_id = fields.CharField(max_length=80)
    # What Shopify showed in the check (the repair's compare-and-swap values).
    shopify_stocked = fields.BooleanField(default=True)  # False: the item has no level at the location
    shopify_available = fields.IntField(default=0)
    shopify_committed = fields.IntField(default=0)
    shopify_reserved = fields.IntField(default=0)
    shopify_damaged = fields.IntField(default=0)
    shopify_on_hand = fields.IntField(default=0)
    branchline_on_hand = fields.IntField(default=0)
    branchline_reserved = fields.IntField(default=0)
    branchline_damaged = fields.IntField(default=0)
    # Branchline on_hand - Shopify (available + committed + reserved); damaged - damaged.
    difference = fields.IntField(default=0)
    damaged_difference = fields.IntField(default=0)
    # [{"kind": "pending_push", "bucket": "on_hand", "quantity": 3, "detail": "..."}]: work in flight.
    in_flight = fields.JSONField(default=list)
    unexplained = fields.IntField(default=0)  # on-hand units nothing in flight accounts for
    unexplained_damaged = fields.IntField(default=0)
    status = fields.CharEnumField(DriftLineStatus, max_length=12)
    explanation = fields.TextField(default="")
    repair_status = fields.CharEnumField(DriftRepairStatus, max_length=12, null=True)
    repair_message = fields.TextField(null=True)
    repaired_at = fields.DatetimeField(null=True)
    repaired_by = fields.CharField(max_length=120, null=True)

    class Meta:
        table = "drift_line"
        ordering = ["id"]
        unique_together = (("check", "branch", "variant"),)


class DriftSignal(Model):
    """Shopify said a level changed (inventory_levels/update), one row per level, kept fresh.

    The report marks lines whose level moved after their check, and the next check reads it again."""

    id = fields.IntField(primary_key=True)
    inventory_item_id = fields.CharField(max_length=80)
    location_id = fields.CharField(max_length=80)
    available = fields.IntField(null=True)  # what the webhook said, for the record
    received_at = fields.DatetimeField()

    class Meta:
        table = "drift_signal"
        unique_together = (("inventory_item_id", "location_id"),)
