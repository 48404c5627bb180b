"""Products and variants: queries and mutations."""

import strawberry
from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Q

from models import catalog as models
from operations.directory import (
    KEEP,
    FileFormat,
    ImportRefused,
    NewProduct,
    NewVariant,
    ProductChanges,
    VariantChanges,
    VariantTaken,
    file_bytes,
    set_product_archived,
)
from operations.directory import create_product as ops_create_product
from operations.directory import create_variant as ops_create_variant
from operations.directory import import_catalog_updates as ops_import_catalog_updates
from operations.directory import update_product as ops_update_product
from operations.directory import update_variant as ops_update_variant
from operations.kernel import ErrorCode as OperationCode
from operations.kernel import OperationError, require_signed_in
from resolvers.mutations import payload
from schema import ids
from schema.catalog import (
    ArchiveProductInput,
    ArchiveProductPayload,
    CatalogChange,
    CatalogRowError,
    CreateVariantInput,
    CreateVariantPayload,
    ImportCatalogUpdatesInput,
    ImportCatalogUpdatesPayload,
    UpdateProductInput,
    UpdateProductPayload,
    UpdateVariantInput,
    UpdateVariantPayload,
)
from schema.errors import BadRequest, ErrorCode, user_errors
from schema.inputs import CreateProductInput
from schema.pagination import decode_cursor, keyset_page
from schema.payloads import CreateProductPayload
from schema.types import Product, Variant


async def variants(
    info: Info,
    first: int,
    after: str | None = None,
    search: str | None = None,
    sku: str | None = None,
    barcode: str | None = None,
    archived: bool | None = None,
) -> relay.Connection[Variant]:
    """`search` matches title, product title, SKU or barcode; `sku`/`barcode` match exactly (a scan);
    `archived`: false for what can be sold, true for archived products' variants, null for both."""
    require_signed_in(info.context.actor)
    queryset = models.Variant.all()
    if archived is not None:
        queryset = queryset.filter(product__archived_at__isnull=not archived)
    if search is not None:
        if len(search) > 100:
            raise BadRequest("search must be at most 100 characters", field="search")
        queryset = queryset.filter(
            Q(title__icontains=search)
            | Q(product__title__icontains=search)
            | Q(sku__icontains=search)
            | Q(barcode=search)
        )
    if sku is not None:
        queryset = queryset.filter(sku=sku)
    if barcode is not None:
        queryset = queryset.filter(barcode=barcode)
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Variant.from_model
    )


async def create_product(info: Info, input: CreateProductInput) -> CreateProductPayload:
    async def run():
        new = NewProduct(
            title=input.title,
            vendor=input.vendor,
            product_type=input.product_type,
            variants=[
                NewVariant(
                    sku=v.sku,
                    price=v.price,
                    barcode=v.barcode,
                    title=v.title,
                    size=v.size,
                    colour=v.colour,
                    tax_rate=v.tax_rate,
                    pct_code=v.pct_code,
                )
                for v in input.variants
            ],
        )
        product, _ = await ops_create_product(info.context.actor, new, input.idempotency_key)
        return {"product": Product.from_model(product)}

    return await payload(CreateProductPayload, run)


def _naming_the_holder(error: VariantTaken) -> OperationError:
    """The refusal with the other variant's ID, so the back office can open it instead."""
    gid = str(ids.global_id("Variant", error.variant_id))
    return OperationError.single(OperationCode.DUPLICATE, f"{error} (variant {gid})", error.field)


async def update_product(info: Info, input: UpdateProductInput) -> UpdateProductPayload:
    async def run():
        product_pk = ids.decode(input.product_id, "Product", "productId")
        changes = ProductChanges(input.title, input.vendor, input.product_type)
        product, _ = await ops_update_product(info.context.actor, product_pk, changes, input.idempotency_key)
        return {"product": Product.from_model(product)}

    return await payload(UpdateProductPayload, run)


async def update_variant(info: Info, input: UpdateVariantInput) -> UpdateVariantPayload:
    async def run():
        variant_pk = ids.decode(input.variant_id, "Variant", "variantId")
        changes = VariantChanges(
            title=input.title,
            price=input.price,
            compare_at_price=KEEP if input.compare_at_price is strawberry.UNSET else input.compare_at_price,
            sku=input.sku,
            barcode=input.barcode,
            tax_rate=input.tax_rate,
            pct_code=input.pct_code,
            size=input.size,
            colour=input.colour,
            tracked=input.tracked,
        )
        try:
            variant, _ = await ops_update_variant(info.context.actor, variant_pk, changes, input.idempotency_key)
        except VariantTaken as error:
            raise _naming_the_holder(error) from None
        return {"variant": Variant.from_model(variant)}

    return await payload(UpdateVariantPayload, run)


async def archive_product(info: Info, input: ArchiveProductInput) -> ArchiveProductPayload:
    return await _set_archived(info, input, True)


async def unarchive_product(info: Info, input: ArchiveProductInput) -> ArchiveProductPayload:
    return await _set_archived(info, input, False)


async def _set_archived(info: Info, input: ArchiveProductInput, archived: bool) -> ArchiveProductPayload:
    async def run():
        product_pk = ids.decode(input.product_id, "Product", "productId")
        product, _ = await set_product_archived(info.context.actor, product_pk, archived, input.idempotency_key)
        return {"product": Product.from_model(product)}

    return await payload(ArchiveProductPayload, run)


async def create_variant(info: Info, input: CreateVariantInput) -> CreateVariantPayload:
    async def run():
        product_pk = ids.decode(input.product_id, "Product", "productId")
        new = NewVariant(
            sku=input.sku,
            price=input.price,
            barcode=input.barcode,
            title=input.title,
            size=input.size,
            colour=input.colour,
            tax_rate=input.tax_rate,
            pct_code=input.pct_code,
        )
        try:
            variant, _ = await ops_create_variant(info.context.actor, product_pk, new, input.idempotency_key)
        except VariantTaken as error:
            raise _naming_the_holder(error) from None
        return {"variant": Variant.from_model(variant)}

    return await payload(CreateVariantPayload, run)


def _import_payload(outcome, errors=()) -> ImportCatalogUpdatesPayload:
    return ImportCatalogUpdatesPayload(
        applied=outcome.applied,
        rows=outcome.rows,
        changes=[
            CatalogChange(row=c.row, sku=c.sku, field=c.field, before=c.before, after=c.after) for c in outcome.changes
        ],
        row_errors=[
            CatalogRowError(row=e.row, column=e.column, message=e.message, code=ErrorCode[e.code.name])
            for e in outcome.row_errors
        ],
        row_error_count=outcome.error_count,
        errors=list(errors),
    )


async def import_catalog_updates(info: Info, input: ImportCatalogUpdatesInput) -> ImportCatalogUpdatesPayload:
    file_format = FileFormat(input.format.value)
    try:
        outcome, _ = await ops_import_catalog_updates(
            info.context.actor,
            file_bytes(input.file, file_format),
            file_format,
            dry_run=input.dry_run,
            idempotency_key=input.idempotency_key,
        )
    except ImportRefused as refused:
        return _import_payload(refused.outcome, user_errors(refused))
    except OperationError as error:
        return ImportCatalogUpdatesPayload(errors=user_errors(error))
    return _import_payload(outcome)
