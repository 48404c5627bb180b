"""Editing the catalog over GraphQL: the next sale follows an edit, uniqueness, archiving, who may,
idempotent replays, the Shopify outbox, and a bulk update from a file."""

import re
from decimal import Decimal
from pathlib import Path

import orjson

from models.catalog import Product, Variant
from models.outbox import OutboxRow
from models.staff import AuditEntry, Role
from operations.counter.registers import open_register
from operations.directory import CATALOG_EDIT_TOPIC, NewProduct, NewVariant, create_product
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text()
UPDATE_VARIANT = """mutation($input: UpdateVariantInput!) { updateVariant(input: $input) {
  variant { id sku barcode title price { amount } compareAtPrice { amount } taxRate pctCode size colour tracked }
  errors { field message code } } }"""
UPDATE_PRODUCT = """mutation($input: UpdateProductInput!) { updateProduct(input: $input) {
  product { id title vendor productType } errors { field message code } } }"""
ARCHIVE = """mutation($input: ArchiveProductInput!) { archiveProduct(input: $input) {
  product { id archived archivedAt } errors { field message code } } }"""
UNARCHIVE = """mutation($input: ArchiveProductInput!) { unarchiveProduct(input: $input) {
  product { id archived } errors { field message code } } }"""
CREATE_VARIANT = """mutation($input: CreateVariantInput!) { createVariant(input: $input) {
  variant { id sku title product { id } } errors { field message code } } }"""
IMPORT = """mutation($input: ImportCatalogUpdatesInput!) { importCatalogUpdates(input: $input) {
  applied rows changes { row sku field before after } rowErrors { row column message code } rowErrorCount
  errors { field message code } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id taxTotal { amount } total { amount } receiptText(widthMm: 80) } errors { field message code } } }"""


def vid(variant) -> str:
    return str(global_id("Variant", variant.id))


def pid(product_id: int) -> str:
    return str(global_id("Product", product_id))


async def selling_counter(anonymous):
    branch = await make_branch("LHR")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="2468")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    return branch, counter, cashier


def sale_input(counter, sku: str, key: str) -> dict:
    return {
        "input": {
            "counterId": str(global_id("Counter", counter.id)),
            "lines": [{"variant": {"sku": sku}, "quantity": 1}],
            "tenders": [{"type": "CASH", "amount": "1000.00"}],
            "idempotencyKey": key,
        }
    }


async def test_a_tax_rate_edited_is_what_the_next_sale_charges_and_prints(anonymous, api, db):
    branch, counter, cashier = await selling_counter(anonymous)
    [v] = await make_variants(1, prefix="KRT")
    await stock(branch.id, v.id, 5)
    before = await cashier(CHECKOUT, sale_input(counter, v.sku, "sale-1"))
    assert before["checkout"]["sale"]["taxTotal"]["amount"] == "0.00"

    edited = await api(
        UPDATE_VARIANT,
        {"input": {"variantId": vid(v), "taxRate": "18.00", "pctCode": "6204.4200", "idempotencyKey": "t"}},
    )
    assert edited["updateVariant"]["errors"] == []
    assert (edited["updateVariant"]["variant"]["taxRate"], edited["updateVariant"]["variant"]["pctCode"]) == (
        "18.00",
        "6204.4200",
    )
    after = await cashier(CHECKOUT, sale_input(counter, v.sku, "sale-2"))
    sale = after["checkout"]["sale"]
    # Prices include tax: 1000 at 18% holds 152.54 of it.
    assert (sale["total"]["amount"], sale["taxTotal"]["amount"]) == ("1000.00", "152.54")
    assert "Sales tax 18" in sale["receiptText"] and "152.54" in sale["receiptText"]
    entry = await AuditEntry.get(action="variant.updated", target_id=str(v.id))
    assert entry.detail["tax_rate_before"] == "0.00" and entry.detail["tax_rate"] == "18.00"


async def test_variant_fields_change_alone_and_a_replay_changes_nothing(api, db):
    [v] = await make_variants(1, prefix="LWN")
    edit = {
        "variantId": vid(v),
        "title": "Lawn 3pc",
        "price": "2500.00",
        "compareAtPrice": "3000.00",
        "barcode": "8964000000017",
        "size": "M",
        "colour": "Teal",
        "tracked": False,
        "idempotencyKey": "lawn-1",
    }
    first = await api(UPDATE_VARIANT, {"input": edit})
    variant = first["updateVariant"]["variant"]
    assert first["updateVariant"]["errors"] == []
    assert (variant["price"]["amount"], variant["compareAtPrice"]["amount"], variant["tracked"]) == (
        "2500.00",
        "3000.00",
        False,
    )
    assert variant["sku"] == v.sku and variant["taxRate"] == "0.00"  # not given: kept
    await Variant.filter(id=v.id).update(price=Decimal("2600.00"))  # someone else's later edit
    again = await api(UPDATE_VARIANT, {"input": edit})
    assert again["updateVariant"]["variant"]["price"]["amount"] == "2600.00"  # the replay wrote nothing
    assert await AuditEntry.filter(action="variant.updated").count() == 1
    cleared = await api(
        UPDATE_VARIANT, {"input": {"variantId": vid(v), "compareAtPrice": None, "barcode": "", "idempotencyKey": "c"}}
    )
    assert cleared["updateVariant"]["variant"]["compareAtPrice"] is None
    assert cleared["updateVariant"]["variant"]["barcode"] is None
    reused = await api(UPDATE_VARIANT, {"input": edit | {"price": "1.00"}})
    assert reused["updateVariant"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_bad_values_are_typed_errors_and_change_nothing(api, db):
    [v] = await make_variants(1, prefix="BAD")
    result = await api(
        UPDATE_VARIANT,
        {
            "input": {
                "variantId": vid(v),
                "price": "-1",
                "taxRate": "101",
                "compareAtPrice": "1.005",
                "sku": " ",
                "idempotencyKey": "bad",
            }
        },
    )
    fields = {(e["field"], e["code"]) for e in result["updateVariant"]["errors"]}
    assert fields == {("price", "INVALID"), ("taxRate", "INVALID"), ("compareAtPrice", "INVALID"), ("sku", "INVALID")}
    assert (await Variant.get(id=v.id)).price == Decimal("1000.00")


async def test_duplicate_sku_or_barcode_is_refused_naming_the_variant(api, db):
    a, b = await make_variants(2, prefix="DUP")
    await Variant.filter(id=a.id).update(barcode="111")
    sku = await api(UPDATE_VARIANT, {"input": {"variantId": vid(b), "sku": a.sku, "idempotencyKey": "s"}})
    [error] = sku["updateVariant"]["errors"]
    assert (error["field"], error["code"]) == ("sku", "DUPLICATE") and vid(a) in error["message"]
    barcode = await api(UPDATE_VARIANT, {"input": {"variantId": vid(b), "barcode": "111", "idempotencyKey": "b"}})
    [error] = barcode["updateVariant"]["errors"]
    assert (error["field"], error["code"]) == ("barcode", "DUPLICATE") and a.sku in error["message"]
    made = await api(
        CREATE_VARIANT,
        {"input": {"productId": pid(a.product_id), "sku": b.sku, "price": "10", "idempotencyKey": "n"}},
    )
    assert made["createVariant"]["errors"][0]["code"] == "DUPLICATE"
    assert (await Variant.get(id=b.id)).sku == b.sku and await Variant.filter(product_id=a.product_id).count() == 2


async def test_create_variant_and_update_product(api, db):
    [v] = await make_variants(1, prefix="KRT")
    made = await api(
        CREATE_VARIANT,
        {
            "input": {
                "productId": pid(v.product_id),
                "sku": "KRT-L",
                "price": "1200",
                "size": "L",
                "colour": "Red",
                "taxRate": "18",
                "idempotencyKey": "new-l",
            }
        },
    )
    assert made["createVariant"]["errors"] == []
    assert made["createVariant"]["variant"]["title"] == "L / Red"
    assert made["createVariant"]["variant"]["product"]["id"] == pid(v.product_id)
    again = await api(
        CREATE_VARIANT,
        {
            "input": {
                "productId": pid(v.product_id),
                "sku": "KRT-L",
                "price": "1200",
                "size": "L",
                "colour": "Red",
                "taxRate": "18",
                "idempotencyKey": "new-l",
            }
        },
    )
    assert again["createVariant"]["variant"]["id"] == made["createVariant"]["variant"]["id"]
    product = await api(
        UPDATE_PRODUCT,
        {"input": {"productId": pid(v.product_id), "title": "Kurta", "vendor": "Khaadi", "idempotencyKey": "p"}},
    )
    assert product["updateProduct"]["product"]["title"] == "Kurta"
    assert product["updateProduct"]["product"]["vendor"] == "Khaadi"
    empty = await api(UPDATE_PRODUCT, {"input": {"productId": pid(v.product_id), "title": " ", "idempotencyKey": "e"}})
    assert empty["updateProduct"]["errors"][0]["code"] == "INVALID"


async def test_an_archived_product_is_not_sold_but_still_listed_and_can_come_back(anonymous, api, db):
    branch, counter, cashier = await selling_counter(anonymous)
    [v] = await make_variants(1, prefix="OLD")
    await stock(branch.id, v.id, 5)
    archived = await api(ARCHIVE, {"input": {"productId": pid(v.product_id), "idempotencyKey": "a"}})
    assert archived["archiveProduct"]["product"]["archived"] is True
    twice = await api(ARCHIVE, {"input": {"productId": pid(v.product_id), "idempotencyKey": "a2"}})
    assert twice["archiveProduct"]["errors"][0]["code"] == "WRONG_STATE"
    refused = await cashier(CHECKOUT, sale_input(counter, v.sku, "old-1"))
    [error] = refused["checkout"]["errors"]
    assert (error["code"], error["field"]) == ("ARCHIVED", "lines.0.variant")
    listed = await api("query { variants(first: 10, archived: true) { edges { node { sku } } } }")
    assert [e["node"]["sku"] for e in listed["variants"]["edges"]] == [v.sku]
    sellable = await api("query { variants(first: 10, archived: false) { edges { node { sku } } } }")
    assert sellable["variants"]["edges"] == []
    back = await api(UNARCHIVE, {"input": {"productId": pid(v.product_id), "idempotencyKey": "u"}})
    assert back["unarchiveProduct"]["product"]["archived"] is False
    sold = await cashier(CHECKOUT, sale_input(counter, v.sku, "old-2"))
    assert sold["checkout"]["errors"] == []


async def test_a_draft_of_an_archived_product_is_refused(anonymous, api, db):
    branch, counter, cashier = await selling_counter(anonymous)
    [v] = await make_variants(1, prefix="DRF")
    await stock(branch.id, v.id, 5)
    counter_id = str(global_id("Counter", counter.id))
    saved = await cashier(
        """mutation($input: SaveDraftInput!) { saveDraft(input: $input) { sale { id } errors { code } } }""",
        {
            "input": {
                "counterId": counter_id,
                "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
                "idempotencyKey": "d",
            }
        },
    )
    draft_id = saved["saveDraft"]["sale"]["id"]
    await api(ARCHIVE, {"input": {"productId": pid(v.product_id), "idempotencyKey": "a"}})
    placed = await cashier(
        """mutation($input: PlaceDraftInput!) { placeDraft(input: $input) { sale { id } errors { code field } } }""",
        {
            "input": {
                "draftId": draft_id,
                "counterId": counter_id,
                "tenders": [{"type": "CASH", "amount": "1000"}],
                "idempotencyKey": "p",
            }
        },
    )
    assert placed["placeDraft"]["errors"][0]["code"] == "ARCHIVED"
    again = await cashier(
        """mutation($input: SaveDraftInput!) { saveDraft(input: $input) { sale { id } errors { code } } }""",
        {
            "input": {
                "counterId": counter_id,
                "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
                "idempotencyKey": "e",
            }
        },
    )
    assert again["saveDraft"]["errors"][0]["code"] == "ARCHIVED"


async def test_a_cashier_may_not_edit_the_catalog(anonymous, db):
    branch = await make_branch()
    [v] = await make_variants(1, prefix="CSH")
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id])
    for query, variables in (
        (UPDATE_VARIANT, {"input": {"variantId": vid(v), "price": "1", "idempotencyKey": "x"}}),
        (UPDATE_PRODUCT, {"input": {"productId": pid(v.product_id), "title": "X", "idempotencyKey": "x"}}),
        (ARCHIVE, {"input": {"productId": pid(v.product_id), "idempotencyKey": "x"}}),
        (IMPORT, {"input": {"file": "sku,price\nCSH-0,1\n", "format": "CSV", "dryRun": True, "idempotencyKey": "x"}}),
    ):
        body = await cashier.raw(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert (await Variant.get(id=v.id)).price == Decimal("1000.00")


async def test_a_shopify_linked_price_edit_queues_one_catalog_edit(api, db):
    [v, w] = await make_variants(2, prefix="SHP")
    await Product.filter(id=v.product_id).update(shopify_product_id="gid://shopify/Product/1")
    edit = {"variantId": vid(v), "price": "1500.00", "taxRate": "18", "idempotencyKey": "shp-1"}
    await api(UPDATE_VARIANT, {"input": edit})
    await api(UPDATE_VARIANT, {"input": edit})  # a replay queues nothing more
    rows = await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC)
    assert len(rows) == 1
    payload = rows[0].payload if isinstance(rows[0].payload, dict) else orjson.loads(rows[0].payload)
    assert payload["variantIds"] == [v.id] and payload["variantFields"] == ["price"]  # tax rate is ours alone
    await api(UPDATE_VARIANT, {"input": {"variantId": vid(w), "pctCode": "6204", "idempotencyKey": "shp-2"}})
    assert await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).count() == 1  # nothing Shopify holds changed
    await api(UPDATE_PRODUCT, {"input": {"productId": pid(v.product_id), "title": "New", "idempotencyKey": "shp-3"}})
    assert await OutboxRow.filter(topic=CATALOG_EDIT_TOPIC).count() == 2


async def test_a_csv_with_one_bad_row_changes_nothing_and_names_the_row(api, db):
    a, b, c = await make_variants(3, prefix="CSV")
    csv_text = f"SKU,Tax Rate,PCT Code,Price\n{a.sku},18,6204.4200,1100\n{b.sku},17,,abc\n{c.sku},18,,1200\n"
    variables = {"input": {"file": csv_text, "format": "CSV", "dryRun": False, "idempotencyKey": "csv-1"}}
    result = (await api(IMPORT, variables))["importCatalogUpdates"]
    assert result["applied"] is False and result["rowErrorCount"] == 1
    assert result["rowErrors"] == [
        {"row": 3, "column": "price", "message": "price is not a number: 'abc'", "code": "INVALID"}
    ]
    assert result["errors"][0]["field"] == "file" and "row 3" in result["errors"][0]["message"]
    assert {v.tax_rate for v in await Variant.all()} == {Decimal("0.00")}
    fixed = csv_text.replace("abc", "1150")
    variables["input"]["file"] = fixed
    applied = (await api(IMPORT, variables))["importCatalogUpdates"]  # the refused run used no key
    assert applied["applied"] is True and applied["errors"] == []
    assert {(ch["sku"], ch["field"], ch["after"]) for ch in applied["changes"]} >= {
        (a.sku, "tax_rate", "18.00"),
        (a.sku, "pct_code", "6204.4200"),
        (b.sku, "price", "1150.00"),
    }
    assert (await Variant.get(id=b.id)).price == Decimal("1150.00")
    replay = (await api(IMPORT, variables))["importCatalogUpdates"]
    assert replay["applied"] is True and replay["changes"] == applied["changes"]
    assert await AuditEntry.filter(action="catalog.updates_imported").count() == 1


async def test_a_dry_run_writes_nothing_and_unknown_columns_are_refused(api, db):
    [v] = await make_variants(1, prefix="DRY")
    csv_text = f"sku,price,cost\n{v.sku},900,450.5\nNOPE-1,1,\n"
    dry = (await api(IMPORT, {"input": {"file": csv_text, "format": "CSV", "dryRun": True, "idempotencyKey": "d"}}))[
        "importCatalogUpdates"
    ]
    assert dry["applied"] is False
    assert [(c["row"], c["field"], c["before"], c["after"]) for c in dry["changes"]] == [
        (2, "price", "1000.00", "900.00"),
        (2, "cost", None, "450.5000"),
    ]
    assert [(e["row"], e["column"], e["code"]) for e in dry["rowErrors"]] == [(3, "sku", "NOT_FOUND")]
    assert dry["errors"] == []
    variant = await Variant.get(id=v.id)
    assert (variant.price, variant.average_cost) == (Decimal("1000.00"), None)
    assert not await AuditEntry.filter(action__in=["variant.updated", "catalog.updates_imported"]).exists()
    unknown = (
        await api(
            IMPORT,
            {"input": {"file": "sku,prce\nX,1\n", "format": "CSV", "dryRun": True, "idempotencyKey": "u"}},
        )
    )["importCatalogUpdates"]
    assert unknown["errors"][0]["code"] == "INVALID" and "'prce'" in unknown["errors"][0]["message"]


async def test_the_docs_examples_run_as_written(api, db):
    """docs/catalog.md's ```graphql blocks, in order, with the variant's ID filled in as a reader would."""
    examples = re.findall(r"^```graphql\n(.*?)^```", DOCS, re.S | re.M)
    assert len(examples) == 3
    await create_product(
        SYSTEM,
        NewProduct("Lawn 3pc", [NewVariant("LAWN-0101-TEAL", Decimal("5990.00"), tax_rate=Decimal("18.00"))]),
    )
    found = await api(examples[0])
    [edge] = found["variants"]["edges"]
    variant_id = edge["node"]["id"]
    edited = await api(examples[1].replace("<variant id>", variant_id))
    assert edited["updateVariant"]["errors"] == []
    assert edited["updateVariant"]["variant"]["compareAtPrice"]["amount"] == "6490.00"
    dry = (await api(examples[2]))["importCatalogUpdates"]
    assert dry["applied"] is False and dry["rowErrors"] == [] and dry["errors"] == []
    assert {c["field"] for c in dry["changes"]} == {"pct_code", "price"}
    real = (await api(examples[2].replace("dryRun: true", "dryRun: false")))["importCatalogUpdates"]
    assert real["applied"] is True
    assert (await Variant.get(sku="LAWN-0101-TEAL")).price == Decimal("5590.00")
