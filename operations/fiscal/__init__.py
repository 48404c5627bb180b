"""Fiscal reporting to FBR (IMS) or PRA: counters' registration and the authorities' tokens
(registration.py), the invoice built from a stored sale or return (building.py), the worker that reports them
outside any transaction (reporting.py), what is pending, ageing, parked or flagged (status.py), and the
receipt's QR (qr.py). The only context that imports `fbr/`.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.fiscal.qr import fiscal_qr_png, fiscal_qr_svg
from operations.fiscal.registration import (
    reencrypt_fiscal_tokens,
    set_branch_fiscal_authority,
    set_counter_fiscal_registration,
    set_fiscal_token,
)
from operations.fiscal.reporting import FISCAL_CHANNEL, drain_fiscal, report_due, requeue_fiscal
from operations.fiscal.status import BranchFiscal, FiscalFigures, fiscal_figures, fiscal_status

__all__ = [
    "FISCAL_CHANNEL",
    "BranchFiscal",
    "FiscalFigures",
    "drain_fiscal",
    "fiscal_figures",
    "fiscal_qr_png",
    "fiscal_qr_svg",
    "fiscal_status",
    "reencrypt_fiscal_tokens",
    "report_due",
    "requeue_fiscal",
    "set_branch_fiscal_authority",
    "set_counter_fiscal_registration",
    "set_fiscal_token",
]
