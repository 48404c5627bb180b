"""Reports: read-only figures across every other context (sales, day close, returns, stock, online orders,
commission, sync), scoped to the branches the caller may see, and their exports to CSV and Excel.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.reports.sales import SalesFilter, SalesGroup, SalesRow, sales_report

__all__ = ["SalesFilter", "SalesGroup", "SalesRow", "sales_report"]
