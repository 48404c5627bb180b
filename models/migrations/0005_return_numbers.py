from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0004_counter_billing")]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name="SaleNumberSequence",
            options={
                "table": "sale_number_sequence",
                "app": "models",
                "pk_attr": "counter_id",
                "table_description": "The last sale and return numbers handed out per counter (numbers run per branch and counter).",
            },
        ),
        ops.AddField(
            model_name="SaleNumberSequence",
            name="last_return_number",
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
