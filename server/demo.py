"""A demo retailer for `branchline serve --demo`: Zari & Co., a Pakistani fashion, footwear and beauty chain.

The catalog and opening stock below are loaded into a simulated Shopify shop (server/demo_shop.py)
and imported from it, so the demo's stock has a ledger behind it like real stock and `branchline
check` passes on it.

Re-running is safe: connecting and importing never duplicate, and every other step is keyed, so an
interrupted run is completed without duplicates. Counters are created last: their presence marks
a finished seed.
"""

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from models.branches import Branch, Counter
from models.catalog import Variant
from models.shopify import ImportJob, ImportStatus, ShopifyLocation
from models.staff import Role, Staff
from operations.directory import (
    FileFormat,
    NewBranch,
    NewCounter,
    NewProduct,
    NewStaff,
    NewVariant,
    create_branch,
    create_counter,
    create_staff,
    import_catalog_updates,
)
from operations.kernel import SYSTEM
from operations.stock import set_reorder_points
from operations.sync import connect_shopify, current_connection, run_job, start_import

if TYPE_CHECKING:
    from shopify.simulator import SimShop

# (code, name, number of counters)
BRANCHES = [
    ("LHR-GUL", "Lahore – Gulberg", 3),
    ("KHI-DOL", "Karachi – Dolmen Mall Clifton", 3),
    ("ISB-CEN", "Islamabad – Centaurus", 2),
]

WOMEN_SIZES = ("S", "M", "L", "XL")
WOMEN_SHOES = ("36", "37", "38", "39", "40", "41")
MEN_SHOES = ("39", "40", "41", "42", "43", "44")
ONE_SIZE = (None,)

# kind: (SKU prefix, product type, vendor, sizes, Pakistan Customs Tariff code for FBR invoices)
KINDS = {
    "lawn": ("LAWN", "Unstitched", "Zari & Co.", ONE_SIZE, "5208.5200"),  # printed cotton fabric
    "kurta": ("KRT", "Kurta", "Zari & Co.", WOMEN_SIZES, "6206.3000"),  # women's cotton tops
    "suit": ("SUIT", "Stitched Suit", "Zari & Co.", WOMEN_SIZES, "6204.4200"),  # women's dresses
    "men": ("SK", "Shalwar Kameez", "Zari Men", WOMEN_SIZES, "6203.2200"),  # men's ensembles
    "shawl": ("SHWL", "Shawl", "Zari & Co.", ONE_SIZE, "6214.2000"),  # shawls of wool
    "heels": ("KHS", "Women's Footwear", "Qadam Footwear", WOMEN_SHOES, "6403.9900"),
    "chappal": ("CHP", "Men's Footwear", "Qadam Footwear", MEN_SHOES, "6403.9900"),
    "sneaker": ("SNK", "Sneakers", "Qadam Footwear", MEN_SHOES, "6404.1100"),  # textile uppers
    "lip": ("LIP", "Lip Make-up", "Zari Beauty", ONE_SIZE, "3304.1000"),
    "eye": ("EYE", "Eye Make-up", "Zari Beauty", ONE_SIZE, "3304.2000"),
    "nail": ("NAIL", "Nail Polish", "Zari Beauty", ONE_SIZE, "3304.3000"),
    "face": ("FACE", "Face Make-up", "Zari Beauty", ONE_SIZE, "3304.9900"),
    "perfume": ("PRF", "Fragrance", "Zari Beauty", ("50ml", "100ml"), "3303.0000"),
}

# (kind, title, price in PKR, colours or shades separated by "/"); one variant per size × colour.
PRODUCTS = [
    ("lawn", "Gulnar Embroidered Lawn 3-Piece", 6990, "Rust/Teal"),
    ("lawn", "Chikankari Lawn 3-Piece", 8490, "White/Powder Blue"),
    ("lawn", "Printed Lawn 2-Piece", 3990, "Mustard/Sea Green/Pink"),
    ("lawn", "Digital Print Lawn 3-Piece", 5490, "Lilac/Peach"),
    ("lawn", "Jacquard Lawn 3-Piece", 7490, "Maroon/Bottle Green"),
    ("lawn", "Festive Chiffon Suit 3-Piece", 12990, "Ivory/Magenta"),
    ("kurta", "Block Print Cotton Kurta", 2990, "Indigo/Red"),
    ("kurta", "Embroidered Cambric Kurta", 3990, "Black"),
    ("kurta", "Khaddar Straight Kurta", 3490, "Olive/Mustard"),
    ("kurta", "Mirror Work Kurta", 4990, "Fuchsia"),
    ("kurta", "Linen Kurti", 2490, "Sky Blue/Beige"),
    ("kurta", "Silk Angrakha Kurta", 6990, "Emerald"),
    ("suit", "Stitched Lawn Suit 3-Piece", 7490, "Coral"),
    ("suit", "Formal Organza Suit", 18990, "Champagne"),
    ("suit", "Velvet Wedding Suit", 24990, "Maroon"),
    ("suit", "Pret Cotton Suit 2-Piece", 5990, "Navy/Peach"),
    ("suit", "Karandi Winter Suit", 8990, "Grey"),
    ("men", "Wash & Wear Shalwar Kameez", 4490, "White/Black/Charcoal"),
    ("men", "Boski Shalwar Kameez", 9990, "Off White"),
    ("men", "Cotton Shalwar Kameez", 3990, "Sky Blue/Beige"),
    ("men", "Embroidered Kurta Pajama", 6490, "Black"),
    ("men", "Eid Kurta Shalwar", 5490, "Mint"),
    ("men", "Karandi Shalwar Kameez", 7990, "Brown"),
    ("shawl", "Pashmina Shawl", 14990, "Camel/Black"),
    ("shawl", "Kashmiri Embroidered Shawl", 9990, "Maroon/Navy"),
    ("shawl", "Printed Viscose Stole", 1990, "Peach/Grey/Teal"),
    ("shawl", "Men's Wool Loi", 5990, "Brown/Grey"),
    ("heels", "Multani Khussa", 2490, "Gold"),
    ("heels", "Embroidered Bridal Khussa", 4990, "Red/Silver"),
    ("heels", "Block Heel Sandal", 3990, "Black/Nude"),
    ("heels", "Flat Leather Sandal", 2990, "Tan"),
    ("chappal", "Peshawari Chappal", 4490, "Brown/Black"),
    ("chappal", "Norozi Chappal", 5990, "Tan"),
    ("chappal", "Men's Leather Khussa", 3490, "Black"),
    ("chappal", "Suede Loafer", 6990, "Brown"),
    ("sneaker", "Canvas Sneaker", 3990, "White/Navy"),
    ("sneaker", "Knit Running Shoe", 6990, "Black"),
    ("lip", "Matte Lipstick", 1590, "Ruby/Nude Rose/Brick/Berry/Mauve"),
    ("lip", "Creamy Lip Crayon", 1790, "Coral/Plum/Pink"),
    ("lip", "Liquid Lipstick", 1890, "Red/Toffee/Wine"),
    ("eye", "Kohl Kajal Pencil", 1500, "Black/Brown"),
    ("eye", "Volume Mascara", 1990, "Black"),
    ("eye", "Eyeshadow Palette", 3490, "Desert/Smokey"),
    ("nail", "Gel Finish Nail Polish", 1500, "Red/Nude/Maroon/Lilac"),
    ("face", "Compact Powder", 2290, "Ivory/Beige/Honey"),
    ("face", "Liquid Foundation", 2990, "Ivory/Beige/Honey/Caramel"),
    ("perfume", "Oud al Zari Eau de Parfum", 6990, "Oud"),
    ("perfume", "Jasmine Eau de Parfum", 5490, "Jasmine"),
    ("perfume", "Aqua Eau de Toilette", 4490, "Aqua"),
    ("perfume", "Amber Nights Eau de Parfum", 7990, "Amber"),
]

# Low stock when available is at or below this: fast movers (lawn, make-up) are reordered earlier.
REORDER_POINTS = {
    "LAWN": 5, "KRT": 3, "SUIT": 2, "SK": 2, "SHWL": 2, "KHS": 2, "CHP": 2, "SNK": 2,
    "LIP": 6, "EYE": 6, "NAIL": 6, "FACE": 4, "PRF": 3,
}  # fmt: skip

# Demo sign-ins, printed by `branchline serve --demo` and listed in the README. Demo only: a real
# install starts with `branchline create-owner` and has no default passwords.
DEMO_PASSWORD = "zari-demo-2026"
# (email, name, role, branch codes, counter PIN)
DEMO_STAFF = [
    ("owner@zari.demo", "Sana Owner", Role.OWNER, (), "900417"),
    ("inventory@zari.demo", "Imran Inventory", Role.INVENTORY, ("LHR-GUL", "KHI-DOL", "ISB-CEN"), None),
    ("finance@zari.demo", "Farah Finance", Role.FINANCE, ("LHR-GUL", "KHI-DOL", "ISB-CEN"), None),
    ("manager.lhr@zari.demo", "Bilal Manager", Role.BRANCH_MANAGER, ("LHR-GUL",), "118204"),
    ("ayesha.lhr@zari.demo", "Ayesha Cashier", Role.CASHIER, ("LHR-GUL",), "4826"),
    ("usman.lhr@zari.demo", "Usman Cashier", Role.CASHIER, ("LHR-GUL",), "2961"),
    ("manager.khi@zari.demo", "Hina Manager", Role.BRANCH_MANAGER, ("KHI-DOL",), "225817"),
    ("zain.khi@zari.demo", "Zain Cashier", Role.CASHIER, ("KHI-DOL",), "3702"),
    ("manager.isb@zari.demo", "Omar Manager", Role.BRANCH_MANAGER, ("ISB-CEN",), "336149"),
    ("maryam.isb@zari.demo", "Maryam Cashier", Role.CASHIER, ("ISB-CEN",), "4178"),
]


def demo_credentials() -> str:
    rows = [
        f"  {email:<24} {role.value:<15} PIN {pin or '-':<6} {', '.join(codes) or 'all branches'}"
        for email, _, role, codes, pin in DEMO_STAFF
    ]
    return "\n".join([f"Demo sign-ins (password for all: {DEMO_PASSWORD}):", *rows])


# GS1 Pakistan prefix 896, then a made-up company number; the item number is the variant's position.
BARCODE_STEM = "8961234"


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit: weights 1,3,1,3… from the left over the first 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def _price(base: int, size: str | None) -> Decimal:
    # A 100ml bottle costs about 1.6× the 50ml one, ending in …90 like the rest.
    amount = round(base * 1.6, -2) - 10 if size == "100ml" else base
    return Decimal(amount).quantize(Decimal("0.01"))


def catalog() -> list[NewProduct]:
    products: list[NewProduct] = []
    styles: dict[str, int] = {}
    item = 0
    for kind, title, price, colours in PRODUCTS:
        prefix, product_type, vendor, sizes, pct_code = KINDS[kind]
        styles[kind] = style = styles.get(kind, 100) + 1
        variants = []
        for colour in colours.split("/"):
            for size in sizes:
                item += 1
                # Perfume "colours" are the scent: the variant differs only by bottle size.
                shown_colour = None if kind == "perfume" else colour
                parts = [prefix, f"{style:04d}", size, shown_colour]
                sku = "-".join(p.replace(" ", "").upper() for p in parts if p)
                variants.append(
                    NewVariant(
                        sku=sku,
                        price=_price(price, size),
                        barcode=ean13(f"{BARCODE_STEM}{item:05d}"),
                        size=size,
                        colour=shown_colour,
                        # Pakistan's standard sales tax rate; kept uniform for the demo.
                        tax_rate=Decimal("18.00"),
                        pct_code=pct_code,
                    )
                )
        products.append(NewProduct(title=title, variants=variants, vendor=vendor, product_type=product_type))
    return products


def opening_quantities(skus: list[str]) -> dict[str, list[int]]:
    """Per branch, one quantity per SKU; the same every run so a retried adjustment is a replay."""
    rng = random.Random(2026)
    quantities: dict[str, list[int]] = {}
    for code, _, _ in BRANCHES:
        # About one in five lines is 0–3 units so low-stock and out-of-stock screens have something to show.
        quantities[code] = [rng.randint(0, 3) if rng.random() < 0.2 else rng.randint(4, 25) for _ in skus]
    return quantities


async def seed_demo(shop_url: str, shop: "SimShop | None" = None) -> bool:
    """Seed the demo retailer from the demo Shopify shop at `shop_url`. False (and nothing done) if
    there is nothing to do.

    The branches are made first, in BRANCHES order and each holding its Shopify location, so their IDs
    are the README's whatever order Shopify lists locations in. Catalog, customers and opening stock
    come through a real import (connect, bulk operations, download, import); what Shopify does not
    hold is set up here afterwards, as a retailer would: sales tax and PCT codes, reorder points,
    staff and counters.
    """
    from server.demo_shop import build_demo_shop

    shop = shop or build_demo_shop()
    codes = [code for code, _, _ in BRANCHES]
    connection = await current_connection()
    if connection is not None and connection.shop_domain != shop.domain:
        return False  # connected to a real shop: never mix the demo into it
    if await Branch.filter(shopify_location_id__isnull=True).exclude(code__in=codes).exists():
        return False  # someone's real branches
    last_code, _, last_count = BRANCHES[-1]
    if await Counter.exists(branch__code=last_code, code=f"C{last_count}"):
        return False  # a finished seed; a partial one (no last counter yet) carries on below

    # Every step can run again: connecting and importing never duplicate, the rest is keyed.
    if connection is None:
        await connect_shopify(SYSTEM, shop.domain, shop.access_token, shop.client_secret)
    await _place_branches(shop)
    if not await ImportJob.exists(status=ImportStatus.COMPLETED):
        job, _ = await start_import(SYSTEM)
        job = await run_job(job.id)
        if job.status != ImportStatus.COMPLETED:
            raise RuntimeError(f"the demo import failed ({job.error_code}): {job.error}")

    branches = await _name_branches()
    products = catalog()
    # Shopify holds neither Pakistan's sales tax nor the PCT code: the shop sends them as a sheet, as a
    # retailer would (importCatalogUpdates; a re-run is a replay of the first import).
    sheet = ["sku,tax_rate,pct_code"] + [
        f"{v.sku},{v.tax_rate},{v.pct_code or ''}" for p in products for v in p.variants
    ]
    await import_catalog_updates(
        SYSTEM, "\n".join(sheet).encode(), FileFormat.CSV, dry_run=False, idempotency_key="demo-tax-and-pct-codes"
    )

    skus = [v.sku for p in products for v in p.variants]
    ids = dict(await Variant.filter(sku__in=skus).values_list("sku", "id"))
    reorder = [(ids[v.sku], REORDER_POINTS[v.sku.split("-")[0]]) for p in products for v in p.variants]
    for code in codes:
        # Also gives every variant a level row, so sold-out lines show.
        await set_reorder_points(SYSTEM, branches[code].id, reorder)

    for email, name, role, branch_codes, pin in DEMO_STAFF:
        if not await Staff.exists(email=email):
            new = NewStaff(email, name, role, DEMO_PASSWORD, pin, [branches[c].id for c in branch_codes])
            await create_staff(SYSTEM, new)

    for code, _, count in BRANCHES:
        for n in range(1, count + 1):
            new = NewCounter(branch_id=branches[code].id, code=f"C{n}", name=f"Counter {n}")
            await create_counter(SYSTEM, new, f"demo:counter:{code}:C{n}")
    return True


async def _place_branches(shop: "SimShop") -> None:
    """Create the demo's branches in BRANCHES order, each holding its Shopify location, before the import.

    Left to the import, branches are made in the order Shopify lists its locations (by name:
    Islamabad first), and the IDs the README uses (Branch:1 is Lahore – Gulberg, Counter:1 its first
    counter) would name other branches. The link is written here rather than with mapLocation
    (operations/sync/locations.py), which needs the location imported first; the demo knows its
    shop's locations already. A branch that already holds its location (an earlier run) is left be.
    """
    locations = {location.name: location.gid for location in shop.locations.values()}
    for code, name, _ in BRANCHES:
        if await Branch.exists(shopify_location_id=locations[name]):
            continue
        branch, _ = await create_branch(SYSTEM, NewBranch(code=code, name=name), f"demo:branch:{code}")
        await Branch.filter(id=branch.id).update(shopify_location_id=locations[name])


async def _name_branches() -> dict[str, Branch]:
    """The demo's branches by code. A database seeded by an older demo, whose import made the branches
    and named them after their locations, gets the short codes here."""
    by_location = {loc.name: loc.shopify_location_id for loc in await ShopifyLocation.all()}
    branches = {}
    for code, name, _ in BRANCHES:
        branch = await Branch.get(shopify_location_id=by_location[name])
        if branch.code != code:
            branch.code = code
            await branch.save(update_fields=["code"])
        branches[code] = branch
    return branches
