from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0010_outbox_batches")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StockLevel",
            name="reorder_quantity",
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
