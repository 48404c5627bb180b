"""Products and variants created in Branchline (the Shopify import adds its own later)."""

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.catalog import Product, Variant
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    record_audit,
    require,
    run_once,
    transaction,
)

MAX_VARIANTS = 100
MAX_PRICE = Decimal("99999999999.99")


@dataclass(frozen=True)
class NewVariant:
    sku: str
    price: Decimal
    barcode: str | None = None
    title: str = ""
    size: str | None = None
    colour: str | None = None
    tax_rate: Decimal = Decimal("0")
    pct_code: str | None = None


@dataclass(frozen=True)
class NewProduct:
    title: str
    variants: list[NewVariant] = field(default_factory=list)
    vendor: str = ""
    product_type: str = ""


def _money_problem(value: Decimal) -> str | None:
    try:
        if value < 0 or value > MAX_PRICE:
            return "price must be between 0 and 99,999,999,999.99"
        if value != value.quantize(Decimal("0.01")):
            return "price has more than 2 decimal places"
    except InvalidOperation:
        return "price is not a number"
    return None


def money_problem(value: Decimal, name: str = "price") -> str | None:
    problem = _money_problem(value)
    return None if problem is None else problem.replace("price", name, 1)


def tax_rate_problem(value: Decimal) -> str | None:
    try:
        if Decimal(0) <= value <= Decimal(100) and value == value.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:
        pass
    return "taxRate is a percentage between 0 and 100, 2 decimals"


def variant_problems(problems: Problems, v: NewVariant, where: str) -> None:
    """What is wrong with one new variant on its own (uniqueness is checked against the others apart);
    `where` is its place in the input (`variants.2`), "" for a variant given alone."""
    where = f"{where}." if where else ""
    sku = v.sku.strip()
    if not sku or len(sku) > 64:
        problems.add(ErrorCode.INVALID, "sku must be 1–64 characters", f"{where}sku")
    if v.barcode is not None and (not v.barcode.strip() or len(v.barcode) > 64):
        problems.add(ErrorCode.INVALID, "barcode must be 1–64 characters", f"{where}barcode")
    if (message := _money_problem(v.price)) is not None:
        problems.add(ErrorCode.INVALID, message, f"{where}price")
    if (message := tax_rate_problem(v.tax_rate)) is not None:
        problems.add(ErrorCode.INVALID, message, f"{where}taxRate")
    if v.pct_code is not None and len(v.pct_code) > 16:
        problems.add(ErrorCode.INVALID, "pctCode must be at most 16 characters", f"{where}pctCode")
    if len(v.title) > 255:
        problems.add(ErrorCode.INVALID, "title must be at most 255 characters", f"{where}title")
    for name, value in (("size", v.size), ("colour", v.colour)):
        if value is not None and len(value) > 40:
            problems.add(ErrorCode.INVALID, f"{name} must be at most 40 characters", f"{where}{name}")


def _validate(new: NewProduct) -> None:
    problems = Problems()
    if not new.title.strip() or len(new.title) > 255:
        problems.add(ErrorCode.INVALID, "title must be 1–255 characters", "title")
    if not new.variants:
        problems.add(ErrorCode.INVALID, "a product needs at least one variant", "variants")
    if len(new.variants) > MAX_VARIANTS:
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_VARIANTS} variants per product", "variants")
    seen_skus: set[str] = set()
    seen_barcodes: set[str] = set()
    for i, v in enumerate(new.variants):
        where = f"variants.{i}"
        sku = v.sku.strip()
        if sku and sku in seen_skus:
            problems.add(ErrorCode.DUPLICATE, f"sku {sku!r} appears twice", f"{where}.sku")
        seen_skus.add(sku)
        if v.barcode is not None and v.barcode.strip() and v.barcode in seen_barcodes:
            problems.add(ErrorCode.DUPLICATE, f"barcode {v.barcode!r} appears twice", f"{where}.barcode")
        if v.barcode is not None:
            seen_barcodes.add(v.barcode)
        variant_problems(problems, v, where)
    problems.raise_if_any()


async def _taken(new: NewProduct) -> None:
    problems = Problems()
    skus = [v.sku.strip() for v in new.variants]
    barcodes = [v.barcode for v in new.variants if v.barcode]
    taken_skus = set(await Variant.filter(sku__in=skus).values_list("sku", flat=True))
    taken_barcodes = set(await Variant.filter(barcode__in=barcodes).values_list("barcode", flat=True))
    for i, v in enumerate(new.variants):
        if v.sku.strip() in taken_skus:
            problems.add(ErrorCode.DUPLICATE, f"sku {v.sku!r} is already used", f"variants.{i}.sku")
        if v.barcode and v.barcode in taken_barcodes:
            problems.add(ErrorCode.DUPLICATE, f"barcode {v.barcode!r} is already used", f"variants.{i}.barcode")
    problems.raise_if_any()


async def create_product(actor: Actor, new: NewProduct, idempotency_key: str | None = None) -> tuple[Product, bool]:
    require(actor, Permission.MANAGE_CATALOG)
    _validate(new)

    async def create() -> Product:
        await _taken(new)
        try:
            async with in_transaction():  # savepoint: a racing duplicate sku is a typed error
                product = await Product.create(
                    title=new.title.strip(), vendor=new.vendor.strip(), product_type=new.product_type.strip()
                )
                for v in new.variants:
                    await Variant.create(
                        product=product,
                        sku=v.sku.strip(),
                        barcode=v.barcode,
                        title=v.title.strip() or " / ".join(x for x in (v.size, v.colour) if x),
                        size=v.size,
                        colour=v.colour,
                        price=v.price,
                        tax_rate=v.tax_rate,
                        pct_code=v.pct_code,
                    )
        except IntegrityError:
            raise OperationError.single(
                ErrorCode.DUPLICATE, "a sku or barcode was taken by another request", "variants"
            ) from None
        await record_audit(actor, "product.created", target=("product", product.id), variants=len(new.variants))
        return product

    async with transaction() as tx:
        return await run_once(tx, "createProduct", idempotency_key, asdict(new), create, lambda pk: Product.get(id=pk))


@dataclass(frozen=True)
class VariantRef:
    """A variant as a counter names it: by id, by SKU, or by a scanned barcode (exactly one)."""

    id: int | None = None
    sku: str | None = None
    barcode: str | None = None


def _check_refs(refs: list[VariantRef], field: str) -> None:
    problems = Problems()
    for i, ref in enumerate(refs):
        if sum(x is not None for x in (ref.id, ref.sku, ref.barcode)) != 1:
            problems.add(ErrorCode.INVALID, "give exactly one of id, sku, barcode", f"{field}.{i}.variant")
    problems.raise_if_any()


def _match_refs(refs: list[VariantRef], field: str, by_id: dict, by_sku: dict, by_barcode: dict) -> list:
    """What each ref names, in order; NOT_FOUND for every one that names nothing."""
    problems = Problems()
    found_all = []
    for i, ref in enumerate(refs):
        if ref.id is not None:
            found, what, name = by_id.get(ref.id), f"id {ref.id}", "id"
        elif ref.sku is not None:
            found, what, name = by_sku.get(ref.sku), f"SKU {ref.sku!r}", "sku"
        else:
            found, what, name = by_barcode.get(ref.barcode), f"barcode {ref.barcode!r}", "barcode"
        if found is None:
            problems.add(ErrorCode.NOT_FOUND, f"no variant with {what}", f"{field}.{i}.variant.{name}")
        found_all.append(found)
    problems.raise_if_any()
    return found_all


async def resolve_variant_refs(refs: list[VariantRef], field: str = "lines") -> list[int]:
    _check_refs(refs, field)
    # Only the lookups a basket needs: a scanned basket has no IDs, an app's basket no barcodes.
    wanted_ids = [r.id for r in refs if r.id is not None]
    wanted_skus = [r.sku for r in refs if r.sku is not None]
    wanted_barcodes = [r.barcode for r in refs if r.barcode is not None]
    by_id = set(await Variant.filter(id__in=wanted_ids).values_list("id", flat=True)) if wanted_ids else set()
    by_id = {i: i for i in by_id}
    by_sku = dict(await Variant.filter(sku__in=wanted_skus).values_list("sku", "id")) if wanted_skus else {}
    by_barcode = (
        dict(await Variant.filter(barcode__in=wanted_barcodes).values_list("barcode", "id")) if wanted_barcodes else {}
    )
    return _match_refs(refs, field, by_id, by_sku, by_barcode)


async def variants_for_refs(refs: list[VariantRef], field: str = "lines") -> list[Variant]:
    """Each ref's variant with its product (`variant.product`), in the refs' order, the same refusals as
    `resolve_variant_refs`: one query whichever ways the basket names them (a checkout reads its variants
    on every sale)."""
    _check_refs(refs, field)
    if not refs:
        return []
    wanted = Q()
    for name, values in (
        ("id__in", [r.id for r in refs if r.id is not None]),
        ("sku__in", [r.sku for r in refs if r.sku is not None]),
        ("barcode__in", [r.barcode for r in refs if r.barcode is not None]),
    ):
        if values:
            wanted |= Q(**{name: values})
    rows = await Variant.filter(wanted).select_related("product")
    by_id = {v.id: v for v in rows}
    by_sku = {v.sku: v for v in rows}
    by_barcode = {v.barcode: v for v in rows if v.barcode is not None}
    return _match_refs(refs, field, by_id, by_sku, by_barcode)


async def resolve_distinct_variants(refs: list[VariantRef], field: str = "lines") -> list[int]:
    """Like `resolve_variant_refs`, for documents (transfers, orders) where a variant gets one line."""
    ids = await resolve_variant_refs(refs, field)
    problems = Problems()
    for i, variant_id in enumerate(ids):
        if variant_id in ids[:i]:
            problems.add(ErrorCode.DUPLICATE, "the same variant appears twice: give it one line", f"{field}.{i}")
    problems.raise_if_any()
    return ids
