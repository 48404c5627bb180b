"""The demo retailer's Shopify shop, held by the local simulator.

`branchline serve --demo` starts this shop, connects Branchline to it and imports from it, so the
demo's branches, catalog and opening stock arrive the way a real retailer's do: through bulk
operations over HTTP. Built deterministically from server/demo.py's catalog, so a restarted demo
meets the same GIDs it imported before.
"""

from pathlib import Path

from shopify.simulator import SimShop, persist

# Each demo branch is a Shopify location of the same name (the import makes the branches).
LOCATION_CITY = {"LHR-GUL": "Lahore", "KHI-DOL": "Karachi", "ISB-CEN": "Islamabad"}

CUSTOMERS = [
    ("Ayesha", "Khan", "ayesha.khan@example.pk", "+923001234501"),
    ("Bilal", "Ahmed", None, "+923211234502"),
    ("Fatima", "Raza", "fatima.raza@example.pk", "+923331234503"),
    ("Hamza", "Siddiqui", None, "+923451234504"),
    ("Mahnoor", "Iqbal", "mahnoor@example.pk", "+923121234505"),
    ("Usman", "Qureshi", None, "+923021234506"),
]


def build_demo_shop(domain: str = "zari-demo.myshopify.com") -> SimShop:
    from server import demo

    shop = SimShop(domain=domain, name="Zari & Co.", currency="PKR")
    locations = {
        code: shop.add_location(name, city=LOCATION_CITY[code], country="Pakistan", countryCode="PK")
        for code, name, _ in demo.BRANCHES
    }
    products = demo.catalog()
    skus = [v.sku for p in products for v in p.variants]
    quantities = demo.opening_quantities(skus)
    on_hand = {code: dict(zip(skus, qs, strict=True)) for code, qs in quantities.items()}
    for product in products:
        made = shop.add_product(
            product.title,
            variants=[
                {
                    "sku": v.sku,
                    "barcode": v.barcode,
                    "price": str(v.price),
                    "options": {k: val for k, val in (("Size", v.size), ("Colour", v.colour)) if val}
                    or {"Title": "Default Title"},
                }
                for v in product.variants
            ],
            vendor=product.vendor,
            product_type=product.product_type,
        )
        for variant_id in made.variant_ids:
            variant = shop.variants[variant_id]
            for code, location in locations.items():
                shop.stock(variant, location, available=on_hand[code][variant.sku])
    for first, last, email, phone in CUSTOMERS:
        shop.add_customer(first, last, email=email, phone=phone)
    return shop


def open_demo_shop(saved: Path) -> SimShop:
    """The demo shop as the last demo run left it (orders, stock, webhook subscriptions), or freshly
    built. Branchline's database outlives a demo run; without this a restarted simulator would hand
    out the same order ids again and hold its opening stock while the branches had moved on."""
    shop = build_demo_shop()
    if saved.exists():
        persist.load(shop, str(saved))
    return shop


def save_demo_shop(shop: SimShop, saved: Path) -> None:
    persist.dump(shop, str(saved))
