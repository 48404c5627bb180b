from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0017_guess_limits")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Counter",
            name="active",
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
