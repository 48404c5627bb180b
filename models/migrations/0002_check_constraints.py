"""CHECK constraints, added after table creation.

Tortoise 1.1 drops `Meta.constraints` when it creates a table (tortoise-orm#2272), but applies
them when added by a later migration (`ALTER TABLE` on PostgreSQL, a table rebuild on SQLite).
tests/models/test_constraints.py proves they hold on both dialects.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import CheckConstraint

from models.constraints import CHECKS


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.AddConstraint(model_name=model, constraint=CheckConstraint(check=check, name=name))
        for model, name, check in CHECKS
    ]


# Tortoise rebuilds a SQLite table to add a CHECK, and the rebuild loses the table's
# unique_together and Meta.indexes (seen with 1.1.9): put them back. PostgreSQL keeps them.
SQLITE_INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_stock_level_branch_variant" ON "stock_level" ("branch_id", "variant_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_stock_movement_branch_sequence" '
    'ON "stock_movement" ("branch_id", "sequence")',
    'CREATE INDEX IF NOT EXISTS "idx_stock_movement_variant_branch" ON "stock_movement" ("variant_id", "branch_id")',
]


async def restore_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for sql in SQLITE_INDEXES:
        await schema_editor.client.execute_script(sql)


Migration.operations.append(ops.RunPython(restore_sqlite_indexes, ops.RunPython.noop))
