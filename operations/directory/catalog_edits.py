"""Editing the catalog: a product's and a variant's fields, a new variant, archiving.

Catalog editing is MANAGE_CATALOG (owner, admin, inventory), as creating a product is; a cashier
or a PIN session never edits. Each edit runs in one transaction: the variant's row is locked
first (`UPDATE ... SET id = id`, as operations/purchasing/receiving.py locks before repricing), only
the columns that change are written, so two managers editing different fields of one variant at
once both keep their change. SKU and barcode stay unique: the refusal names the variant that has
the value (`VariantTaken`), and the UNIQUE index settles a race the same way.

A product linked to Shopify gets one `shopify.catalog_edit` outbox row per edit, in the same
transaction (operations/directory/catalog_outbox.py): it names the fields Shopify also holds.
Archiving is Branchline's own (no sale of it here); Shopify's product status is left to Shopify.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.catalog import Product, Variant
from operations.directory.catalog import (
    MAX_VARIANTS,
    NewVariant,
    money_problem,
    tax_rate_problem,
    variant_problems,
)
from operations.directory.catalog_outbox import queue_catalog_edit
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    Problems,
    Transaction,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)


class _Keep:
    """A field left as it is (where None means "clear it")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class ProductChanges:
    """None leaves a field as it is."""

    title: str | None = None
    vendor: str | None = None
    product_type: str | None = None


@dataclass(frozen=True)
class VariantChanges:
    """None leaves a field as it is; an empty string clears barcode, PCT code, size or colour;
    `compare_at_price` is KEEP unless given, and None clears it."""

    title: str | None = None
    price: Decimal | None = None
    compare_at_price: Decimal | _Keep | None = KEEP
    sku: str | None = None
    barcode: str | None = None
    tax_rate: Decimal | None = None
    pct_code: str | None = None
    size: str | None = None
    colour: str | None = None
    tracked: bool | None = None


class VariantTaken(OperationError):
    """The SKU or barcode is another variant's: `variant_id` says whose (the API gives its ID)."""

    def __init__(self, field: str, value: str, holder: Variant):
        name = f"{holder.sku}" + (f" ({holder.title})" if holder.title else "")
        super().__init__([Problem(ErrorCode.DUPLICATE, f"{field} {value!r} is already variant {name}'s", field)])
        self.variant_id = holder.id
        self.field = field


def _request(changes) -> dict:
    return {k: (repr(v) if v is KEEP else v) for k, v in asdict(changes).items()}


def variant_values(problems: Problems, changes: VariantChanges, where: str = "") -> dict:
    """Checked column values for the fields given (pure): `where` prefixes the error fields."""
    out: dict = {}
    if changes.title is not None:
        if len(changes.title.strip()) > 255:
            problems.add(ErrorCode.INVALID, "title must be at most 255 characters", f"{where}title")
        out["title"] = changes.title.strip()
    if changes.sku is not None:
        sku = changes.sku.strip()
        if not sku or len(sku) > 64:
            problems.add(ErrorCode.INVALID, "sku must be 1–64 characters", f"{where}sku")
        out["sku"] = sku
    if changes.barcode is not None:
        barcode = changes.barcode.strip()
        if len(barcode) > 64:
            problems.add(ErrorCode.INVALID, "barcode must be at most 64 characters", f"{where}barcode")
        out["barcode"] = barcode or None  # NULL, not "": several variants may have none
    if changes.price is not None:
        if (message := money_problem(changes.price)) is not None:
            problems.add(ErrorCode.INVALID, message, f"{where}price")
        out["price"] = changes.price
    if changes.compare_at_price is not KEEP:
        value = changes.compare_at_price
        if value is not None and (message := money_problem(value, "compareAtPrice")) is not None:
            problems.add(ErrorCode.INVALID, message, f"{where}compareAtPrice")
        out["compare_at_price"] = value
    if changes.tax_rate is not None:
        if (message := tax_rate_problem(changes.tax_rate)) is not None:
            problems.add(ErrorCode.INVALID, message, f"{where}taxRate")
        out["tax_rate"] = changes.tax_rate
    for name, field, limit in (("pct_code", "pctCode", 16), ("size", "size", 40), ("colour", "colour", 40)):
        value = getattr(changes, name)
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            problems.add(ErrorCode.INVALID, f"{field} must be at most {limit} characters", f"{where}{field}")
        out[name] = value or None
    if changes.tracked is not None:
        out["tracked"] = changes.tracked
    return out


def _same(a, b) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
    return a == b


def _shown(value) -> str | None:
    return None if value is None else str(value)


async def lock_variants(tx: Transaction, variant_ids: list[int]) -> None:
    """Row locks in id order (PostgreSQL; SQLite's writer lock already serialises)."""
    for variant_id in sorted(set(variant_ids)):
        await fetch(tx.conn, "UPDATE variant SET id = id WHERE id = ?", [variant_id])


async def _holder(field: str, value: str | None, except_id: int | None) -> Variant | None:
    if value is None:
        return None
    query = Variant.filter(**{field: value})
    if except_id is not None:
        query = query.exclude(id=except_id)
    return await query.first()


async def write_unique(save, values: dict, except_id: int | None, where: str = ""):
    """Run `save` in a savepoint; a SKU or barcode taken (before or meanwhile) names its holder."""
    for field in ("sku", "barcode"):
        if (holder := await _holder(field, values.get(field), except_id)) is not None:
            raise VariantTaken(f"{where}{field}", values[field], holder)
    try:
        async with in_transaction():  # savepoint: the unique violation must not abort PostgreSQL's transaction
            return await save()
    except IntegrityError:
        for field in ("sku", "barcode"):
            if (holder := await _holder(field, values.get(field), except_id)) is not None:
                raise VariantTaken(f"{where}{field}", values[field], holder) from None
        raise


def audit_detail(before: dict, after: dict) -> dict:
    """The audit entry's detail: each changed field's value before (`<field>_before`) and after."""
    return {f"{k}_before": _shown(before[k]) for k in after} | {k: _shown(v) for k, v in after.items()}


async def update_variant(
    actor: Actor, variant_id: int, changes: VariantChanges, idempotency_key: str
) -> tuple[Variant, bool]:
    """Change what is given. Returns (variant, replayed); a repeat with the same key changes nothing."""
    require(actor, Permission.MANAGE_CATALOG)
    problems = Problems()
    problems.check_key(idempotency_key)
    values = variant_values(problems, changes)
    problems.raise_if_any()

    async def update() -> Variant:
        await lock_variants(tx, [variant_id])
        variant = await Variant.get_or_none(id=variant_id)
        if variant is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such variant", "variantId")
        before = {k: getattr(variant, k) for k in values}
        changed = {k: v for k, v in values.items() if not _same(before[k], v)}
        if changed:
            await write_unique(lambda: Variant.filter(id=variant.id).update(**changed), changed, variant.id)
            await record_audit(
                actor, "variant.updated", target=("variant", variant.id), **audit_detail(before, changed)
            )
            product = await Product.get(id=variant.product_id)
            if product.shopify_product_id:
                await queue_catalog_edit(tx, product.id, variant_ids=[variant.id], variant_fields=set(changed))
        return variant

    async with transaction() as tx:
        request = _request(changes) | {"variant_id": variant_id}
        found, replayed = await run_once(
            tx, "updateVariant", idempotency_key, request, update, lambda pk: Variant.get(id=pk)
        )
    return await Variant.get(id=found.id), replayed


def _product_values(problems: Problems, changes: ProductChanges) -> dict:
    out: dict = {}
    if changes.title is not None:
        if not changes.title.strip() or len(changes.title.strip()) > 255:
            problems.add(ErrorCode.INVALID, "title must be 1–255 characters", "title")
        out["title"] = changes.title.strip()
    for name, field in (("vendor", "vendor"), ("product_type", "productType")):
        value = getattr(changes, name)
        if value is None:
            continue
        if len(value.strip()) > 120:
            problems.add(ErrorCode.INVALID, f"{field} must be at most 120 characters", field)
        out[name] = value.strip()
    return out


async def _locked_product(tx: Transaction, product_id: int) -> Product:
    await fetch(tx.conn, "UPDATE product SET id = id WHERE id = ?", [product_id])
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such product", "productId")
    return product


async def update_product(
    actor: Actor, product_id: int, changes: ProductChanges, idempotency_key: str
) -> tuple[Product, bool]:
    """Change a product's title, vendor or product type (what is given). Returns (product, replayed)."""
    require(actor, Permission.MANAGE_CATALOG)
    problems = Problems()
    problems.check_key(idempotency_key)
    values = _product_values(problems, changes)
    problems.raise_if_any()

    async def update() -> Product:
        product = await _locked_product(tx, product_id)
        before = {k: getattr(product, k) for k in values}
        changed = {k: v for k, v in values.items() if before[k] != v}
        if changed:
            await Product.filter(id=product.id).update(**changed)
            await record_audit(
                actor, "product.updated", target=("product", product.id), **audit_detail(before, changed)
            )
            if product.shopify_product_id:
                await queue_catalog_edit(tx, product.id, product_fields=set(changed))
        return product

    async with transaction() as tx:
        request = asdict(changes) | {"product_id": product_id}
        found, replayed = await run_once(
            tx, "updateProduct", idempotency_key, request, update, lambda pk: Product.get(id=pk)
        )
    return await Product.get(id=found.id), replayed


async def set_product_archived(
    actor: Actor, product_id: int, archived: bool, idempotency_key: str
) -> tuple[Product, bool]:
    """Archive (no variant of it can be sold; its sales, returns and stock history stay) or bring back.
    Archiving an archived product, or unarchiving an active one, is WRONG_STATE."""
    require(actor, Permission.MANAGE_CATALOG)
    problems = Problems()
    problems.check_key(idempotency_key)
    problems.raise_if_any()
    operation = "archiveProduct" if archived else "unarchiveProduct"

    async def change() -> Product:
        product = await _locked_product(tx, product_id)
        if (product.archived_at is not None) == archived:
            state = "already archived" if archived else "not archived"
            raise OperationError.single(ErrorCode.WRONG_STATE, f"the product is {state}", "productId")
        product.archived_at = datetime.now(UTC) if archived else None
        await product.save(update_fields=["archived_at"])
        await record_audit(actor, f"product.{'archived' if archived else 'unarchived'}", target=("product", product.id))
        return product

    async with transaction() as tx:
        found, replayed = await run_once(
            tx, operation, idempotency_key, {"product_id": product_id}, change, lambda pk: Product.get(id=pk)
        )
    return await Product.get(id=found.id), replayed


async def create_variant(actor: Actor, product_id: int, new: NewVariant, idempotency_key: str) -> tuple[Variant, bool]:
    """A new variant of an existing product. Not on a Shopify-linked product: its variants are made in
    Shopify and arrive with the import or its webhook (WRONG_STATE), so the two never disagree."""
    require(actor, Permission.MANAGE_CATALOG)
    problems = Problems()
    problems.check_key(idempotency_key)
    variant_problems(problems, new, "")
    problems.raise_if_any()

    async def create() -> Variant:
        product = await _locked_product(tx, product_id)
        if product.shopify_product_id:
            raise OperationError.single(
                ErrorCode.WRONG_STATE, "add variants to a Shopify product in Shopify: the sync brings them", "productId"
            )
        if await Variant.filter(product_id=product.id).count() >= MAX_VARIANTS:
            raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_VARIANTS} variants per product", "productId")
        values = {
            "sku": new.sku.strip(),
            "barcode": new.barcode.strip() if new.barcode else None,
            "title": new.title.strip() or " / ".join(x for x in (new.size, new.colour) if x),
            "size": new.size,
            "colour": new.colour,
            "price": new.price,
            "tax_rate": new.tax_rate,
            "pct_code": new.pct_code,
        }
        variant = await write_unique(lambda: Variant.create(product=product, **values), values, None)
        await record_audit(
            actor, "variant.created", target=("variant", variant.id), product_id=product.id, sku=variant.sku
        )
        return variant

    async with transaction() as tx:
        request = asdict(new) | {"product_id": product_id}
        found, replayed = await run_once(
            tx, "createVariant", idempotency_key, request, create, lambda pk: Variant.get(id=pk)
        )
    return await Variant.get(id=found.id), replayed
