"""What a branch's stock is worth at weighted average cost, and what cannot be valued yet.

Value = Σ on hand × the variant's average cost (operations/purchasing/receiving.py keeps it), over
the branch's lines with positive on hand: a line below zero (sold before it was counted in) owes
units, it holds no value. Variants with stock but no cost yet (opening stock, transfers in, found
units — nothing received through a GRN) are listed so someone can receive or cost them.
Summed in Decimal in Python: SQLite keeps decimals as text and would sum them as floats.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from models.branches import Branch
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    fetch,
    require,
    require_signed_in,
    transaction,
)

PKR = Decimal("0.01")
MAX_UNCOSTED_LISTED = 100


@dataclass(frozen=True)
class Uncosted:
    variant_id: int
    sku: str
    on_hand: int


@dataclass
class Valuation:
    branch_id: int
    value: Decimal = Decimal("0.00")
    units_valued: int = 0
    variants_valued: int = 0
    uncosted_units: int = 0
    uncosted_count: int = 0
    uncosted: list[Uncosted] = field(default_factory=list)  # the first MAX_UNCOSTED_LISTED, by variant id


def may_see_costs(actor: Actor, branch_id: int) -> bool:
    """Costs are the buyer's and the accountant's business, not the counter's."""
    return actor.can(Permission.PURCHASE, branch_id) or actor.can(Permission.VIEW_REPORTS, branch_id)


async def stock_valuation(actor: Actor, branch_id: int) -> Valuation:
    require_signed_in(actor)
    if not may_see_costs(actor, branch_id):
        require(actor, Permission.PURCHASE, branch_id)  # raises, naming the permission
    if not await Branch.exists(id=branch_id):
        raise OperationError.single(ErrorCode.NOT_FOUND, f"branch {branch_id} does not exist", "branchId")
    async with transaction() as tx:  # one statement: one consistent snapshot of the branch
        rows = await fetch(
            tx.conn,
            "SELECT l.variant_id, v.sku, l.on_hand, v.average_cost FROM stock_level l"
            " JOIN variant v ON v.id = l.variant_id WHERE l.branch_id = ? AND l.on_hand > 0 ORDER BY l.variant_id",
            [branch_id],
        )
    out = Valuation(branch_id)
    total = Decimal(0)
    for r in rows:
        if r["average_cost"] is None:
            out.uncosted_count += 1
            out.uncosted_units += r["on_hand"]
            if len(out.uncosted) < MAX_UNCOSTED_LISTED:
                out.uncosted.append(Uncosted(r["variant_id"], r["sku"], r["on_hand"]))
            continue
        total += Decimal(str(r["average_cost"])) * r["on_hand"]
        out.units_valued += r["on_hand"]
        out.variants_valued += 1
    out.value = total.quantize(PKR)
    return out
