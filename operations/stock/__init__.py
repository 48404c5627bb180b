"""Branch stock: the ledger (the ONLY writer of stock levels, movements and the inventory outbox), what it takes
and gives, opening stock, adjustments, reorder levels.
"""
