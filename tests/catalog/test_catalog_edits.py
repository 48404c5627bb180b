"""Catalog edits as operations: concurrent editors, XLSX files, costs, Shopify rows, the database's checks."""

import asyncio
import io
from decimal import Decimal

import orjson
import pytest
from openpyxl import Workbook
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from models.catalog import Product, Variant
from models.outbox import OutboxRow
from models.sales import TenderType
from models.staff import Role
from operations.counter import checkouts as sales
from operations.directory import (
    CATALOG_EDIT_TOPIC,
    MAX_ROWS,
    FileFormat,
    ImportRefused,
    VariantChanges,
    VariantRef,
    VariantTaken,
    import_catalog_updates,
    update_variant,
)
from operations.kernel import ErrorCode, OperationError
from operations.kernel.access import SYSTEM
from operations.purchasing import orders as purchasing
from operations.purchasing import receiving
from operations.purchasing import suppliers as purchase_suppliers
from tests.factories import deduct, key, make_branch, make_variants
from tests.operations.conftest import shop, staff_actor  # noqa: F401  (fixture)


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_two_editors_of_one_variant_keep_each_others_fields(db):
    branch = await make_branch()
    [v] = await make_variants(1, prefix="RACE")
    a = await staff_actor(Role.INVENTORY, [branch.id], email="a@t.pk")
    b = await staff_actor(Role.OWNER, [], email="b@t.pk")
    for round_ in range(5):
        results = await asyncio.gather(
            update_variant(a, v.id, VariantChanges(price=Decimal(f"{1100 + round_}.00")), f"a-{round_}"),
            update_variant(b, v.id, VariantChanges(tax_rate=Decimal(f"{10 + round_}.00")), f"b-{round_}"),
            return_exceptions=True,
        )
        assert all(isinstance(r, tuple) for r in results), results
        variant = await Variant.get(id=v.id)
        assert (variant.price, variant.tax_rate) == (Decimal(f"{1100 + round_}.00"), Decimal(f"{10 + round_}.00"))


async def test_two_editors_taking_one_sku_get_one_typed_refusal(db):
    a, b, _ = await make_variants(3, prefix="TAKE")
    results = await asyncio.gather(
        update_variant(SYSTEM, a.id, VariantChanges(sku="NEW-SKU"), "a"),
        update_variant(SYSTEM, b.id, VariantChanges(sku="NEW-SKU"), "b"),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], VariantTaken) and refused[0].variant_id == made[0][0].id
    assert refused[0].problems[0].code is ErrorCode.DUPLICATE
    assert await Variant.filter(sku="NEW-SKU").count() == 1


async def test_an_xlsx_file_updates_tax_rates_and_prices(db):
    a, b = await make_variants(2, prefix="XL")
    data = xlsx(
        [
            ["SKU", "Tax rate", "PCT code", "Price", "Compare-at price"],
            [a.sku, 18, "6204.4200", 1250.5, 1500],
            [],  # a blank row is skipped
            [b.sku, 17.5, None, None, None],
        ]
    )
    outcome, replayed = await import_catalog_updates(SYSTEM, data, FileFormat.XLSX, dry_run=False, idempotency_key="x")
    assert outcome.applied and not replayed and outcome.rows == 2
    a_now, b_now = await Variant.get(id=a.id), await Variant.get(id=b.id)
    assert (a_now.tax_rate, a_now.pct_code, a_now.price, a_now.compare_at_price) == (
        Decimal("18.00"),
        "6204.4200",
        Decimal("1250.50"),
        Decimal("1500.00"),
    )
    assert (b_now.tax_rate, b_now.price) == (Decimal("17.50"), Decimal("1000.00"))  # empty cells: unchanged
    assert {(c.row, c.field) for c in outcome.changes} == {
        (2, "tax_rate"),
        (2, "pct_code"),
        (2, "price"),
        (2, "compare_at_price"),
        (4, "tax_rate"),
    }


async def test_a_percent_formatted_cell_is_read_as_the_percentage_shown(db):
    [v] = await make_variants(1, prefix="PCT")
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "tax_rate"])
    sheet.append([v.sku, 0.18])
    sheet["B2"].number_format = "0%"
    out = io.BytesIO()
    book.save(out)
    await import_catalog_updates(SYSTEM, out.getvalue(), FileFormat.XLSX, dry_run=False, idempotency_key="p")
    assert (await Variant.get(id=v.id)).tax_rate == Decimal("18.00")


async def test_not_an_xlsx_file_and_too_many_rows_are_refused(db):
    with pytest.raises(OperationError) as bad:
        await import_catalog_updates(SYSTEM, b"not a zip", FileFormat.XLSX, dry_run=True, idempotency_key="n")
    assert bad.value.problems[0].code is ErrorCode.MALFORMED_FILE
    big = "sku,price\n" + "".join(f"S{i},1\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(OperationError) as many:
        await import_catalog_updates(SYSTEM, big.encode(), FileFormat.CSV, dry_run=True, idempotency_key="m")
    assert many.value.problems[0].code is ErrorCode.TOO_MANY


async def test_cost_opens_the_average_only_until_goods_are_received(db):
    branch = await make_branch("LHR")
    a, b = await make_variants(2, prefix="CST")
    supplier, _ = await purchase_suppliers.create_supplier(
        SYSTEM, purchase_suppliers.NewSupplier("Faisalabad Textiles", "+92 41 1234567", "s@fbt.pk", "1234567-8")
    )
    po, _ = await purchasing.create_purchase_order(
        SYSTEM,
        purchasing.NewPurchaseOrder(
            supplier_id=supplier.id,
            branch_id=branch.id,
            lines=[purchasing.OrderLine(VariantRef(id=a.id), 5, Decimal("400.00"))],
            idempotency_key=key("po"),
            place=True,
        ),
    )
    await receiving.receive_goods(
        SYSTEM, receiving.GoodsIn(po.id, [receiving.ReceiptLine(5, variant=VariantRef(id=a.id))], key("grn"), None)
    )
    assert (await Variant.get(id=a.id)).average_cost == Decimal("400.0000")
    csv_text = f"sku,cost\n{a.sku},350\n{b.sku},350\n"
    with pytest.raises(ImportRefused) as refused:
        await import_catalog_updates(SYSTEM, csv_text.encode(), FileFormat.CSV, dry_run=False, idempotency_key="c")
    [error] = refused.value.outcome.row_errors
    assert (error.row, error.column, error.code) == (2, "cost", ErrorCode.WRONG_STATE)
    assert (await Variant.get(id=b.id)).average_cost is None  # all or nothing
    same = f"sku,cost\n{a.sku},400\n{b.sku},350\n"  # the same cost is no change
    outcome, _ = await import_catalog_updates(SYSTEM, same.encode(), FileFormat.CSV, dry_run=False, idempotency_key="d")
    assert [(c.sku, c.field, c.after) for c in outcome.changes] == [(b.sku, "cost", "350.0000")]
    assert (await Variant.get(id=b.id)).average_cost == Decimal("350.0000")
    again = f"sku,cost\n{b.sku},360\n"  # no goods received for b yet: its opening cost may be corrected
    await import_catalog_updates(SYSTEM, again.encode(), FileFormat.CSV, dry_run=False, idempotency_key="e")
    assert (await Variant.get(id=b.id)).average_cost == Decimal("360.0000")


async def test_an_import_queues_one_catalog_edit_per_shopify_product_whose_price_changed(db):
    a, b = await make_variants(2, prefix="SHA")
    [c] = await make_variants(1, prefix="LOC")
    await Product.filter(id=a.product_id).update(shopify_product_id="gid://shopify/Product/7")
    csv_text = f"sku,price,tax_rate\n{a.sku},1100,18\n{b.sku},1200,18\n{c.sku},900,18\n"
    await import_catalog_updates(SYSTEM, csv_text.encode(), FileFormat.CSV, dry_run=False, idempotency_key="s")
    [row] = await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC)
    payload = row.payload if isinstance(row.payload, dict) else orjson.loads(row.payload)
    assert payload["productId"] == a.product_id
    assert payload["variantIds"] == sorted([a.id, b.id]) and payload["variantFields"] == ["price"]
    taxes = f"sku,tax_rate\n{a.sku},17\n"  # tax is Branchline's own: nothing for Shopify
    await import_catalog_updates(SYSTEM, taxes.encode(), FileFormat.CSV, dry_run=False, idempotency_key="t")
    assert await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).count() == 1


async def test_two_imports_of_one_key_at_once_apply_once(db):
    [v] = await make_variants(1, prefix="TWICE")
    data = f"sku,price\n{v.sku},1500\n".encode()
    results = await asyncio.gather(
        import_catalog_updates(SYSTEM, data, FileFormat.CSV, dry_run=False, idempotency_key="same"),
        import_catalog_updates(SYSTEM, data, FileFormat.CSV, dry_run=False, idempotency_key="same"),
    )
    assert sorted(replayed for _, replayed in results) == [False, True]
    assert [len(o.changes) for o, _ in results] == [1, 1]
    assert (await Variant.get(id=v.id)).price == Decimal("1500.00")


async def test_the_database_refuses_a_negative_compare_at_price(db):
    [v] = await make_variants(1, prefix="CHK")
    with pytest.raises(IntegrityError):
        await Tortoise.get_connection("default").execute_script(
            f"UPDATE variant SET compare_at_price = -1 WHERE id = {v.id}"
        )
    # The table rebuilt for the CHECK on SQLite kept its UNIQUE columns.
    with pytest.raises(IntegrityError):
        await Tortoise.get_connection("default").execute_script(
            f"UPDATE variant SET sku = 'X' WHERE id = {v.id}; "
            f"INSERT INTO variant (product_id, sku, title, price, "
            f"tax_rate, tracked, created_at) SELECT product_id, "
            f"'X', '', 1, 0, TRUE, created_at FROM variant"
        )


async def test_a_variant_whose_stock_is_not_tracked_sells_without_stock_and_a_tracked_one_does_not(db):
    """`tracked: false` (a service, gift wrapping) is never refused for a shortage; its movements are still
    recorded. Turning tracking back on guards it again."""
    branch = await make_branch()
    wrap, shawl = await make_variants(2, prefix="TRK")
    manager = await staff_actor(Role.OWNER, [], email="trk@t.pk")
    await update_variant(manager, wrap.id, VariantChanges(tracked=False), key())
    await deduct([(branch.id, wrap.id, 2)])
    with pytest.raises(OperationError) as refused:
        await deduct([(branch.id, shawl.id, 1)])
    assert refused.value.problems[0].code == ErrorCode.INSUFFICIENT_STOCK
    await update_variant(manager, wrap.id, VariantChanges(tracked=True), key())
    with pytest.raises(OperationError) as again:
        await deduct([(branch.id, wrap.id, 1)])
    assert again.value.problems[0].code == ErrorCode.INSUFFICIENT_STOCK


async def test_a_checkout_sells_an_untracked_variant_beyond_its_stock(shop):  # noqa: F811
    """The counter's path hands the ledger what it read (operations/stock/ledger.py References): the variant's
    tracking travels with it, so checkout follows the same rule as any posting."""
    owner = await staff_actor(Role.OWNER, [], email="trk-owner@t.pk")
    line = [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 12)]  # 10 on the shelf
    cash = [sales.Payment(TenderType.CASH, Decimal("20000"))]
    with pytest.raises(OperationError) as refused:
        await sales.checkout(shop.cashier, sales.Checkout(shop.counter.id, line, cash, idempotency_key="trk-1"))
    assert refused.value.problems[0].code == ErrorCode.INSUFFICIENT_STOCK
    await update_variant(owner, shop.kurta.id, VariantChanges(tracked=False), key())
    sale, _ = await sales.checkout(shop.cashier, sales.Checkout(shop.counter.id, line, cash, idempotency_key="trk-2"))
    assert sale.number is not None
