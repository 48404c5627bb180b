"""Resolvers for the shop, locations, products, variants, inventory and customers, and node lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from .connections import paginate, search
from .ids import expect_gid, gid, parse_gid
from .models import QUANTITY_NAMES, InventoryLevel, Product, ProductVariant

if TYPE_CHECKING:
    from .store import SimShop

SHOP_NUMERIC_ID = 73100000001


def shop_of(info: Any) -> SimShop:
    return info.context.shop


# ------------------------------------------------------------------------------------------ node lookup
def lookup_node(shop: SimShop, value: str) -> Any:
    """The object a GID names, or None. A string that isn't a GID at all is a GraphQL error, as on Shopify."""
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"})
    t, n = parsed.type, parsed.id
    if t == "InventoryLevel":
        item = parsed.query.removeprefix("inventory_item_id=")
        return shop.level(int(item), n) if item.isdigit() else None
    if parsed.query:
        return None
    if t == "Shop":
        return shop if n == SHOP_NUMERIC_ID else None
    if t == "LineItem":
        found = shop.line_item(n)
        return found[1] if found else None
    if t == "FulfillmentOrderLineItem":
        for fo in shop.fulfillment_orders.values():
            for fli in fo.line_items:
                if fli.id == n:
                    return fli
        return None
    table = {
        "Location": shop.locations,
        "Product": shop.products,
        "ProductVariant": shop.variants,
        "InventoryItem": shop.items,
        "Customer": shop.customers,
        "Order": shop.orders,
        "FulfillmentOrder": shop.fulfillment_orders,
        "Fulfillment": shop.fulfillments,
        "Refund": shop.refunds,
        "BulkOperation": shop.bulk_operations,
        "WebhookSubscription": shop.subscriptions,
    }.get(t)
    return table.get(n) if table is not None else None


def _typed(shop: SimShop, value: str, type_name: str, table: dict) -> Any:
    return table.get(expect_gid(value, type_name))


# ------------------------------------------------------------------------------------------ helpers
def inventory_quantity(shop: SimShop, item_id: int) -> int:
    return sum(lv.get("available") for (i, _), lv in shop.levels.items() if i == item_id)


def _levels_of_item(shop: SimShop, item_id: int) -> list[InventoryLevel]:
    return [lv for (i, _), lv in shop.levels.items() if i == item_id]


def _variant_fields() -> dict:
    return {
        "sku": lambda v: v.sku,
        "barcode": lambda v: v.barcode,
        "title": lambda v: v.title,
        "product_id": lambda v: v.product_id,
        "id": lambda v: v.id,
        "updated_at": lambda v: v.updated_at,
        "created_at": lambda v: v.created_at,
    }


def _money(amount: str, currency: str) -> dict:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


# ------------------------------------------------------------------------------------------ root fields
def q_shop(_root: Any, info: Any) -> Any:
    return shop_of(info)


def q_node(_root: Any, info: Any, id: str) -> Any:
    return lookup_node(shop_of(info), id)


def q_nodes(_root: Any, info: Any, ids: list[str]) -> list:
    if len(ids) > 250:
        raise GraphQLError("The input array size is greater than the maximum allowed of 250.")
    return [lookup_node(shop_of(info), i) for i in ids]


def q_location(_root: Any, info: Any, id: str | None = None) -> Any:
    shop = shop_of(info)
    if id is None:
        return next(iter(shop.locations.values()), None)
    return _typed(shop, id, "Location", shop.locations)


def q_locations(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    locs = [loc for loc in shop.locations.values() if loc.is_active or args.get("includeInactive")]
    locs = search(locs, args.get("query"), {"name": lambda x: x.name, "id": lambda x: x.id}, lambda x: x.name)
    sort = (lambda x: x.name) if args.get("sortKey") == "NAME" else None
    return paginate(locs, args, info, sort)


def q_product(_root: Any, info: Any, id: str) -> Any:
    shop = shop_of(info)
    return _typed(shop, id, "Product", shop.products)


_PRODUCT_FIELDS = {
    "title": lambda p: p.title,
    "status": lambda p: p.status,
    "vendor": lambda p: p.vendor,
    "product_type": lambda p: p.product_type,
    "handle": lambda p: p.handle,
    "id": lambda p: p.id,
    "updated_at": lambda p: p.updated_at,
    "created_at": lambda p: p.created_at,
}
_PRODUCT_SORT = {"TITLE": lambda p: p.title, "CREATED_AT": lambda p: p.created_at, "UPDATED_AT": lambda p: p.updated_at}
_VARIANT_SORT = {"SKU": lambda v: v.sku or "", "TITLE": lambda v: v.title, "POSITION": lambda v: v.position}


def q_products(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    items = search(list(shop.products.values()), args.get("query"), _PRODUCT_FIELDS, lambda p: p.title)
    return paginate(items, args, info, _PRODUCT_SORT.get(args.get("sortKey")))


def q_variant(_root: Any, info: Any, id: str) -> Any:
    shop = shop_of(info)
    return _typed(shop, id, "ProductVariant", shop.variants)


def q_variants(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    items = search(list(shop.variants.values()), args.get("query"), _variant_fields(), lambda v: v.title)
    return paginate(items, args, info, _VARIANT_SORT.get(args.get("sortKey")))


def q_inventory_item(_root: Any, info: Any, id: str) -> Any:
    shop = shop_of(info)
    return _typed(shop, id, "InventoryItem", shop.items)


def q_inventory_items(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    fields = {"sku": lambda i: i.sku, "id": lambda i: i.id, "updated_at": lambda i: i.updated_at}
    return paginate(search(list(shop.items.values()), args.get("query"), fields), args, info)


def q_inventory_level(_root: Any, info: Any, id: str) -> Any:
    parsed = parse_gid(id)
    if parsed is None or parsed.type != "InventoryLevel":
        raise GraphQLError(f"Invalid id: {id}", extensions={"code": "INVALID_ID"})
    return lookup_node(shop_of(info), id)


def q_customer(_root: Any, info: Any, id: str) -> Any:
    shop = shop_of(info)
    return _typed(shop, id, "Customer", shop.customers)


_CUSTOMER_FIELDS = {
    "email": lambda c: c.email,
    "phone": lambda c: c.phone,
    "first_name": lambda c: c.first_name,
    "last_name": lambda c: c.last_name,
    "id": lambda c: c.id,
    "updated_at": lambda c: c.updated_at,
    "created_at": lambda c: c.created_at,
}


def q_customers(_root: Any, info: Any, **args: Any) -> dict:
    shop = shop_of(info)
    text = lambda c: f"{c.first_name} {c.last_name} {c.email or ''} {c.phone or ''}"  # noqa: E731
    items = search(list(shop.customers.values()), args.get("query"), _CUSTOMER_FIELDS, text)
    sort = {"NAME": lambda c: f"{c.first_name} {c.last_name}", "UPDATED_AT": lambda c: c.updated_at}
    return paginate(items, args, info, sort.get(args.get("sortKey")))


# ------------------------------------------------------------------------------------------ type fields
def _options(p: Product, info: Any) -> list:
    shop = shop_of(info)
    out = []
    for pos, name in enumerate(p.option_names, start=1):
        values: list[str] = []
        for vid in p.variant_ids:
            value = shop.variants[vid].options.get(name)
            if value is not None and value not in values:
                values.append(value)
        out.append(
            {
                "id": gid("ProductOption", p.id * 10 + pos),
                "name": name,
                "position": pos,
                "values": values,
                "optionValues": [
                    {"id": gid("ProductOptionValue", p.id * 100 + n), "name": v} for n, v in enumerate(values)
                ],
            }
        )
    return out


def _level_quantities(lvl: InventoryLevel, _info: Any, names: list[str]) -> list[dict]:
    bad = [n for n in names if n not in QUANTITY_NAMES]
    if bad:
        raise GraphQLError(
            f"Invalid quantity name(s): {', '.join(bad)}. Valid names are: {', '.join(QUANTITY_NAMES)}.",
            extensions={"code": "BAD_REQUEST"},
        )
    out = []
    for name in names:
        updated = lvl.state_updated_at.get(name, lvl.updated_at) if name != "on_hand" else lvl.updated_at
        out.append(
            {
                "id": f"gid://shopify/InventoryQuantity/{lvl.location_id}?inventory_item_id={lvl.item_id}&name={name}",
                "name": name,
                "quantity": lvl.get(name),
                "updatedAt": updated,
            }
        )
    return out


def _address(loc: Any, _info: Any) -> dict:
    a = {k: loc.address.get(k) for k in ("address1", "address2", "city", "province", "provinceCode", "zip", "phone")}
    a["country"] = loc.address.get("country", "Pakistan")
    a["countryCode"] = loc.address.get("countryCode", "PK")
    a["formatted"] = [x for x in (a["address1"], a["address2"], a["city"], a["zip"], a["country"]) if x]
    return a


def _variant_product(v: ProductVariant, info: Any) -> Product:
    return shop_of(info).products[v.product_id]


def _item_level(item: Any, info: Any, locationId: str) -> Any:
    return shop_of(info).level(item.id, expect_gid(locationId, "Location"))


def _location_level(loc: Any, info: Any, inventoryItemId: str) -> Any:
    return shop_of(info).level(expect_gid(inventoryItemId, "InventoryItem"), loc.id)


def _total_inventory(p: Product, info: Any) -> int:
    shop = shop_of(info)
    return sum(inventory_quantity(shop, shop.variants[v].inventory_item_id) for v in p.variant_ids)


TYPE_RESOLVERS: dict[str, dict[str, Any]] = {
    "Query": {
        "shop": q_shop,
        "node": q_node,
        "nodes": q_nodes,
        "location": q_location,
        "locations": q_locations,
        "product": q_product,
        "products": q_products,
        "productVariant": q_variant,
        "productVariants": q_variants,
        "inventoryItem": q_inventory_item,
        "inventoryItems": q_inventory_items,
        "inventoryLevel": q_inventory_level,
        "customer": q_customer,
        "customers": q_customers,
    },
    "Shop": {
        "id": lambda s, i: gid("Shop", SHOP_NUMERIC_ID),
        "email": lambda s, i: f"owner@{s.domain}",
        "myshopifyDomain": lambda s, i: s.domain,
        "url": lambda s, i: f"https://{s.domain}",
        "currencyCode": lambda s, i: s.currency,
        "ianaTimezone": lambda s, i: "Asia/Karachi",
        "plan": lambda s, i: {"displayName": "Basic", "partnerDevelopment": False, "shopifyPlus": False},
    },
    "Location": {
        "activatable": lambda loc, i: not loc.is_active,
        "deactivatable": lambda loc, i: loc.is_active,
        "deactivatedAt": lambda loc, i: None if loc.is_active else loc.updated_at.isoformat(),
        "shipsInventory": lambda loc, i: True,
        "isFulfillmentService": lambda loc, i: False,
        "hasActiveInventory": lambda loc, i: any(k[1] == loc.id for k in shop_of(i).levels),
        "address": _address,
        "inventoryLevels": lambda loc, i, **a: paginate(
            [lv for (_, lid), lv in shop_of(i).levels.items() if lid == loc.id], a, i, lambda lv: lv.item_id
        ),
        "inventoryLevel": _location_level,
    },
    "Product": {
        "options": _options,
        "hasOnlyDefaultVariant": lambda p, i: p.option_names == ["Title"],
        "totalInventory": _total_inventory,
        "tracksInventory": lambda p, i: any(
            shop_of(i).items[shop_of(i).variants[v].inventory_item_id].tracked for v in p.variant_ids
        ),
        "variants": lambda p, i, **a: paginate(
            [shop_of(i).variants[v] for v in p.variant_ids], a, i, lambda v: v.position
        ),
        "variantsCount": lambda p, i: {"count": len(p.variant_ids), "precision": "EXACT"},
    },
    "ProductVariant": {
        "displayName": lambda v, i: f"{_variant_product(v, i).title} - {v.title}",
        "inventoryQuantity": lambda v, i: inventory_quantity(shop_of(i), v.inventory_item_id),
        "selectedOptions": lambda v, i: [{"name": k, "value": val} for k, val in v.options.items()],
        "product": _variant_product,
        "inventoryItem": lambda v, i: shop_of(i).items[v.inventory_item_id],
    },
    "InventoryItem": {
        "variant": lambda it, i: shop_of(i).variants[it.variant_id],
        "unitCost": lambda it, i: (
            {"amount": it.unit_cost, "currencyCode": shop_of(i).currency} if it.unit_cost else None
        ),
        "inventoryLevels": lambda it, i, **a: paginate(
            _levels_of_item(shop_of(i), it.id), a, i, lambda lv: lv.location_id
        ),
        "inventoryLevel": _item_level,
        "locationsCount": lambda it, i: {"count": len(_levels_of_item(shop_of(i), it.id)), "precision": "EXACT"},
    },
    "InventoryLevel": {
        "id": lambda lv, i: lv.gid,
        "item": lambda lv, i: shop_of(i).items[lv.item_id],
        "location": lambda lv, i: shop_of(i).locations[lv.location_id],
        "quantities": _level_quantities,
        "canDeactivate": lambda lv, i: lv.get("committed") == 0,
        "deactivationAlert": lambda lv, i: None,
    },
    "Customer": {
        "displayName": lambda c, i: f"{c.first_name} {c.last_name}".strip() or (c.email or ""),
        "defaultEmailAddress": lambda c, i: {"emailAddress": c.email} if c.email else None,
        "defaultPhoneNumber": lambda c, i: {"phoneNumber": c.phone} if c.phone else None,
        "numberOfOrders": lambda c, i: sum(1 for o in shop_of(i).orders.values() if o.customer_id == c.id),
    },
}


def money(amount: str, currency: str) -> dict:
    return _money(amount, currency)
