"""Reports: read-only figures across every other context (sales, day close, returns, stock, online orders,
commission, sync), scoped to the branches the caller may see, and their exports to CSV and Excel.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.reports.commission import CommissionRow, NewRate, commission_report, set_commission_rate
from operations.reports.exports import (
    REPORTS as EXPORTABLE_REPORTS,
)
from operations.reports.exports import (
    ExportRequest,
    export_for_download,
    export_progress,
    file_name,
    launch_export,
    run_export,
    start_export,
    sweep_exports,
)
from operations.reports.operational import (
    DayClose,
    OrdersReport,
    OrdersRow,
    ReturnsRow,
    SyncBranch,
    SyncSummary,
    day_close,
    orders_report,
    returns_report,
    sync_summary,
)
from operations.reports.periods import Period, period_days, report_days
from operations.reports.sales import SalesFilter, SalesGroup, SalesRow, sales_report
from operations.reports.stock import (
    StockLine,
    TransferAge,
    ValuationRow,
    dead_stock,
    low_stock,
    transfer_ageing,
    valuation_report,
)

__all__ = [
    "EXPORTABLE_REPORTS",
    "CommissionRow",
    "DayClose",
    "ExportRequest",
    "NewRate",
    "OrdersReport",
    "OrdersRow",
    "Period",
    "ReturnsRow",
    "SalesFilter",
    "SalesGroup",
    "SalesRow",
    "StockLine",
    "SyncBranch",
    "SyncSummary",
    "TransferAge",
    "ValuationRow",
    "commission_report",
    "day_close",
    "dead_stock",
    "export_for_download",
    "export_progress",
    "file_name",
    "launch_export",
    "low_stock",
    "orders_report",
    "period_days",
    "report_days",
    "returns_report",
    "run_export",
    "sales_report",
    "set_commission_rate",
    "start_export",
    "sweep_exports",
    "sync_summary",
    "transfer_ageing",
    "valuation_report",
]
