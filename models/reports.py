"""What reporting keeps of its own: salesperson commission rates (with history) and export jobs.

Everything else a report shows is read from the other contexts' tables (operations/reports/).
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class CommissionRate(Model):
    """A flat commission percent from `effective_from` on, for one staff member or one product type (or both).

    Rows are never changed: a new rate is a new row, so changing a rate does not rewrite the past. A sale
    line earns the newest rate in effect when it was sold, the most specific first (staff and product
    type, then staff, then product type)."""

    id = fields.IntField(primary_key=True)
    staff = fields.ForeignKeyField(
        "models.Staff", related_name="commission_rates", null=True, on_delete=fields.RESTRICT
    )
    product_type = fields.CharField(max_length=120, null=True)
    percent = fields.DecimalField(max_digits=5, decimal_places=2)
    effective_from = fields.DatetimeField()
    set_by = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "commission_rate"
        ordering = ["id"]
        indexes = (("staff_id", "effective_from"),)


class ExportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # the file was swept away


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ReportExport(Model):
    """One export of a report to a file and its progress (download links: operations/reports/exports.py)."""

    id = fields.IntField(primary_key=True)
    report = fields.CharField(max_length=40)
    format = fields.CharEnumField(ExportFormat, max_length=8)
    parameters = fields.JSONField()
    status = fields.CharEnumField(ExportStatus, max_length=10, default=ExportStatus.RUNNING)
    rows_written = fields.IntField(default=0)
    path = fields.CharField(max_length=500, null=True)
    expires_at = fields.DatetimeField(null=True)
    requested_by = fields.ForeignKeyField("models.Staff", related_name="exports", null=True, on_delete=fields.RESTRICT)
    branch_ids = fields.JSONField(null=True)  # the branches it covers (null: every branch), for who may download
    error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "report_export"
        ordering = ["id"]
