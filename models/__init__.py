"""Tortoise ORM models, one module per aggregate.

Model docstrings become table comments in migrations; Tortoise's SQLite migration runner splits
scripts on ";", so keep semicolons out of model class docstrings.

`MODEL_MODULES` is what Tortoise loads; `server.settings.tortoise_config()` builds the full config.
"""

MODEL_MODULES = [
    "models.branches",
    "models.catalog",
    "models.stock",
    "models.idempotency",
    "models.staff",
    "models.registers",
    "models.sales",
    "models.outbox",
    "models.customers",
    "models.shopify",
    "models.transfers",
    "models.counts",
    "models.purchasing",
    "models.orders",
    "models.inbox",
    "models.drift",
    "models.loyalty",
]
