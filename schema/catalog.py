"""Editing the catalog: the inputs and payloads of changing products and variants, and of a bulk
update from a spreadsheet (importCatalogUpdates)."""

from decimal import Decimal

import strawberry

from operations.directory import MAX_FILE_BYTES, MAX_ROWS
from operations.directory import FileFormat as OperationFileFormat
from schema.enums import mirrored
from schema.errors import ErrorCode, UserError
from schema.inputs import KEY_DESCRIPTION
from schema.types import Product, Variant

CatalogFileFormat = mirrored(
    OperationFileFormat, "CatalogFileFormat", "CSV: the file's text (UTF-8). XLSX: the file in base64."
)

DUPLICATE_NAMED = (
    "A SKU or barcode another variant has is DUPLICATE (field sku or barcode), naming that variant and its ID."
)


@strawberry.input(description="Change a product: what is left out stays.")
class UpdateProductInput:
    product_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    title: str | None = None
    vendor: str | None = None
    product_type: str | None = None


@strawberry.input(
    description="Change a variant: what is left out stays; an empty string clears barcode, pctCode, size or "
    "colour; compareAtPrice: null clears it."
)
class UpdateVariantInput:
    variant_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    title: str | None = None
    price: Decimal | None = None
    compare_at_price: Decimal | None = strawberry.UNSET
    sku: str | None = None
    barcode: str | None = None
    tax_rate: Decimal | None = strawberry.field(default=None, description="Percent, 0–100, e.g. 18.00.")
    pct_code: str | None = None
    size: str | None = None
    colour: str | None = None
    tracked: bool | None = None


@strawberry.input(description="Archive or bring back a product.")
class ArchiveProductInput:
    product_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="A new variant of an existing product (not of a Shopify-linked one: add it in Shopify).")
class CreateVariantInput:
    product_id: strawberry.ID
    sku: str
    price: Decimal
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    barcode: str | None = None
    title: str = ""
    size: str | None = None
    colour: str | None = None
    tax_rate: Decimal = Decimal("0")
    pct_code: str | None = None


@strawberry.input(
    description=f"A spreadsheet of catalog updates, one row per SKU. The first row names the columns: sku and any "
    f"of tax_rate, pct_code, price, compare_at_price, cost (any case; spaces or dashes for underscores). An empty "
    f"cell leaves the field as it is; another column is refused. At most {MAX_FILE_BYTES} bytes and {MAX_ROWS} rows."
)
class ImportCatalogUpdatesInput:
    file: str = strawberry.field(description="CSV: the file's text. XLSX: the file in base64.")
    format: CatalogFileFormat  # type: ignore[valid-type]
    dry_run: bool = strawberry.field(
        description="Only say what would change and what is wrong; nothing is written and the key is not used."
    )
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.type
class UpdateProductPayload:
    product: Product | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateVariantPayload:
    variant: Variant | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=DUPLICATE_NAMED)


@strawberry.type
class ArchiveProductPayload:
    product: Product | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateVariantPayload:
    variant: Variant | None = None
    errors: list[UserError] = strawberry.field(default_factory=list, description=DUPLICATE_NAMED)


@strawberry.type(description="One field of one row that changes (or would, in a dry run).")
class CatalogChange:
    row: int = strawberry.field(description="The row as the spreadsheet numbers it (the header is row 1).")
    sku: str
    field: str = strawberry.field(description="The file's column: tax_rate, pct_code, price, compare_at_price, cost.")
    before: str | None
    after: str | None


@strawberry.type(description="What is wrong with one row of the file.")
class CatalogRowError:
    row: int = strawberry.field(description="The row as the spreadsheet numbers it (the header is row 1).")
    column: str | None
    message: str
    code: ErrorCode  # type: ignore[valid-type]


@strawberry.type
class ImportCatalogUpdatesPayload:
    applied: bool = strawberry.field(
        default=False, description="True when the changes were written (never on a dry run or with a row error)."
    )
    rows: int = strawberry.field(default=0, description="Data rows read (blank rows skipped).")
    changes: list[CatalogChange] = strawberry.field(default_factory=list)
    row_errors: list[CatalogRowError] = strawberry.field(
        default_factory=list, description="At most 200 are listed; rowErrorCount says how many there were."
    )
    row_error_count: int = 0
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was applied: the file as a whole (field file), or a summary of the row errors.",
    )
