"""Database CHECK constraints: the last line of defence under operations/stock/ledger.py's guards.

Shared by the models' Meta (so the migration state matches) and migration 0002.
`CAST(... AS NUMERIC)` because SQLite stores Tortoise decimals as text.
"""

from tortoise.migrations.constraints import CheckConstraint

CHECKS: list[tuple[str, str, str]] = [
    ("StockLevel", "stock_level_reserved_not_negative", "reserved >= 0"),
    ("StockLevel", "stock_level_in_transit_not_negative", "in_transit >= 0"),
    ("StockLevel", "stock_level_damaged_not_negative", "damaged >= 0"),
    ("StockMovement", "stock_movement_delta_not_zero", "delta <> 0"),
    ("StockMovement", "stock_movement_sequence_positive", "sequence > 0"),
    ("Variant", "variant_price_not_negative", "CAST(price AS NUMERIC) >= 0"),
    ("Variant", "variant_tax_rate_percent", "CAST(tax_rate AS NUMERIC) >= 0 AND CAST(tax_rate AS NUMERIC) <= 100"),
]

# Added by migration 0020 with the columns they check (0002 adds CHECKS above, before those existed).
CATALOG_EDIT_CHECKS: list[tuple[str, str, str]] = [
    (
        "Variant",
        "variant_compare_at_price_not_negative",
        "compare_at_price IS NULL OR CAST(compare_at_price AS NUMERIC) >= 0",
    ),
]


def checks_for(model: str) -> list[CheckConstraint]:
    return [CheckConstraint(check=check, name=name) for m, name, check in CHECKS + CATALOG_EDIT_CHECKS if m == model]
