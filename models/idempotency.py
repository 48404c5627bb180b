"""Idempotency records for creating mutations: a repeated key returns the first result."""

from tortoise import fields
from tortoise.models import Model


class IdempotentRequest(Model):
    id = fields.IntField(primary_key=True)
    operation = fields.CharField(max_length=60)
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    result_type = fields.CharField(max_length=40)
    result_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotent_request"
        unique_together = (("operation", "key"),)
