"""Transfers of stock between branches, and the discrepancies found on receipt.

The stock itself moves only through the ledger (operations/transfers/requests.py posts it); these tables
say what was asked for, what left, what arrived, and who did each step.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TransferStatus(StrEnum):
    DRAFT = "draft"  # being put together, nobody asked yet
    REQUESTED = "requested"  # waiting for the source's manager
    APPROVED = "approved"  # may be packed and dispatched
    IN_TRANSIT = "in_transit"  # left the source, nothing received yet
    PARTIALLY_RECEIVED = "partially_received"  # some units accounted for at the destination
    RECEIVED = "received"  # every dispatched unit accounted for (received, damaged or missing)
    CLOSED = "closed"  # finished: anything still unaccounted was recorded as missing
    CANCELLED = "cancelled"  # called off before dispatch, no stock moved


class DiscrepancyKind(StrEnum):
    MISSING = "missing"  # dispatched but never arrived
    DAMAGED = "damaged"  # arrived, not sellable: in the destination's damaged bucket


class Transfer(Model):
    """A request to move stock from one branch to another, and its progress."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)  # TR-000123, one run per deployment
    source_branch = fields.ForeignKeyField("models.Branch", related_name="transfers_out", on_delete=fields.RESTRICT)
    destination_branch = fields.ForeignKeyField("models.Branch", related_name="transfers_in", on_delete=fields.RESTRICT)
    status = fields.CharEnumField(TransferStatus, max_length=20)
    note = fields.CharField(max_length=1000, null=True)
    # Who did each step: the actor's label (as on stock postings) and staff id, kept even if
    # the staff member is later deactivated.
    requested_by = fields.CharField(max_length=120)
    requested_by_staff_id = fields.IntField(null=True)
    requested_at = fields.DatetimeField(null=True)  # set on submit, not while a draft
    approved_by = fields.CharField(max_length=120, null=True)
    approved_by_staff_id = fields.IntField(null=True)
    approved_at = fields.DatetimeField(null=True)
    dispatched_by = fields.CharField(max_length=120, null=True)
    dispatched_by_staff_id = fields.IntField(null=True)
    dispatched_at = fields.DatetimeField(null=True)
    received_by = fields.CharField(max_length=120, null=True)  # the latest receipt
    received_by_staff_id = fields.IntField(null=True)
    received_at = fields.DatetimeField(null=True)
    closed_by = fields.CharField(max_length=120, null=True)
    closed_at = fields.DatetimeField(null=True)
    cancelled_by = fields.CharField(max_length=120, null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # Bumped by every step: the guarded UPDATE that also serialises steps on one transfer.
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "transfer"
        indexes = (("source_branch_id", "status"), ("destination_branch_id", "status"))


class TransferLine(Model):
    """One variant on a transfer. dispatched <= requested and received + damaged + missing <= dispatched."""

    id = fields.IntField(primary_key=True)
    transfer = fields.ForeignKeyField("models.Transfer", related_name="lines", on_delete=fields.CASCADE)
    variant = fields.ForeignKeyField("models.Variant", related_name="transfer_lines", on_delete=fields.RESTRICT)
    quantity_requested = fields.IntField()
    quantity_dispatched = fields.IntField(default=0)
    quantity_received = fields.IntField(default=0)
    quantity_damaged = fields.IntField(default=0)
    quantity_missing = fields.IntField(default=0)

    class Meta:
        table = "transfer_line"
        unique_together = (("transfer", "variant"),)

    @property
    def accounted(self) -> int:
        return self.quantity_received + self.quantity_damaged + self.quantity_missing

    @property
    def outstanding(self) -> int:
        """Dispatched units not yet received, damaged or missing: still in transit."""
        return self.quantity_dispatched - self.accounted


class TransferDiscrepancy(Model):
    """Units of a line that did not arrive sellable, with why. Returned to stock once at most."""

    id = fields.IntField(primary_key=True)
    transfer = fields.ForeignKeyField("models.Transfer", related_name="discrepancies", on_delete=fields.CASCADE)
    line = fields.ForeignKeyField("models.TransferLine", related_name="discrepancies", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(DiscrepancyKind, max_length=10)
    quantity = fields.IntField()
    reason = fields.CharField(max_length=200)
    recorded_by = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)
    returned_to_stock_at = fields.DatetimeField(null=True)
    returned_to_stock_by = fields.CharField(max_length=120, null=True)

    class Meta:
        table = "transfer_discrepancy"


class TransferNumberSequence(Model):
    """The last transfer number handed out (a single row), taken inside the creating transaction."""

    id = fields.IntField(primary_key=True, generated=False)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "transfer_number_sequence"
