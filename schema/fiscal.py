"""Fiscal reporting (FBR / PRA): a sale's fiscal document, its QR, the status of reporting, and registering
counters (docs/fbr.md)."""

import base64
from datetime import datetime

import strawberry
from strawberry.types import Info

from models import fiscal as models
from operations.fiscal import fiscal_qr_png, fiscal_qr_svg
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.types import Branch, Counter

FiscalAuthority = mirrored(models.FiscalAuthority, "FiscalAuthority", "FBR (IMS, goods) or PRA (Punjab services).")
FiscalKind = mirrored(models.FiscalKind, "FiscalKind", "INVOICE (a sale) or CREDIT_NOTE (a return or void).")
FiscalDocumentStatus = mirrored(
    models.FiscalStatus,
    "FiscalDocumentStatus",
    "NOT_FISCALISED (the counter is not registered), PENDING, FISCALISED (its number is back), RECORDED (the "
    "authority holds its USIN but gave no number: fill it in from the authority's portal), REFUSED (fix, requeue).",
)


@strawberry.type(description="What was (or will be) reported to the tax authority for a sale, return or void.")
class FiscalDocument:
    kind: FiscalKind  # type: ignore[valid-type]
    authority: FiscalAuthority  # type: ignore[valid-type]
    status: FiscalDocumentStatus  # type: ignore[valid-type]
    usin: str = strawberry.field(description="The USIN: the sale's (or return's) own number.")
    ref_usin: str | None = strawberry.field(description="A credit note's original USIN.")
    pos_id: str | None
    fiscal_number: str | None = strawberry.field(description="The authority's invoice number, once back.")
    qr_content: str | None = strawberry.field(description="What the receipt's QR encodes, once the number is back.")
    flag: str | None = strawberry.field(description="Why a person should look (no PCT code, buyer not named...).")
    error: str | None = strawberry.field(description="The last failure or the authority's refusal.")
    issued_at: datetime
    reported_at: datetime | None

    @classmethod
    def from_model(cls, m: models.FiscalDocument) -> "FiscalDocument":
        return cls(
            kind=m.kind,
            authority=m.authority,
            status=m.status,
            usin=m.usin,
            ref_usin=m.ref_usin,
            pos_id=m.pos_id,
            fiscal_number=m.fiscal_number,
            qr_content=m.qr_content,
            flag=m.flag,
            error=m.error,
            issued_at=m.issued_at,
            reported_at=m.reported_at,
        )

    @strawberry.field(description="The QR as SVG, for screens and printers that take images; null until back.")
    def qr_svg(self) -> str | None:
        return fiscal_qr_svg(self.qr_content) if self.qr_content else None

    @strawberry.field(description="The QR as a PNG data URL (data:image/png;base64,...); null until back.")
    def qr_png_data_url(self) -> str | None:
        if not self.qr_content:
            return None
        return "data:image/png;base64," + base64.b64encode(fiscal_qr_png(self.qr_content)).decode()


@strawberry.type
class BranchFiscalStatus:
    pending: int
    ageing: int = strawberry.field(description="Pending or refused for longer than the ageing hours (24).")
    oldest_pending_at: datetime | None
    parked: int
    refused: int
    recorded: int
    flagged: int
    not_fiscalised: int
    fiscalised: int
    branch_pk: strawberry.Private[int]

    @strawberry.field
    async def branch(self, info: Info) -> Branch:
        return Branch.from_model(await info.context.loaders.branch.load(self.branch_pk))


@strawberry.type(
    description="Fiscal reporting now: what waits, what ages past the authority's window, what a person must look at."
)
class FiscalStatus:
    at: datetime
    ageing_hours: float
    pending: int
    ageing: int
    parked: int
    flagged_count: int
    oldest_pending_at: datetime | None
    oldest_pending_seconds: float | None
    branches: list[BranchFiscalStatus]
    flagged: list[FiscalDocument] = strawberry.field(description="The newest flagged documents (50), with why.")


@strawberry.input
class SetCounterFiscalRegistrationInput:
    counter_id: strawberry.ID
    registered: bool = strawberry.field(description="Its sales are reported; needs a POSID.")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    pos_id: str | None = strawberry.field(
        default=None, description="The POS registration number the authority gave this counter (6 digits)."
    )


@strawberry.type
class SetCounterFiscalRegistrationPayload:
    counter: Counter | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="A malformed POSID is INVALID (field posId); one another counter has, DUPLICATE.",
    )


@strawberry.input
class SetBranchFiscalAuthorityInput:
    branch_id: strawberry.ID
    authority: FiscalAuthority  # type: ignore[valid-type]
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class SetBranchFiscalAuthorityPayload:
    branch: Branch | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetFiscalTokenInput:
    authority: FiscalAuthority  # type: ignore[valid-type]
    token: str = strawberry.field(description="The Bearer token the authority issued: kept encrypted, never shown.")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class SetFiscalTokenPayload:
    authority: FiscalAuthority | None = None  # type: ignore[valid-type]
    updated_at: datetime | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RequeueFiscalInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    branch_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this branch's parked invoices; every branch's when left out."
    )


@strawberry.type
class RequeueFiscalPayload:
    requeued: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)
