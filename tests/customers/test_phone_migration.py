"""Migration 0019 rewrites imported phones in E.164 and keeps a shared phone with its first customer only."""

import importlib
from types import SimpleNamespace

from tortoise import Tortoise

from models.customers import Customer

migration = importlib.import_module("models.migrations.0019_customers")


class FakeClient:
    """The rows of `customer` as the migration reads and writes them (id, phone)."""

    def __init__(self, phones: dict[int, str | None]):
        self.phones = phones
        self.capabilities = SimpleNamespace(dialect="sqlite")

    async def execute_query(self, sql: str, values=None):
        if sql.startswith("SELECT"):
            return 0, [{"id": i, "phone": p} for i, p in sorted(self.phones.items()) if p is not None]
        phone, pk = values
        self.phones[pk] = phone
        return 1, []


async def test_phones_are_normalised_and_the_first_customer_keeps_a_shared_one():
    client = FakeClient(
        {
            1: "+92 300 1234567",
            2: "0300-1234567",  # the same phone as 1: emptied
            3: "923217654321",
            4: "not a phone",  # kept as it was
            5: "not a phone",  # the same text as 4: emptied
            6: None,
            7: "  ",  # blank: no phone
            8: "+44 20 7946 0958",
        }
    )
    await migration.normalise_phones(None, SimpleNamespace(client=client))
    assert client.phones == {
        1: "+923001234567",
        2: None,
        3: "+923217654321",
        4: "not a phone",
        5: None,
        6: None,
        7: None,
        8: "+442079460958",
    }


async def test_the_rewrite_runs_on_the_database(db):
    """The same function on the real connection (its SQL on this engine): phones typed before are rewritten."""
    typed = await Customer.create(first_name="Ayesha", phone="0300-1234567")
    other = await Customer.create(first_name="Bilal", phone="+92 321 7654321")
    await migration.normalise_phones(None, SimpleNamespace(client=Tortoise.get_connection("default")))
    assert (await Customer.get(id=typed.id)).phone == "+923001234567"
    assert (await Customer.get(id=other.id)).phone == "+923217654321"
