"""Catalog and customer writes: `productVariantsBulkUpdate`, `productUpdate`, `customerCreate`.

Validated the way the Admin API does (userErrors, nothing applied when any input is refused: the
bulk update's `allowPartialUpdates` defaults to false), with `updatedAt` bumped and a `products/update`
webhook fired for each product changed, as Shopify does for edits made by an app. Every applied write
is appended to `shop.applied` ({"mutation", "id", "changes"}), so tests count what Shopify took, not
what was sent: a request lost to an outage or a throttle applies nothing and records nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .ids import maybe_gid, now
from .payloads import product_payload
from .resolve_catalog import shop_of

if TYPE_CHECKING:
    from .models import Product, ProductVariant
    from .store import SimShop

TAKEN = "has already been taken"

SDL = """
type ProductVariantsBulkUpdateUserError { field: [String!] message: String! code: String }
type ProductVariantsBulkUpdatePayload {
  product: Product productVariants: [ProductVariant!] userErrors: [ProductVariantsBulkUpdateUserError!]!
}
type ProductUpdatePayload { product: Product userErrors: [UserError!]! }
type CustomerCreatePayload { customer: Customer userErrors: [UserError!]! }
input InventoryItemInput { sku: String cost: Decimal tracked: Boolean requiresShipping: Boolean }
input VariantOptionValueInput { name: String optionName: String id: ID optionId: ID }
input ProductVariantsBulkInput {
  id: ID price: Money compareAtPrice: Money barcode: String inventoryItem: InventoryItemInput
  optionValues: [VariantOptionValueInput!] inventoryPolicy: ProductVariantInventoryPolicy taxable: Boolean
}
input ProductUpdateInput {
  id: ID! title: String handle: String vendor: String productType: String status: ProductStatus
}
input CustomerInput {
  id: ID firstName: String lastName: String email: String phone: String note: String tags: [String!]
}
"""

MUTATIONS = """
  productVariantsBulkUpdate(productId: ID!, variants: [ProductVariantsBulkInput!]!,
                            allowPartialUpdates: Boolean = false): ProductVariantsBulkUpdatePayload
  productUpdate(product: ProductUpdateInput!): ProductUpdatePayload
  customerCreate(input: CustomerInput!): CustomerCreatePayload
"""


def _err(field: list[str], message: str, code: str | None = None) -> dict:
    return {"field": field, "message": message, "code": code}


def _money(value: Any, path: list[str], errors: list) -> str | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors.append(_err(path, "Price is invalid", "INVALID_INPUT"))
        return None
    if amount < 0:
        errors.append(_err(path, "Price must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO"))
        return None
    return f"{amount:.2f}"


def _variant_changes(shop: SimShop, product: Product, entry: dict, path: list[str], errors: list) -> dict:
    """What one ProductVariantsBulkInput would change: {attribute: value}; refusals go to `errors`."""
    changes: dict[str, Any] = {}
    if "price" in entry:
        if entry["price"] is None:
            errors.append(_err([*path, "price"], "Price can't be blank", "INVALID_INPUT"))
        elif (price := _money(entry["price"], [*path, "price"], errors)) is not None:
            changes["price"] = price
    if "compareAtPrice" in entry:
        value = entry["compareAtPrice"]
        changes["compare_at_price"] = None if value in (None, "") else _money(value, [*path, "compareAtPrice"], errors)
    if "barcode" in entry:
        changes["barcode"] = entry["barcode"] or None
    item = entry.get("inventoryItem") or {}
    if "sku" in item:
        changes["sku"] = item["sku"] or None
    if entry.get("optionValues"):
        options = {}
        for n, option in enumerate(entry["optionValues"]):
            name = option.get("optionName")
            if name not in product.option_names:
                errors.append(
                    _err([*path, "optionValues", str(n)], f"Option {name!r} does not exist", "OPTION_DOES_NOT_EXIST")
                )
            elif not option.get("name"):
                errors.append(_err([*path, "optionValues", str(n)], "Option value can't be blank", "INVALID_INPUT"))
            else:
                options[name] = option["name"]
        if options:
            changes["options"] = options
    return changes


def _apply_variant(shop: SimShop, variant: ProductVariant, changes: dict) -> None:
    for attribute, value in changes.items():
        if attribute == "options":
            variant.options = {**variant.options, **value}
            variant.title = " / ".join(str(v) for v in variant.options.values())
        else:
            setattr(variant, attribute, value)
        if attribute == "sku":
            shop.items[variant.inventory_item_id].sku = value
    variant.updated_at = now()


def m_variants_bulk_update(_root: Any, info: Any, productId: str, variants: list, **args: Any) -> dict:
    shop = shop_of(info)
    product = shop.products.get(maybe_gid(productId, "Product") or -1)
    if product is None:
        err = _err(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": [err]}
    errors: list[dict] = []
    planned: list[tuple[ProductVariant, dict]] = []
    for n, entry in enumerate(variants):
        path = ["variants", str(n)]
        variant_id = maybe_gid(entry.get("id"), "ProductVariant")
        variant = shop.variants.get(variant_id or -1)
        if variant is None or variant.product_id != product.id:
            errors.append(_err([*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
            continue
        planned.append((variant, _variant_changes(shop, product, entry, path, errors)))
    if errors and not args.get("allowPartialUpdates"):
        return {"product": product, "productVariants": None, "userErrors": errors}
    for variant, changes in planned:
        _apply_variant(shop, variant, changes)
        shop.applied.append({"mutation": "productVariantsBulkUpdate", "id": variant.gid, "changes": dict(changes)})
    product.updated_at = now()
    shop.emit("products/update", product_payload(shop, product))
    return {"product": product, "productVariants": [v for v, _ in planned], "userErrors": errors}


def m_product_update(_root: Any, info: Any, product: dict) -> dict:
    shop = shop_of(info)
    found = shop.products.get(maybe_gid(product.get("id"), "Product") or -1)
    if found is None:
        return {"product": None, "userErrors": [_err(["id"], "Product does not exist")]}
    changes = {}
    if "title" in product:
        title = (product["title"] or "").strip()
        if not title:
            return {"product": found, "userErrors": [_err(["title"], "Title can't be blank")]}
        changes["title"] = title
    for key, attribute in (("vendor", "vendor"), ("productType", "product_type"), ("status", "status")):
        if product.get(key) is not None:
            changes[attribute] = product[key]
    for attribute, value in changes.items():
        setattr(found, attribute, value)
    found.updated_at = now()
    shop.applied.append({"mutation": "productUpdate", "id": found.gid, "changes": changes})
    shop.emit("products/update", product_payload(shop, found))
    return {"product": found, "userErrors": []}


def m_customer_create(_root: Any, info: Any, input: dict) -> dict:
    shop = shop_of(info)
    email = (input.get("email") or "").strip() or None
    phone = (input.get("phone") or "").strip() or None
    first, last = (input.get("firstName") or "").strip(), (input.get("lastName") or "").strip()
    errors = []
    if not (email or phone or first or last):
        errors.append(_err(["input"], "A name, phone number, or email address must be present"))
    if phone and not (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) - 1 <= 15):
        errors.append(_err(["phone"], "Phone is invalid"))
    if email and "@" not in email:
        errors.append(_err(["email"], "Email is invalid"))
    for c in shop.customers.values():
        if email and c.email and c.email.lower() == email.lower():
            errors.append(_err(["email"], f"Email {TAKEN}"))
        if phone and c.phone == phone:
            errors.append(_err(["phone"], f"Phone {TAKEN}"))
    if errors:
        return {"customer": None, "userErrors": errors}
    customer = shop.add_customer(first, last, email=email, phone=phone)
    customer.tags = list(input.get("tags") or [])
    shop.applied.append({"mutation": "customerCreate", "id": customer.gid, "changes": {"phone": phone, "email": email}})
    return {"customer": customer, "userErrors": []}


TYPE_RESOLVERS: dict[str, dict[str, Any]] = {
    "Mutation": {
        "productVariantsBulkUpdate": m_variants_bulk_update,
        "productUpdate": m_product_update,
        "customerCreate": m_customer_create,
    },
}
