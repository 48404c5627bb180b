"""Knobs for what the reference leaves uncertain, with the defaults docs/fbr.md gives for each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DuplicateMode(StrEnum):
    """What the authority does with a USIN it already holds for that POS (undocumented)."""

    SAME_NUMBER = "same_number"  # answer Code 100 with the number it issued the first time
    REFUSE = "refuse"  # answer `duplicate_code` and "Not Available"


class NumberStyle(StrEnum):
    # POSID + yyyyMMdd + 6-digit sequence: the shape of the numbers seen (11000120181112000369).
    OBSERVED = "observed"
    # SRO 1006(I)/2021 press copies: XXXXXX-DDMMYYHHMMSS-0001.
    SRO_1006 = "sro1006"


@dataclass
class SimConfig:
    duplicate_mode: DuplicateMode = DuplicateMode.SAME_NUMBER
    duplicate_code: str = "103"  # invented: no IMS error catalogue is public (fbr/client.py DUPLICATE_CODES)
    duplicate_message: str = "Duplicate USIN: an invoice with this USIN was already received for this POS."
    invalid_code: str = "102"  # seen in the sandbox for a rejected payload
    invalid_message: str = "Invalid data received"
    success_message: str = "Fiscal Invoice Number generated successfully."
    number_style: NumberStyle = NumberStyle.OBSERVED
    test_suffix: bool = False  # sandbox numbers have been seen ending in "*test*"
    # Older components answered {"FBRInvoiceNumber": <a JSON number>, "Code": 100, ...}.
    legacy_answers: bool = False

    # The real service appears to bind leniently (numbers as strings were accepted in the sandbox) and its
    # arithmetic checks are unknown. The simulator is strict by default so that our mistakes show; a
    # payload it accepts is one the lenient service accepts too.
    strict_types: bool = True
    check_totals: bool = True
    check_pct: bool = True
    require_registered_pos: bool = True
    check_ref_usin_known: bool = False  # refuse a credit note whose RefUSIN was never received
    # Some implementations add the Re 1 POS fee into TotalBillAmount; accepted either way (0 disables).
    fee_in_bill: float = 1.0
    tolerance: float = 0.01  # rupees; line tax vs SaleValue × TaxRate / 100, header vs the sum of items

    max_calls: int = 100_000  # the call log keeps this many, newest last

    # The local fiscal component (no token) fiscalises for this authority and environment.
    local_authority: str = "fbr"
    local_environment: str = "sandbox"


# PostData paths as the real services have them (so a URL differs from the real one only in its origin).
ROUTES: dict[str, tuple[str, str]] = {
    "/FBR/v1/api/Live/PostData": ("fbr", "sandbox"),  # esp.fbr.gov.pk:8244
    "/imsp/v1/api/Live/PostData": ("fbr", "production"),  # gw.fbr.gov.pk
    "/ims/sandbox/api/Live/PostData": ("pra", "sandbox"),  # ims.pral.com.pk
    "/ims/production/api/Live/PostData": ("pra", "production"),
}
LOCAL_POST = "/api/IMSFiscal/GetInvoiceNumberByModel"  # the Windows fiscal component on localhost:8524
LOCAL_HEALTH = "/api/IMSFiscal/Get"


def path_for(authority: str, environment: str) -> str:
    for path, route in ROUTES.items():
        if route == (authority, environment):
            return path
    raise ValueError(f"no PostData route for {authority} {environment}")
