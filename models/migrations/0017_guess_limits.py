from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0016_order_exchanges")]

    initial = False

    operations = [
        ops.CreateModel(
            name="GuessLimit",
            fields=[
                ("scope_key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=300)),
                ("attempts", fields.IntField(default=0)),
                ("window_started", fields.FloatField(default=0)),
                ("locked_until", fields.FloatField(default=0)),
                ("locks", fields.IntField(default=0)),
                ("last_locked", fields.FloatField(default=0)),
            ],
            options={
                "table": "guess_limit",
                "app": "models",
                "pk_attr": "scope_key",
                "table_description": "Guesses of a secret (password, PIN) counted per scope, e.g. a counter, a branch, a client address.",
            },
            bases=["Model"],
        ),
        ops.RemoveField(model_name="Staff", name="failed_logins"),
        ops.RemoveField(model_name="Staff", name="locked_until"),
        ops.DeleteModel(name="CounterLock"),
    ]
