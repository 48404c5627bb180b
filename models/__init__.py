"""Tortoise ORM models, one module per aggregate.

`MODEL_MODULES` is what Tortoise loads; `server.settings.tortoise_config()` builds the full config.
"""

MODEL_MODULES = [
    "models.branches",
    "models.catalog",
    "models.stock",
    "models.idempotency",
    "models.staff",
]
