from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0009_purchasing")]

    initial = False

    operations = [
        ops.AddField(
            model_name="OutboxRow",
            name="batch",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="OutboxRow",
            name="target",
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name="OutboxRow",
            name="key_generation",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="OutboxRow",
            name="outcome",
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name="OutboxRow",
            name="done_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(model_name="OutboxRow", index=Index(fields=["batch"])),
        ops.AddIndex(model_name="OutboxRow", index=Index(fields=["done_at"])),
    ]
