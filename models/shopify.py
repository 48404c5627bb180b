"""The Shopify connection, Shopify's locations as Branchline sees them, and import jobs."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class ShopifyConnection(Model):
    """The one Shopify shop this deployment serves. Tokens are Fernet-encrypted (operations/kernel/secrets.py)."""

    id = fields.IntField(primary_key=True)
    shop_domain = fields.CharField(max_length=255, unique=True)
    shop_name = fields.CharField(max_length=255, default="")
    currency = fields.CharField(max_length=3, default="PKR")
    api_version = fields.CharField(max_length=10)
    # Set only when the shop is reached somewhere other than https://{shop_domain} (the simulator).
    base_url = fields.CharField(max_length=255, null=True)
    access_token_encrypted = fields.TextField()
    client_secret_encrypted = fields.TextField()
    status = fields.CharEnumField(ConnectionStatus, max_length=16, default=ConnectionStatus.CONNECTED)
    # topic -> Shopify's WebhookSubscription GID, so disconnecting can remove what connecting made.
    webhook_subscriptions = fields.JSONField(default=dict)
    # Orders updated up to here are known to Branchline: the poll that recovers missed webhooks
    # asks Shopify for orders updated since this watermark (minus a small overlap).
    orders_synced_until = fields.DatetimeField(null=True)
    connected_at = fields.DatetimeField(auto_now_add=True)
    disconnected_at = fields.DatetimeField(null=True)

    class Meta:
        table = "shopify_connection"


class ShopifyLocation(Model):
    """A Shopify location seen by an import. Which branch it is lives on `Branch.shopify_location_id`."""

    id = fields.IntField(primary_key=True)
    shopify_location_id = fields.CharField(max_length=80, unique=True)  # gid://shopify/Location/…
    name = fields.CharField(max_length=255)
    active = fields.BooleanField(default=True)
    address = fields.JSONField(default=dict)
    # The owner chose not to bring this location's stock into Branchline (e.g. a 3PL warehouse).
    ignored = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "shopify_location"
        ordering = ["id"]


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ImportJob(Model):
    """One run of the catalog import. Progress is written as it goes so any process can show it."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=16)  # "shopify" (bulk operations) or "file"
    status = fields.CharEnumField(ImportStatus, max_length=12, default=ImportStatus.QUEUED)
    phase = fields.CharField(max_length=32, default="queued")
    objects_done = fields.BigIntField(default=0)
    objects_total = fields.BigIntField(null=True)
    rate = fields.FloatField(default=0)  # objects per second over the run so far
    # Per kind: {"variants": {"created": n, "updated": n, "unchanged": n}, ...}
    counts = fields.JSONField(default=dict)
    warnings = fields.JSONField(default=list)  # capped list of {"line": n, "message": ...}
    error_code = fields.CharField(max_length=40, null=True)
    error = fields.TextField(null=True)
    # Shopify's BulkOperation GIDs, so a finished webhook or a restart can find them.
    bulk_operations = fields.JSONField(default=dict)
    create_branches = fields.BooleanField(default=True)
    requested_by = fields.CharField(max_length=120, default="system")
    idempotency_key = fields.CharField(max_length=200, null=True, unique=True)
    # "running" while queued or running, NULL once finished: the unique index lets one import run
    # at a time even when two owners press the button in the same instant.
    running = fields.CharField(max_length=8, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # Written every few seconds by the process running the job: a job whose heartbeat stopped was
    # cut short by a crash, whichever server process it ran in.
    heartbeat_at = fields.DatetimeField(null=True)

    class Meta:
        table = "import_job"
        ordering = ["-id"]
