"""The demo seed: a full, valid retailer imported from the demo Shopify shop (the simulator, over
HTTP) into an empty database, and safe to run again."""

import pytest

import server.demo as demo
from models.branches import Branch, Counter
from models.catalog import Product, Variant
from models.stock import StockLevel, StockMovement
from operations.stock.adjustments import check_ledger
from server.demo_shop import build_demo_shop
from shopify.simulator import serve_simulator
from tests.conftest import settings_changed


@pytest.fixture
async def empty_db(db):
    """The suite's own database, emptied: SQLite or PostgreSQL as the run goes. (A SQLite file of
    its own here would fill Tortoise's per-table INSERT cache, which is not keyed by dialect, with
    SQLite text that PostgreSQL then refuses.)"""
    yield


@pytest.fixture
async def shop():
    """The demo's Shopify shop, served by the simulator; Branchline's Shopify calls go there."""
    shop = build_demo_shop()
    async with serve_simulator(shop) as url:
        with settings_changed(shopify={"public_url": "http://127.0.0.1:9", "base_url": url}):
            shop.url = url
            yield shop
    shop.close()


def valid_ean13(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


async def counts() -> tuple[int, int, int, int, int, int]:
    on_hand = sum(await StockLevel.all().values_list("on_hand", flat=True))
    return (
        await Branch.all().count(),
        await Counter.all().count(),
        await Product.all().count(),
        await Variant.all().count(),
        await StockLevel.all().count(),
        on_hand,
    )


def expected_on_hand() -> int:
    skus = [v.sku for p in demo.catalog() for v in p.variants]
    return sum(sum(q) for q in demo.opening_quantities(skus).values())


async def test_seeds_an_empty_database_once(empty_db, shop):
    assert await demo.seed_demo(shop.url, shop) is True

    branches, counters, products, variants, levels, on_hand = await counts()
    assert branches == 3
    assert counters >= 6
    assert products >= 45
    assert variants >= 150
    assert levels > 0
    assert on_hand == expected_on_hand() > 0
    barcodes = await Variant.all().values_list("barcode", flat=True)
    assert all(valid_ean13(b) for b in barcodes)
    assert all(b.startswith("896") for b in barcodes)
    assert await check_ledger() == ([], [])

    # In BRANCHES order, whatever order Shopify lists its locations in (by name): the README's IDs.
    assert [b.code for b in await Branch.all().order_by("id")] == [code for code, _, _ in demo.BRANCHES]
    counters_in_order = await Counter.all().order_by("id").values_list("branch__code", "code")
    assert counters_in_order[0] == ("LHR-GUL", "C1")
    assert set(await StockMovement.all().values_list("reason", flat=True)) == {"import"}  # through the import
    assert await Variant.filter(tax_rate=18, pct_code__isnull=False).count() == variants

    assert await demo.seed_demo(shop.url, shop) is False
    assert await counts() == (branches, counters, products, variants, levels, on_hand)
    assert await check_ledger() == ([], [])


async def test_a_seed_interrupted_half_way_completes_on_the_next_run(empty_db, shop, monkeypatch):
    real_create_staff = demo.create_staff
    calls = 0

    async def crash_on_second_staff(actor, new):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("server killed")
        return await real_create_staff(actor, new)

    monkeypatch.setattr(demo, "create_staff", crash_on_second_staff)
    with pytest.raises(RuntimeError):
        await demo.seed_demo(shop.url, shop)
    monkeypatch.setattr(demo, "create_staff", real_create_staff)

    assert await demo.seed_demo(shop.url, shop) is True
    branches, counters, products, variants, _, on_hand = await counts()
    assert (branches, counters, products) == (3, 8, len(demo.PRODUCTS))
    assert variants == sum(len(p.variants) for p in demo.catalog())
    assert on_hand == expected_on_hand()  # the imported stock was not taken twice
    assert await check_ledger() == ([], [])
    assert await demo.seed_demo(shop.url, shop) is False


async def test_leaves_a_real_retailer_alone(empty_db, shop):
    from operations.directory.branches import NewBranch, create_branch
    from operations.kernel.access import SYSTEM

    await create_branch(SYSTEM, NewBranch(code="MAIN", name="Main Store"))
    assert await demo.seed_demo(shop.url, shop) is False
    assert await Branch.all().count() == 1
    assert await Product.all().count() == 0


def test_the_demo_shop_picks_up_where_the_last_run_left_it(tmp_path):
    """Branchline's database outlives a demo run, so the demo's Shopify must too: a restarted shop that
    handed out order #1001 again would collide with the order Branchline already holds."""
    from server.demo_shop import open_demo_shop, save_demo_shop

    saved = tmp_path / "demo-shop.json"
    first = open_demo_shop(saved)
    variant = next(iter(first.variants.values()))
    placed = first.place_order([(variant.gid, 1)])
    save_demo_shop(first, saved)
    first.close()

    again = open_demo_shop(saved)
    assert placed.id in again.orders
    later = again.place_order([(variant.gid, 1)])
    assert (later.id, later.name) != (placed.id, placed.name)
    again.close()
    assert open_demo_shop(tmp_path / "nothing-yet.json").orders == {}
