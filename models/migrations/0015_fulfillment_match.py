from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0014_drift")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Fulfillment",
            name="matched_shopify_fulfillment_id",
            field=fields.CharField(null=True, db_index=True, max_length=80),
        ),
    ]
