"""Editing the catalog: a variant's compare-at price and tracking, a product's archiving.

The CHECK goes in after its column (Tortoise 1.1 applies a constraint added by a later operation,
migration 0002 says why); on SQLite that rebuilds the variant table, whose UNIQUE columns are part
of the table definition and survive it.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import CheckConstraint

from models.constraints import CATALOG_EDIT_CHECKS


class Migration(migrations.Migration):
    dependencies = [("models", "0019_customers")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Variant",
            name="compare_at_price",
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(model_name="Variant", name="tracked", field=fields.BooleanField(default=True, db_default=True)),
        ops.AddField(model_name="Product", name="archived_at", field=fields.DatetimeField(null=True)),
        *(
            ops.AddConstraint(model_name=model, constraint=CheckConstraint(check=check, name=name))
            for model, name, check in CATALOG_EDIT_CHECKS
        ),
    ]
