"""Customers: imported from Shopify, or created at the counter."""

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    id = fields.IntField(primary_key=True)
    # Shopify ids are GIDs everywhere in Branchline (text: their numbers exceed 2^53).
    shopify_customer_id = fields.CharField(max_length=80, null=True, unique=True)
    first_name = fields.CharField(max_length=120, default="")
    last_name = fields.CharField(max_length=120, default="")
    email = fields.CharField(max_length=255, null=True)
    # E.164 (operations/directory/customers.py normalise_phone); one customer per phone.
    phone = fields.CharField(max_length=40, null=True, unique=True)
    cnic = fields.CharField(max_length=15, null=True)  # 35202-1234567-1
    ntn = fields.CharField(max_length=10, null=True)  # national tax number, as given: 1234567-8
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer"
        ordering = ["id"]
        indexes = (("cnic",),)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or (self.email or self.phone or "")
