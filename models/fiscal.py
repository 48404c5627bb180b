"""Fiscal reporting: the authority a branch reports to, the tokens it speaks with, and one fiscal document
per sale, return or void (docs/fbr.md).

A document is written in the sale's (or return's) own transaction, with the outbox row that asks the fiscal
worker (operations/fiscal/) to report it: the sale never waits for the authority. What is sent is frozen on
the document the first time it goes out, so every retry carries the same USIN and the same payload.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class FiscalAuthority(StrEnum):
    FBR = "fbr"  # FBR's IMS (goods, and Islamabad's services)
    PRA = "pra"  # Punjab Revenue Authority's EIMS: the same model, BuyerPNTN for the buyer's number


class FiscalKind(StrEnum):
    INVOICE = "invoice"  # a sale (InvoiceType 1)
    CREDIT_NOTE = "credit_note"  # a return, an exchange's return, or a void (InvoiceType 3, RefUSIN)


class FiscalStatus(StrEnum):
    NOT_FISCALISED = "not_fiscalised"  # the counter is not registered: sold normally, never reported
    PENDING = "pending"  # waiting for the worker (or for its original's fiscal number)
    FISCALISED = "fiscalised"  # the authority's number is back
    RECORDED = "recorded"  # the authority said it holds this USIN already, and gave no number: a person looks
    REFUSED = "refused"  # the authority refused the payload: a person fixes and requeues


class FiscalCredential(Model):
    """The token one authority gave this retailer (one deployment serves one retailer), encrypted at rest."""

    id = fields.IntField(primary_key=True)
    authority = fields.CharEnumField(FiscalAuthority, max_length=8, unique=True)
    token_encrypted = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "fiscal_credential"


class FiscalDocument(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(FiscalKind, max_length=12)
    # The sale it reports, or (a credit note) the sale it credits.
    sale = fields.ForeignKeyField("models.Sale", related_name="fiscal_documents", on_delete=fields.RESTRICT)
    sale_return = fields.ForeignKeyField(
        "models.SaleReturn", related_name="fiscal_documents", null=True, on_delete=fields.RESTRICT
    )
    branch = fields.ForeignKeyField("models.Branch", related_name="fiscal_documents", on_delete=fields.RESTRICT)
    counter = fields.ForeignKeyField("models.Counter", related_name="fiscal_documents", on_delete=fields.RESTRICT)
    authority = fields.CharEnumField(FiscalAuthority, max_length=8)
    pos_id = fields.CharField(max_length=20, null=True)  # the counter's POSID when it was issued
    usin = fields.CharField(max_length=60, unique=True)
    ref_usin = fields.CharField(max_length=60, null=True)
    status = fields.CharEnumField(FiscalStatus, max_length=16)
    # Why a person should look (a line without a PCT code, a buyer missing above the threshold): it is
    # still reported; the flag stays for fiscalStatus.
    flag = fields.CharField(max_length=300, null=True)
    fiscal_number = fields.CharField(max_length=40, null=True)
    qr_content = fields.CharField(max_length=300, null=True)
    payload = fields.JSONField(null=True)  # exactly what was sent, frozen on the first send
    answer = fields.JSONField(null=True)  # the authority's last answer or refusal
    error = fields.TextField(null=True)
    issued_at = fields.DatetimeField()  # the document's own time (an offline sale's, not the upload's)
    reported_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fiscal_document"
        ordering = ["id"]
        indexes = (("status", "issued_at"), ("sale_id",), ("sale_return_id",))
