"""Two branches (Lahore gives, Karachi receives), a third nobody here works at, stock at the
source, and staff with the roles a transfer passes through."""

import pytest

from models.staff import Role
from models.stock import StockLevel
from operations.directory.catalog import VariantRef
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from tests.factories import key, make_branch, make_variants, stock
from tests.operations.conftest import staff_actor


class Setup:
    pass


@pytest.fixture
async def two_branches(db):
    s = Setup()
    s.source = await make_branch("LHR")
    s.destination = await make_branch("KHI")
    s.elsewhere = await make_branch("ISB")
    s.kurta, s.shawl = await make_variants(2, prefix="K")
    await stock(s.source.id, s.kurta.id, 20)
    await stock(s.source.id, s.shawl.id, 5)
    s.source_clerk = await staff_actor(Role.INVENTORY, [s.source.id], email="clerk-lhr@t.pk")
    s.destination_clerk = await staff_actor(Role.INVENTORY, [s.destination.id], email="clerk-khi@t.pk")
    s.source_manager = await staff_actor(Role.BRANCH_MANAGER, [s.source.id], email="manager-lhr@t.pk")
    s.destination_manager = await staff_actor(Role.BRANCH_MANAGER, [s.destination.id], email="manager-khi@t.pk")
    s.outsider = await staff_actor(Role.INVENTORY, [s.elsewhere.id], email="clerk-isb@t.pk")
    s.cashier = await staff_actor(Role.CASHIER, [s.source.id, s.destination.id], email="cashier@t.pk")
    return s


async def level(branch, variant) -> StockLevel:
    found = await StockLevel.get_or_none(branch_id=branch.id, variant_id=variant.id)
    return found or StockLevel(on_hand=0, reserved=0, in_transit=0, damaged=0)


def request(s, lines, *, submit=True, k=None, **kw) -> transfers.NewTransfer:
    """lines: (variant, quantity)."""
    return transfers.NewTransfer(
        source_branch_id=kw.pop("source", s.source.id),
        destination_branch_id=kw.pop("destination", s.destination.id),
        lines=[transfers.RequestLine(VariantRef(id=v.id), q) for v, q in lines],
        idempotency_key=k or key("create"),
        submit=submit,
        **kw,
    )


async def approved(s, lines=None):
    """A transfer requested by the destination and approved by the source's manager."""
    t, _ = await transfers.create_transfer(s.destination_clerk, request(s, lines or [(s.kurta, 10)]))
    t, _ = await transfers.approve_transfer(s.source_manager, t.id, key("approve"))
    return t


async def dispatched(s, lines=None):
    t = await approved(s, lines)
    t, _ = await moves.dispatch_transfer(s.source_clerk, t.id, key("dispatch"))
    return t


def receipt(t, lines, k=None, note=None) -> moves.Receipt:
    """lines: (variant, received, damaged, missing[, reason])."""
    out = []
    for v, r, d, m, *why in lines:
        out.append(moves.ReceiveLine(moves.LineRef(variant_id=v.id), r, d, m, why[0] if why else "box torn"))
    return moves.Receipt(t.id, out, k or key("receive"), note)
