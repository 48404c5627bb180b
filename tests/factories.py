"""Small builders for test data, through the same operations the API uses."""

from decimal import Decimal
from itertools import count

from operations.directory import branches, catalog
from operations.kernel.access import SYSTEM
from operations.kernel.transactions import transaction
from operations.stock import ledger

_n = count(1)


async def make_branch(code: str | None = None, *, allow_negative_stock: bool = False):
    code = code or f"B{next(_n)}"
    branch, _ = await branches.create_branch(
        SYSTEM, branches.NewBranch(code=code, name=f"Branch {code}", allow_negative_stock=allow_negative_stock)
    )
    return branch


async def make_variants(n: int = 1, prefix: str | None = None):
    prefix = prefix or f"P{next(_n)}"
    product, _ = await catalog.create_product(
        SYSTEM,
        catalog.NewProduct(
            title=f"Product {prefix}",
            variants=[catalog.NewVariant(sku=f"{prefix}-{i}", price=Decimal("1000.00")) for i in range(n)],
        ),
    )
    return list(await product.variants.all().order_by("id"))


async def stock(branch_id: int, variant_id: int, quantity: int, key: str | None = None):
    async with transaction() as tx:
        return await ledger.apply(
            tx,
            ledger.Posting(key or f"stock:{next(_n)}", "opening_stock"),
            [ledger.Movement(branch_id, variant_id, quantity)],
        )


async def deduct(lines: list[tuple[int, int, int]], key: str | None = None, reason: str = "sale"):
    """lines: (branch id, variant id, units to take)."""
    async with transaction() as tx:
        return await ledger.apply(
            tx,
            ledger.Posting(key or f"sale:{next(_n)}", reason),
            [ledger.Movement(b, v, -q) for b, v, q in lines],
        )


_keys = count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key for a test request."""
    return f"{prefix}-{next(_keys)}"
