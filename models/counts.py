"""Stock counts: full or cycle counts at a branch, counted in batches, approved into adjustments.

A count never writes stock itself: on approval operations/counts/counting.py posts ONE ledger adjustment
(reason `count`) whose lines are the variances. What the shelf held when the count opened is kept
as the branch's ledger sequence at that moment plus each line's expected on hand then, so sales
that go on during the count are accounted for instead of undone.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class CountKind(StrEnum):
    FULL = "full"  # everything at the branch, and anything else the counters find
    CYCLE = "cycle"  # chosen variants and/or a product type only


class CountStatus(StrEnum):
    OPEN = "open"  # counters are scanning
    REVIEW = "review"  # submitted, waiting for a manager
    APPROVED = "approved"  # the variances were posted to the ledger (once)
    ABANDONED = "abandoned"  # called off, stock untouched


class StockCount(Model):
    """A count of (part of) one branch's stock, from opening to approval."""

    id = fields.IntField(primary_key=True)
    branch = fields.ForeignKeyField("models.Branch", related_name="stock_counts", on_delete=fields.RESTRICT)
    kind = fields.CharEnumField(CountKind, max_length=10)
    status = fields.CharEnumField(CountStatus, max_length=10, default=CountStatus.OPEN)
    # Blind: counters do not see what the system expects (only staff who may approve do).
    blind = fields.BooleanField(default=False)
    # A cycle count's scope besides its listed variants: every variant of this product type.
    product_type = fields.CharField(max_length=120, null=True)
    # The branch's ledger sequence when the count opened: movements after it happened during the count.
    start_sequence = fields.BigIntField()
    # Submitted with zeroUncounted: lines nobody counted were taken as counted 0.
    zero_uncounted = fields.BooleanField(default=False)
    note = fields.CharField(max_length=1000, null=True)
    opened_by = fields.CharField(max_length=120)
    opened_by_staff_id = fields.IntField(null=True)
    submitted_by = fields.CharField(max_length=120, null=True)
    submitted_at = fields.DatetimeField(null=True)
    approved_by = fields.CharField(max_length=120, null=True)
    approved_by_staff_id = fields.IntField(null=True)
    approved_at = fields.DatetimeField(null=True)
    abandoned_by = fields.CharField(max_length=120, null=True)
    abandoned_at = fields.DatetimeField(null=True)
    # The ledger posting the approval made (None when every counted line matched).
    posting_id = fields.IntField(null=True)
    # Bumped by every batch and step: the guarded UPDATE that serialises work on one count.
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stock_count"
        indexes = (("branch_id", "status"),)


class StockCountLine(Model):
    """One variant in a count: expected when the count opened, and what the counters found."""

    id = fields.IntField(primary_key=True)
    count = fields.ForeignKeyField("models.StockCount", related_name="lines", on_delete=fields.CASCADE)
    variant = fields.ForeignKeyField("models.Variant", related_name="count_lines", on_delete=fields.RESTRICT)
    expected_at_start = fields.IntField()
    counted = fields.IntField(null=True)  # None: not counted (yet)
    # The branch's ledger sequence when this line was last counted: movements up to it happened
    # before the units were counted, later ones (a sale after the shelf was counted) did not.
    counted_through_sequence = fields.BigIntField(null=True)
    counted_at = fields.DatetimeField(null=True)
    # Frozen on approval, so the figures shown afterwards are the ones that were posted.
    movements_since_start = fields.IntField(null=True)
    variance = fields.IntField(null=True)

    class Meta:
        table = "stock_count_line"
        unique_together = (("count", "variant"),)
