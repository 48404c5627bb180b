"""Branch stock: the ledger (the ONLY writer of stock levels, movements and the inventory outbox), what it takes
and gives, opening stock, adjustments, reorder levels.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.stock.adjustments import (
    Adjustment,
    AdjustmentLine,
    AdjustmentReason,
    adjust_stock,
    check_ledger,
    set_reorder_points,
)
from operations.stock.entries import Movement, Posting, PostingResult
from operations.stock.ledger import MAX_UNITS_PER_MOVEMENT, References, movements_after
from operations.stock.ledger import apply as apply_to_ledger
from operations.stock.opening_stock import ROWS_PER_STATEMENT, OpeningLine, take_opening_stock
from operations.stock.reorder import Crossing, ReorderLevel, reorder_suggestions, set_reorder_levels
from operations.stock.reorder import crossing as reorder_crossing

__all__ = [
    "MAX_UNITS_PER_MOVEMENT",
    "ROWS_PER_STATEMENT",
    "Adjustment",
    "AdjustmentLine",
    "AdjustmentReason",
    "Crossing",
    "Movement",
    "OpeningLine",
    "Posting",
    "PostingResult",
    "References",
    "ReorderLevel",
    "adjust_stock",
    "apply_to_ledger",
    "check_ledger",
    "movements_after",
    "reorder_crossing",
    "reorder_suggestions",
    "set_reorder_levels",
    "set_reorder_points",
    "take_opening_stock",
]
