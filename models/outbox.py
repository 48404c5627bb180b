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

    class Meta:
        table = "outbox"
        indexes = (("status", "next_attempt_at"),)
