"""Writing a Shopify-shaped bulk export file: for tests, the benchmark and trying `branchline import`.

The lines look like the result of shopify/queries.py's exports (reference §1.5): locations,
variants with their product and inventory item inlined, inventory levels pointing at their
variant through `__parentId`, customers. Ids are above 2^53, as Shopify's are. With `shuffle`,
children are scattered and may come before their parents, as `groupObjects: false` allows.
"""

import random
from collections.abc import Iterator
from pathlib import Path

import orjson

BASE_ID = 9_007_199_254_740_993  # 2^53 + 1: a float would silently change it


def _gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{BASE_ID + n}"


def location_gid(n: int) -> str:
    return _gid("Location", n)


def variant_gid(n: int) -> str:
    return _gid("ProductVariant", n)


def lines(
    variants: int, locations: int, *, customers: int = 0, per_product: int = 4, typename: bool = True, seed: int = 7
) -> Iterator[dict]:
    rng = random.Random(seed)

    def obj(kind: str, fields: dict) -> dict:
        return {"__typename": kind, **fields} if typename else fields

    for loc in range(1, locations + 1):
        yield obj(
            "Location",
            {"id": location_gid(loc), "name": f"Branch {loc}", "isActive": True, "address": {"city": "Lahore"}},
        )
    sizes = ["S", "M", "L", "XL"]
    for v in range(1, variants + 1):
        product = (v - 1) // per_product + 1
        size = sizes[(v - 1) % len(sizes)]
        yield obj(
            "ProductVariant",
            {
                "id": variant_gid(v),
                "sku": f"SKU-{v:07d}",
                "barcode": f"{8_960_000_000_000 + v}",
                "price": f"{1500 + (product % 40) * 100}.00",
                "compareAtPrice": None,
                "title": size,
                "selectedOptions": [{"name": "Size", "value": size}],
                "product": {"id": _gid("Product", product), "title": f"Lawn Suit {product}", "status": "ACTIVE"},
                "inventoryItem": {
                    "id": _gid("InventoryItem", v),
                    "tracked": True,
                    "unitCost": {"amount": f"{700 + (product % 40) * 45}.00", "currencyCode": "PKR"},
                },
            },
        )
        for loc in range(1, locations + 1):
            on_hand = rng.randint(0, 40)
            committed = min(on_hand, rng.randint(0, 2))
            yield obj(
                "InventoryLevel",
                {
                    "id": f"gid://shopify/InventoryLevel/{BASE_ID + loc}?inventory_item_id={BASE_ID + v}",
                    "location": {"id": location_gid(loc), "name": f"Branch {loc}"},
                    "quantities": [
                        {"name": "available", "quantity": on_hand - committed},
                        {"name": "on_hand", "quantity": on_hand},
                        {"name": "committed", "quantity": committed},
                    ],
                    "__parentId": variant_gid(v),
                },
            )
    for c in range(1, customers + 1):
        yield obj(
            "Customer",
            {"id": _gid("Customer", c), "firstName": f"Customer{c}", "lastName": "Khan", "phone": f"+9230000{c:05d}"},
        )


def write_export(
    path: Path, variants: int, locations: int, *, shuffle: bool = False, shuffle_seed: int = 1, **options
) -> int:
    """Write the file; returns the number of lines. Shuffling holds the lines in memory (tests only)."""
    items = lines(variants, locations, **options)
    if shuffle:
        items = list(items)
        random.Random(shuffle_seed).shuffle(items)
    count = 0
    with path.open("wb") as f:
        for item in items:
            f.write(orjson.dumps(item) + b"\n")
            count += 1
    return count
