"""Catalog edits both ways with Shopify: when Shopify last had each product and variant as Branchline
knows it (`shopify_updated_at`: Shopify's own `updatedAt`, from the answer to our last edit or from the
last `products/update` taken in), so an older webhook, or the echo of our own edit, is told from a newer
edit made in Shopify (operations/sync/webhook_handlers.py)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0023_reports")]

    initial = False

    operations = [
        ops.AddField(model_name="Variant", name="shopify_updated_at", field=fields.DatetimeField(null=True)),
        ops.AddField(model_name="Product", name="shopify_updated_at", field=fields.DatetimeField(null=True)),
    ]
