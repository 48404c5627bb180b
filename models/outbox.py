"""The outbox: external pushes written in the same transaction as the change that causes them.

A worker (the Shopify sync) claims due rows, retries with backoff, and parks rows that keep
failing; nothing is lost if the process dies after commit.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"  # failed too often: shown in syncStatus, retried by hand


class OutboxRow(Model):
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=60)  # e.g. "shopify.inventory_delta"
    key = fields.CharField(max_length=200, unique=True)  # derived from what caused it: written once
    payload = fields.JSONField()
    status = fields.CharEnumField(OutboxStatus, max_length=10, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The push that carries this row: assigned once, when a worker first claims it, and kept through
    # every retry so the same movements always travel together under the same @idempotent key.
    batch = fields.CharField(max_length=64, null=True)
    # Where the row goes on Shopify, resolved at claim time (quantity name, inventory item, location),
    # so a retry sends the very same variables even if the catalog mapping changed meanwhile.
    target = fields.JSONField(null=True)
    # Bumped when Shopify refused the batch outright (nothing applied): the next send needs a fresh key,
    # because Shopify answers a reused key with the stored refusal.
    key_generation = fields.IntField(default=0, db_default=0)
    # How the row was finished: pushed, not_on_shopify, not_synced, nothing_to_push.
    outcome = fields.CharField(max_length=20, null=True)
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"), ("batch",), ("done_at",))
