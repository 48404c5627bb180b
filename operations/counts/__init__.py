"""Stock counts: counting, review, and what a count shows."""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.counts.counting import CountedLine, CountMode, NewCount, open_stock_count, record_counted
from operations.counts.counting import load as load_count
from operations.counts.review import abandon_stock_count, approve_stock_count, submit_stock_count
from operations.counts.views import CountTotals, LineFigures, as_seen, totals_as_seen, totals_of, visible_count
from operations.counts.views import figures as count_figures

__all__ = [
    "CountMode",
    "CountTotals",
    "CountedLine",
    "LineFigures",
    "NewCount",
    "abandon_stock_count",
    "approve_stock_count",
    "as_seen",
    "count_figures",
    "load_count",
    "open_stock_count",
    "record_counted",
    "submit_stock_count",
    "totals_as_seen",
    "totals_of",
    "visible_count",
]
