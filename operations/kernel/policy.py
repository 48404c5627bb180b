"""The retailer's selling rules, set once at start from settings (BRANCHLINE_*)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class SalesPolicy:
    # Pakistani shelf prices include sales tax; some chains print them exclusive.
    prices_include_tax: bool = True
    currency: str = "PKR"
    # A discount above this share of the line (or order) needs a manager's PIN.
    discount_approval_percent: Decimal = Decimal("20")
    # A refund above this amount needs a manager's PIN.
    refund_approval_amount: Decimal = Decimal("20000")
    # A stock adjustment moving more units than this (all lines together) needs a manager's approval.
    adjustment_approval_units: int = 20
    retailer_name: str = "Branchline Store"


policy = SalesPolicy()


def configure(**changes) -> None:
    for name, value in changes.items():
        setattr(policy, name, value)
