"""Products and variants: queries and mutations."""

from strawberry import relay
from strawberry.types import Info
from tortoise.expressions import Q

from models import catalog as models
from operations.directory import NewProduct, NewVariant
from operations.directory import create_product as ops_create_product
from operations.kernel import require_signed_in
from resolvers.mutations import payload
from schema.errors import BadRequest
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
) -> relay.Connection[Variant]:
    """`search` matches title, product title, SKU or barcode; `sku`/`barcode` match exactly (a scan)."""
    require_signed_in(info.context.actor)
    queryset = models.Variant.all()
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
