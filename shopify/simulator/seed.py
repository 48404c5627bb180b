"""A deterministic demo catalogue: a Pakistani fashion retailer with a few branches, PKR prices and stock."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import SimShop

LOCATIONS = [
    (
        "Lahore — Gulberg",
        {
            "address1": "42-B Main Boulevard, Gulberg III",
            "city": "Lahore",
            "province": "Punjab",
            "provinceCode": "PB",
            "zip": "54660",
            "phone": "+92 42 3578 1100",
        },
    ),
    (
        "Karachi — Clifton",
        {
            "address1": "Shop 7, Block 5, Clifton",
            "city": "Karachi",
            "province": "Sindh",
            "provinceCode": "SD",
            "zip": "75600",
            "phone": "+92 21 3583 2200",
        },
    ),
    (
        "Islamabad — F-7",
        {
            "address1": "Jinnah Super Market, F-7 Markaz",
            "city": "Islamabad",
            "province": "Islamabad Capital Territory",
            "provinceCode": "IS",
            "zip": "44000",
            "phone": "+92 51 2650 3300",
        },
    ),
    (
        "Lahore — DHA Phase 5",
        {
            "address1": "Commercial Broadway, DHA Phase 5",
            "city": "Lahore",
            "province": "Punjab",
            "provinceCode": "PB",
            "zip": "54792",
            "phone": "+92 42 3718 4400",
        },
    ),
    (
        "Faisalabad — D Ground",
        {
            "address1": "D Ground, People's Colony No. 1",
            "city": "Faisalabad",
            "province": "Punjab",
            "provinceCode": "PB",
            "zip": "38000",
            "phone": "+92 41 8711 500",
        },
    ),
    (
        "Warehouse — Sundar",
        {
            "address1": "Plot 12, Sundar Industrial Estate",
            "city": "Lahore",
            "province": "Punjab",
            "provinceCode": "PB",
            "zip": "53700",
            "phone": "+92 42 3529 6600",
        },
    ),
]
GARMENTS = [
    ("Lawn Kurta", "Kurta", (2490, 4990)),
    ("Embroidered Shalwar Kameez", "Suit", (7990, 18990)),
    ("Khaddar Shawl", "Shawl", (3490, 8990)),
    ("Chiffon Dupatta", "Dupatta", (1490, 3990)),
    ("Silk Kurti", "Kurta", (4490, 9990)),
    ("Cotton Trouser", "Trouser", (1790, 2990)),
    ("Linen Waistcoat", "Waistcoat", (5490, 11990)),
    ("Peshawari Chappal", "Footwear", (3990, 7490)),
    ("Cambric Kameez", "Kurta", (2990, 5990)),
    ("Velvet Shawl", "Shawl", (8990, 21990)),
]
ADJECTIVES = ["Gulnaar", "Noor", "Rang", "Sitara", "Mehr", "Bahaar", "Zarqa", "Saba", "Hina", "Roshni", "Afsaneh"]
COLOURS = ["Maroon", "Bottle Green", "Mustard", "Ivory", "Navy", "Teal", "Blush Pink", "Black", "Rust"]
SIZES = ["XS", "S", "M", "L", "XL"]
FOOTWEAR_SIZES = ["40", "41", "42", "43", "44"]
FIRST = ["Ayesha", "Bilal", "Fatima", "Hamza", "Zainab", "Usman", "Mahnoor", "Ali", "Sana", "Omar", "Hira", "Saad"]
LAST = ["Khan", "Ahmed", "Malik", "Qureshi", "Sheikh", "Butt", "Chaudhry", "Siddiqui", "Raza", "Iqbal"]
VENDORS = ["Zari Studio", "Zari Pret", "Zari Essentials"]


def _ean13(rng: random.Random) -> str:
    digits = [8, 9, 6] + [rng.randrange(10) for _ in range(9)]  # 896: Pakistan's GS1 prefix
    check = (10 - sum(d * (3 if n % 2 else 1) for n, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def seed_demo(shop: SimShop, products: int = 50, locations: int = 3, customers: int = 20, rng_seed: int = 1) -> None:
    """Same arguments → same catalogue, ids and stock. Some items aren't stocked everywhere, a few untracked."""
    rng = random.Random(rng_seed)
    locs = [shop.add_location(name, **addr) for name, addr in LOCATIONS[: max(1, locations)]]
    for n in range(locations - len(LOCATIONS)):
        locs.append(shop.add_location(f"Branch {n + 7}", city="Lahore", country="Pakistan", countryCode="PK"))
    for p in range(products):
        garment, kind, (low, high) = GARMENTS[p % len(GARMENTS)]
        title = f"{ADJECTIVES[p % len(ADJECTIVES)]} {garment}" + (
            f" {p // len(GARMENTS) + 1}" if p >= len(GARMENTS) else ""
        )
        price = rng.randrange(low, high + 1, 100)  # ends in 90, like real PKR price tags
        colours = rng.sample(COLOURS, 1 if kind in ("Shawl", "Dupatta") else rng.choice([1, 2]))
        sizes = FOOTWEAR_SIZES if kind == "Footwear" else (["One Size"] if kind in ("Shawl", "Dupatta") else SIZES[1:])
        tracked = rng.random() > 0.07
        variants = []
        for colour in colours:
            for size in sizes:
                sku = f"ZR-{p + 1:04d}-{colour[:3].upper()}-{size.replace(' ', '')[:3].upper()}"
                variants.append(
                    {
                        "sku": sku,
                        "barcode": _ean13(rng),
                        "price": price,
                        "unit_cost": price * 45 // 100,  # what the shop paid: valued stock from the import on
                        "options": {"Colour": colour, "Size": size},
                        "tracked": tracked,
                    }
                )
        product = shop.add_product(
            title,
            variants,
            vendor=rng.choice(VENDORS),
            product_type=kind,
            status="DRAFT" if rng.random() < 0.04 else "ACTIVE",
        )
        for vid in product.variant_ids:
            variant = shop.variants[vid]
            for k, loc in enumerate(locs):
                if k > 0 and rng.random() < 0.1:
                    continue  # not carried at this branch: adjusting it there must fail
                shop.stock(variant, loc, available=rng.randrange(0, 25))
    for c in range(customers):
        first, last = FIRST[c % len(FIRST)], LAST[(c * 7 + rng.randrange(3)) % len(LAST)]
        email = f"{first.lower()}.{last.lower()}{c + 1}@example.pk"
        phone = f"+92 3{rng.randrange(0, 5)}{rng.randrange(0, 10)} {rng.randrange(1000000, 9999999)}"
        shop.add_customer(first, last, email=email, phone=phone)
