"""The webhook inbox: every verified Shopify webhook, stored before Shopify gets its 200.

The endpoint only stores; a worker (operations/sync/inbox.py) claims due rows and hands each to
its topic's handler. A row is never deleted by processing: it ends done, stale, ignored, exception
(bad input, for a person) or parked (kept failing), so nothing Shopify told us is lost.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class InboxStatus(StrEnum):
    PENDING = "pending"  # stored, not tried yet
    PROCESSING = "processing"  # claimed by a worker until its lease ends (next_attempt_at)
    RETRYING = "retrying"  # failed for a reason that may heal; due again at next_attempt_at
    DONE = "done"
    STALE = "stale"  # a newer version of the same object (same topic) was already processed
    IGNORED = "ignored"  # a topic Branchline does not act on, or another shop's webhook
    EXCEPTION = "exception"  # bad input (OperationError) or no handler: waits for a person
    PARKED = "parked"  # failed too often: waits for a person to retry it


class WebhookInbox(Model):
    """One webhook as Shopify sent it, deduplicated by delivery id and by content."""

    id = fields.BigIntField(primary_key=True)
    # X-Shopify-Webhook-Id: a redelivery of the same webhook is stored once.
    webhook_id = fields.CharField(max_length=100, unique=True)
    # topic, object, updated_at and a digest of the exact body: the same event delivered again under
    # a new webhook id (a second subscription, a retry with a fresh id) is stored once too.
    business_key = fields.CharField(max_length=255, unique=True)
    event_id = fields.CharField(max_length=100, null=True)  # X-Shopify-Event-Id, for tracing
    topic = fields.CharField(max_length=80)
    shop_domain = fields.CharField(max_length=255, default="")
    # Rows with the same resource key (e.g. everything about one order) are processed in the order
    # received; NULL means no ordering constraint.
    resource_key = fields.CharField(max_length=160, null=True)
    # The object this payload describes (its GID), for the stale check with shopify_updated_at.
    subject = fields.CharField(max_length=200, null=True)
    shopify_updated_at = fields.DatetimeField(null=True)
    triggered_at = fields.DatetimeField(null=True)
    payload = fields.JSONField(null=True)
    body = fields.TextField(null=True)  # the raw body, kept only when it could not be read as JSON
    status = fields.CharEnumField(InboxStatus, max_length=12, default=InboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, null=True)  # the claim's token: only it may finish the row
    error_code = fields.CharField(max_length=40, null=True)
    last_error = fields.TextField(null=True)
    duplicates = fields.IntField(default=0)  # later deliveries that were recognised as this one
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_inbox"
        indexes = (("status", "next_attempt_at"), ("resource_key", "id"), ("subject", "topic"))
