"""`branchline import --file`: a Shopify bulk-export file imported through the same path as a live import."""

import asyncio
from pathlib import Path

import orjson
import pytest

from models.branches import Branch
from models.catalog import Product, Variant
from models.customers import Customer
from models.shopify import ImportStatus, ShopifyLocation
from models.stock import StockLevel, StockMovement
from operations.kernel.access import SYSTEM
from operations.stock.adjustments import check_ledger
from operations.sync import catalog_import as shopify_import
from operations.sync.locations import map_location
from shopify import sample_export
from tests.factories import make_variants

VARIANTS, LOCATIONS, CUSTOMERS = 24, 3, 5


async def run_import(files: list[Path], *, create_branches: bool = True):
    job, _ = await shopify_import.start_import(SYSTEM, source="file", create_branches=create_branches)
    return await shopify_import.run_job(job.id, files)


def expected_on_hand(path: Path) -> dict[tuple[str, str], int]:
    """(location GID, variant GID) -> on_hand, read straight from the file."""
    out = {}
    for line in path.read_bytes().splitlines():
        obj = orjson.loads(line)
        if "gid://shopify/InventoryLevel/" in obj["id"]:
            q = {x["name"]: x["quantity"] for x in obj["quantities"]}
            out[(obj["location"]["id"], obj["__parentId"])] = q["on_hand"]
    return out


async def snapshot() -> dict:
    branches = {b.id: b.shopify_location_id for b in await Branch.all()}
    variants = {v.id: v for v in await Variant.all()}
    return {
        "variants": sorted((v.shopify_variant_id, v.sku, v.barcode, str(v.price), v.size) for v in variants.values()),
        "products": sorted((p.shopify_product_id, p.title) for p in await Product.all()),
        "customers": sorted((c.shopify_customer_id, c.first_name, c.phone) for c in await Customer.all()),
        "levels": sorted(
            (branches[lv.branch_id], variants[lv.variant_id].shopify_variant_id, lv.on_hand)
            for lv in await StockLevel.all()
        ),
    }


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "export.jsonl"
    sample_export.write_export(path, VARIANTS, LOCATIONS, customers=CUSTOMERS, shuffle=True)
    return path


async def test_every_object_arrives_once_with_opening_stock_through_the_ledger(db, export):
    job = await run_import([export])

    assert job.status == ImportStatus.COMPLETED, job.error
    assert await Branch.filter(shopify_location_id__isnull=False).count() == LOCATIONS
    assert await Product.all().count() == VARIANTS // 4
    assert await Variant.all().count() == VARIANTS
    assert await Customer.all().count() == CUSTOMERS
    levels = await snapshot()
    wanted = expected_on_hand(export)
    got = {(loc, var): on_hand for loc, var, on_hand in levels["levels"]}
    assert got == wanted  # every level, joined to its variant by __parentId, at the location's branch
    movements = await StockMovement.all()
    assert {m.reason for m in movements} == {"import"}
    assert len(movements) == sum(1 for q in wanted.values() if q != 0)
    assert await check_ledger() == ([], [])
    assert job.counts["variants"] == {"created": VARIANTS}
    assert job.objects_done == job.objects_total == LOCATIONS + VARIANTS * (1 + LOCATIONS) + CUSTOMERS


async def test_a_second_import_changes_nothing(db, export):
    await run_import([export])
    before = await snapshot()
    movements = await StockMovement.all().count()

    again = await run_import([export])

    assert again.status == ImportStatus.COMPLETED
    assert await snapshot() == before
    assert await StockMovement.all().count() == movements
    assert again.counts["variants"] == {"unchanged": VARIANTS}
    assert again.counts["customers"] == {"unchanged": CUSTOMERS}
    assert "opening_stock" not in again.counts["levels"]


async def test_line_order_does_not_matter(db, tmp_path):
    ordered, shuffled = tmp_path / "ordered.jsonl", tmp_path / "shuffled.jsonl"
    sample_export.write_export(ordered, VARIANTS, LOCATIONS, customers=CUSTOMERS)
    sample_export.write_export(shuffled, VARIANTS, LOCATIONS, customers=CUSTOMERS, shuffle=True, shuffle_seed=99)
    lines = shuffled.read_bytes().splitlines()
    first_level = next(i for i, ln in enumerate(lines) if b"InventoryLevel" in ln)
    first_variant = next(i for i, ln in enumerate(lines) if b"ProductVariant/" in ln and b"__parentId" not in ln)
    assert first_level < first_variant  # a child really does come before its parent here

    await run_import([shuffled])
    from_shuffled = await snapshot()
    from tests.conftest import truncate_all

    await truncate_all()
    await run_import([ordered])
    assert await snapshot() == from_shuffled


async def test_lines_without_typename_and_ids_beyond_2_pow_53_are_kept_exact(db, tmp_path):
    path = tmp_path / "plain.jsonl"
    sample_export.write_export(path, 4, 1, typename=False)
    job = await run_import([path])
    assert job.status == ImportStatus.COMPLETED, job.error
    gid = sample_export.variant_gid(1)
    assert int(gid.rsplit("/", 1)[1]) > 2**53
    assert await Variant.filter(shopify_variant_id=gid).exists()


async def test_a_malformed_line_fails_the_job_before_anything_is_written(db, export):
    lines = export.read_bytes().splitlines()
    lines.insert(len(lines) // 2, b'{"id": "gid://shopify/ProductVariant/1", "sku": ')
    export.write_bytes(b"\n".join(lines) + b"\n")

    job = await run_import([export])

    assert job.status == ImportStatus.FAILED
    assert job.error_code == "MALFORMED_FILE"
    assert f"line {len(lines) // 2 + 1}" in job.error
    assert await Variant.all().count() == 0
    assert await StockMovement.all().count() == 0
    assert await ShopifyLocation.all().count() == 0


async def test_a_variant_without_a_price_is_refused_with_its_line(db, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        orjson.dumps(
            {
                "id": "gid://shopify/ProductVariant/5",
                "sku": "X",
                "price": "abc",
                "product": {"id": "gid://shopify/Product/1"},
            }
        )
        + b"\n"
    )
    job = await run_import([path])
    assert job.status == ImportStatus.FAILED and job.error_code == "MALFORMED_FILE"
    assert "line 1" in job.error and "price" in job.error


async def test_unmapped_locations_are_refused_until_mapped(db, export):
    first = await run_import([export], create_branches=False)

    assert first.status == ImportStatus.FAILED
    assert first.error_code == "UNMAPPED_LOCATION"
    assert "Branch 1" in first.error
    assert await Variant.all().count() == 0  # nothing half-imported
    assert await Branch.all().count() == 0

    # The owner maps two locations to existing branches and ignores the third.
    from tests.factories import make_branch

    lahore, karachi = await make_branch("LHR"), await make_branch("KHI")
    locations = [sample_export.location_gid(n) for n in (1, 2, 3)]
    # The failed run rolled back its locations too: the file is imported once with creation off, so the
    # locations become known, then mapped.
    for gid in locations:
        await ShopifyLocation.create(shopify_location_id=gid, name=gid)
    await map_location(SYSTEM, locations[0], lahore.id)
    await map_location(SYSTEM, locations[1], karachi.id)
    await map_location(SYSTEM, locations[2], None, ignore=True)

    second = await run_import([export], create_branches=False)

    assert second.status == ImportStatus.COMPLETED, second.error
    assert await Branch.all().count() == 2
    assert second.counts["levels"]["ignored_location"] == VARIANTS
    on_hand = expected_on_hand(export)
    level = await StockLevel.get(branch_id=karachi.id, variant__shopify_variant_id=sample_export.variant_gid(3))
    assert level.on_hand == on_hand[(locations[1], sample_export.variant_gid(3))]


async def test_shopify_skus_are_made_unique_and_branchline_variants_linked(db, tmp_path):
    (existing,) = await make_variants(1, prefix="SKU")  # sku "SKU-0": made in Branchline before connecting
    await Variant.filter(id=existing.id).update(barcode="111")  # the same barcode as on Shopify
    path = tmp_path / "skus.jsonl"
    rows = [
        {"id": "gid://shopify/ProductVariant/1", "sku": "SKU-0", "price": "10.00", "barcode": "111",
         "product": {"id": "gid://shopify/Product/1", "title": "A"}},
        {"id": "gid://shopify/ProductVariant/2", "sku": "SKU-0", "price": "10.00", "barcode": "111",
         "product": {"id": "gid://shopify/Product/1", "title": "A"}},
        {"id": "gid://shopify/ProductVariant/3", "sku": None, "price": "10.00",
         "product": {"id": "gid://shopify/Product/1", "title": "A"}},
    ]  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")

    job = await run_import([path])

    assert job.status == ImportStatus.COMPLETED, job.error
    await existing.refresh_from_db()
    assert existing.shopify_variant_id == "gid://shopify/ProductVariant/1"  # linked, not duplicated
    assert existing.barcode == "111"
    second = await Variant.get(shopify_variant_id="gid://shopify/ProductVariant/2")
    assert second.sku == "SKU-0-2" and second.barcode is None
    assert (await Variant.get(shopify_variant_id="gid://shopify/ProductVariant/3")).sku == "SHOPIFY-3"
    assert len(job.warnings) == 2
    assert (await run_import([path])).status == ImportStatus.COMPLETED
    assert await Variant.all().count() == 3


async def test_two_owners_starting_an_import_at_once_get_one_job(db):
    from models.shopify import ImportJob
    from operations.kernel.errors import OperationError

    results = await asyncio.gather(
        *(shopify_import.start_import(SYSTEM, source="file") for _ in range(4)), return_exceptions=True
    )
    started = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert len(started) == 1 and len(refused) == 3, results
    assert all(r.problems[0].code.value == "WRONG_STATE" for r in refused)
    assert await ImportJob.all().count() == 1


async def test_a_job_whose_process_died_does_not_block_the_next_import(db, export):
    from datetime import UTC, datetime, timedelta

    from models.shopify import ImportJob

    dead, _ = await shopify_import.start_import(SYSTEM, source="file")
    await ImportJob.filter(id=dead.id).update(
        status=ImportStatus.RUNNING, heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)
    )

    job = await run_import([export])

    assert job.status == ImportStatus.COMPLETED
    await dead.refresh_from_db()
    assert (dead.status, dead.error_code, dead.running) == (ImportStatus.FAILED, "INTERRUPTED", None)


async def test_two_imports_running_together_take_opening_stock_once(db, export):
    """Past the one-at-a-time guard (e.g. a CLI import beside a server's), stock is still taken once."""
    from models.shopify import ImportJob

    jobs = [await ImportJob.create(source="file") for _ in range(2)]
    results = await asyncio.gather(*(shopify_import.run_job(j.id, [export]) for j in jobs))

    assert any(r.status == ImportStatus.COMPLETED for r in results)
    got = {(loc, var): q for loc, var, q in (await snapshot())["levels"]}
    assert got == expected_on_hand(export)
    assert await check_ledger() == ([], [])
    if any(r.status == ImportStatus.FAILED for r in results):  # the loser re-runs cleanly
        assert (await run_import([export])).status == ImportStatus.COMPLETED
        assert {(loc, var): q for loc, var, q in (await snapshot())["levels"]} == expected_on_hand(export)


async def test_many_batches_written_side_by_side_each_take_their_own_posting(db, export, monkeypatch):
    """Small batches force several level batches in flight at once (two writers on PostgreSQL)."""
    monkeypatch.setattr(shopify_import, "BATCH_SIZE", 7)

    job = await run_import([export])

    assert job.status == ImportStatus.COMPLETED, job.error
    got = {(loc, var): q for loc, var, q in (await snapshot())["levels"]}
    assert got == expected_on_hand(export)
    assert await check_ledger() == ([], [])


async def test_stock_branchline_already_counts_is_not_overwritten_or_added_to(db, tmp_path):
    from tests.factories import make_branch, stock

    lahore = await make_branch("LHR")
    (kurta,) = await make_variants(1, prefix="KRT")  # sku "KRT-0", counted here before Shopify was connected
    await stock(lahore.id, kurta.id, 5)
    location = sample_export.location_gid(1)
    await ShopifyLocation.create(shopify_location_id=location, name="Lahore")
    await map_location(SYSTEM, location, lahore.id)
    path = tmp_path / "one.jsonl"
    rows = [
        {"id": location, "name": "Lahore"},
        {"id": "gid://shopify/ProductVariant/1", "sku": "KRT-0", "price": "10.00",
         "product": {"id": "gid://shopify/Product/1", "title": "Kurta"}},
        {"id": "gid://shopify/InventoryLevel/1?inventory_item_id=1", "__parentId": "gid://shopify/ProductVariant/1",
         "location": {"id": location}, "quantities": [{"name": "on_hand", "quantity": 9}]},
    ]  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")

    job = await run_import([path])

    assert job.status == ImportStatus.COMPLETED, job.error
    assert (await StockLevel.get(branch_id=lahore.id, variant_id=kurta.id)).on_hand == 5
    assert job.counts["levels"] == {"already_present": 1}
    assert await check_ledger() == ([], [])


async def test_opening_stock_is_announced_live_movement_by_movement(bus, export):
    """Dashboards watching a branch see the import's opening stock like any other change: one
    stockChanged event per movement, carrying the movement's id, sequence and resulting levels."""
    from tests.factories import make_branch

    lahore = await make_branch("LHR")
    location = sample_export.location_gid(1)
    for n in (1, 2, 3):
        await ShopifyLocation.create(shopify_location_id=sample_export.location_gid(n), name=f"L{n}")
    await map_location(SYSTEM, location, lahore.id)
    for n in (2, 3):
        await map_location(SYSTEM, sample_export.location_gid(n), None, ignore=True)

    async with bus.subscribe([f"stock:{lahore.id}"]) as sub:
        job = await run_import([export], create_branches=False)
        assert job.status == ImportStatus.COMPLETED, job.error
        events = []
        while message := await sub.get(timeout=1):
            events += orjson.loads(message.message)

    movements = await StockMovement.filter(branch_id=lahore.id).order_by("sequence").prefetch_related("variant")
    assert movements, "the sample export has stock at the first location"
    assert [
        (e["movementId"], e["sequence"], e["variantId"], e["sku"], e["delta"], e["onHand"], e["available"])
        for e in sorted(events, key=lambda e: e["sequence"])
    ] == [(m.id, m.sequence, m.variant_id, m.variant.sku, m.delta, m.on_hand_after, m.on_hand_after) for m in movements]
    assert {(e["bucket"], e["reason"], e["reserved"], e["inTransit"], e["damaged"]) for e in events} == {
        ("on_hand", "import", 0, 0, 0)
    }


async def test_damaged_units_land_in_the_damaged_bucket_and_unsellable_states_stay_out(db, tmp_path):
    """Shopify's on_hand counts damaged, safety-stock and quality-control units too. Branchline's on
    hand is what Shopify could sell or has promised (available + committed + reserved), damaged units
    go to the damaged bucket, so the drift check and the push compare like with like from day one."""
    path = tmp_path / "damaged.jsonl"
    sample_export.write_export(path, 2, 1)
    rewritten = []
    for raw in path.read_bytes().splitlines():
        obj = orjson.loads(raw)
        if "gid://shopify/InventoryLevel/" in obj["id"]:
            # available 5, committed 2, reserved 1, damaged 3, safety stock 4: on_hand 15
            obj["quantities"] = [
                {"name": "available", "quantity": 5},
                {"name": "committed", "quantity": 2},
                {"name": "reserved", "quantity": 1},
                {"name": "damaged", "quantity": 3},
                {"name": "on_hand", "quantity": 15},
            ]
        rewritten.append(orjson.dumps(obj))
    path.write_bytes(b"\n".join(rewritten) + b"\n")

    job = await run_import([path])

    assert job.status == ImportStatus.COMPLETED, job.error
    levels = await StockLevel.all()
    assert len(levels) == 2
    assert {(lv.on_hand, lv.reserved, lv.damaged) for lv in levels} == {(8, 0, 3)}
    movements = await StockMovement.all().order_by("sequence")
    assert sorted((m.bucket.value, m.delta) for m in movements) == [("damaged", 3)] * 2 + [("on_hand", 8)] * 2
    assert await check_ledger() == ([], [])
