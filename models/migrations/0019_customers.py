"""Customers at the counter: one customer per phone, CNIC and NTN, and a sale naming its customer.

Phones imported before were kept as Shopify gave them. They are rewritten in E.164 with the same
function the API and the import use (`normalise_phone`); a phone that is no number is kept as it
was. Where several customers then share a phone, the first (lowest id) keeps it and the others'
phone is emptied (their rows, names, emails and Shopify links stay), so the UNIQUE index can be built.
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def normalise_phones(apps, schema_editor) -> None:
    from operations.directory import normalise_phone

    client = schema_editor.client
    _, rows = await client.execute_query("SELECT id, phone FROM customer WHERE phone IS NOT NULL ORDER BY id")
    taken: set[str] = set()
    for row in rows:
        phone = normalise_phone(row["phone"]) or row["phone"].strip() or None
        if phone in taken:
            phone = None
        if phone is not None:
            taken.add(phone)
        if phone != row["phone"]:
            marker = "?" if client.capabilities.dialect == "sqlite" else "$1"
            other = "?" if client.capabilities.dialect == "sqlite" else "$2"
            await client.execute_query(f"UPDATE customer SET phone = {marker} WHERE id = {other}", [phone, row["id"]])


class Migration(migrations.Migration):
    dependencies = [("models", "0018_counter_active")]

    initial = False

    # The phone's UNIQUE first: on SQLite, altering a column rebuilds the table, which loses its other
    # indexes (migration 0002 says more), so the CNIC's column and index come after.
    operations = [
        ops.RunPython(normalise_phones, ops.RunPython.noop),
        ops.RemoveIndex(model_name="Customer", fields=["phone"]),
        ops.AlterField(
            model_name="Customer", name="phone", field=fields.CharField(null=True, unique=True, max_length=40)
        ),
        ops.AddField(model_name="Customer", name="cnic", field=fields.CharField(null=True, max_length=15)),
        ops.AddIndex(model_name="Customer", index=Index(fields=["cnic"])),
        ops.AddField(model_name="Customer", name="ntn", field=fields.CharField(null=True, max_length=10)),
        ops.AddField(
            model_name="Sale",
            name="customer",
            field=fields.ForeignKeyField(
                "models.Customer",
                source_field="customer_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="sales",
                on_delete=fields.RESTRICT,
            ),
        ),
        # A customer's history, newest first (Customer.sales, Customer.orders).
        ops.AddIndex(model_name="Sale", index=Index(fields=["customer_id", "id"])),
        ops.AddIndex(model_name="Order", index=Index(fields=["customer_id", "id"])),
    ]
