"""Upserting a batch of imported Shopify objects: locations, products, variants, customers.

Each batch reads what exists (by Shopify GID), inserts what is new in one statement, updates
only rows whose fields differ, and counts created / updated / unchanged — so a second import of
the same data writes nothing and says so.

Shopify does not keep SKUs unique or present; Branchline's counters scan them, so it must. A
variant without a SKU gets `SHOPIFY-<number>`; a SKU already held by another variant gets
`<sku>-<number>` and a warning, as does a barcode held twice (that one is dropped). A variant
created in Branchline before Shopify was connected is linked by its SKU instead of duplicated, and a
customer made at the counter by their phone (one customer per phone, in E.164).
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import orjson

from operations.directory import normalise_phone
from operations.kernel import Transaction, db_decimal, db_time, fetch
from operations.stock import ROWS_PER_STATEMENT
from shopify.jsonl import gid_type

MAX_WARNINGS = 200


class ImportKind(StrEnum):
    """What a run counts (`Tally.count`'s kind)."""

    LOCATIONS = "locations"
    BRANCHES = "branches"
    PRODUCTS = "products"
    VARIANTS = "variants"
    LEVELS = "levels"
    CUSTOMERS = "customers"


class ImportOutcome(StrEnum):
    """What happened to the objects of a kind (`Tally.count`'s outcome)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    LINKED_BY_SKU = "linked_by_sku"  # a Shopify variant taken as the Branchline variant with its SKU
    LINKED_BY_PHONE = "linked_by_phone"  # a Shopify customer taken as the counter's customer with its phone
    IGNORED_LOCATION = "ignored_location"  # stock at a location the owner chose not to bring in
    OPENING_STOCK = "opening_stock"  # opening stock movements written
    ALREADY_PRESENT = "already_present"  # levels that had their opening stock already


@dataclass
class Tally:
    """What a run did, per kind, plus the warnings a retailer should read."""

    counts: dict[str, Counter] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    warning_count: int = 0

    def count(self, kind: ImportKind | str, outcome: ImportOutcome | str, n: int = 1) -> None:
        if n:
            self.counts.setdefault(kind, Counter())[outcome] += n

    def warn(self, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append({"message": message})

    def as_json(self) -> dict:
        return {kind: dict(c) for kind, c in self.counts.items()}


def _in(values) -> str:
    return ", ".join("?" for _ in values)


def numeric_id(gid: str) -> str:
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


async def _upsert(
    tx: Transaction,
    table: str,
    key_column: str,
    columns: list[str],
    rows: dict[str, dict],
    kind: str,
    tally: Tally,
    on_insert: dict[str, Any],
    insert_only: tuple[str, ...] = (),
) -> dict[str, int]:
    """Insert new rows and update changed ones, keyed by a Shopify GID; returns GID -> id.

    `on_insert` holds the columns only a new row gets (timestamps, defaults the table has no
    database default for); `insert_only` names columns of `rows` a new row gets and an existing
    one keeps as it is (a variant's opening cost)."""
    conn = tx.conn
    keys = list(rows)
    existing = await fetch(
        conn, f"SELECT id, {key_column}, {', '.join(columns)} FROM {table} WHERE {key_column} IN ({_in(keys)})", keys
    )
    ids = {r[key_column]: r["id"] for r in existing}
    for r in existing:
        wanted = rows[r[key_column]]
        changed = [c for c in columns if _differs(r[c], wanted[c])]
        if not changed:
            tally.count(kind, "unchanged")
            continue
        await fetch(
            conn,
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?",
            [wanted[c] for c in changed] + [r["id"]],
        )
        tally.count(kind, "updated")
    new = [k for k in keys if k not in ids]
    if new:
        insert_columns = [key_column, *columns, *insert_only, *on_insert]
        placeholders = "(" + ", ".join("?" for _ in insert_columns) + ")"
        for start in range(0, len(new), ROWS_PER_STATEMENT):
            chunk = new[start : start + ROWS_PER_STATEMENT]
            inserted = await fetch(
                conn,
                f"INSERT INTO {table} ({', '.join(insert_columns)}) VALUES {', '.join(placeholders for _ in chunk)}"
                f" RETURNING id, {key_column}",
                [v for k in chunk for v in (k, *(rows[k][c] for c in (*columns, *insert_only)), *on_insert.values())],
            )
            ids.update({r[key_column]: r["id"] for r in inserted})
        tally.count(kind, "created", len(new))
    return ids


class JsonText(str):
    """A JSON column's value: compared as data, since PostgreSQL's jsonb re-formats the text."""


def _differs(stored, wanted) -> bool:
    if isinstance(wanted, JsonText):
        stored_value = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
        return stored_value != orjson.loads(str(wanted))
    if isinstance(wanted, Decimal) or isinstance(stored, Decimal):
        return stored is None or wanted is None or Decimal(str(stored)) != Decimal(str(wanted))
    if isinstance(wanted, bool):
        return bool(stored) != wanted
    return stored != wanted


# ---- locations -----------------------------------------------------------------------------


async def upsert_locations(tx: Transaction, lines: list[dict], tally: Tally) -> None:
    rows = {
        obj["id"]: {
            "name": obj["name"].strip()[:255],
            "active": bool(obj.get("isActive", True)),
            "address": _json_text(obj.get("address") or {}),
        }
        for obj in lines
    }
    stamp = db_time(tx.conn, datetime.now(UTC))
    await _upsert(
        tx,
        "shopify_location",
        "shopify_location_id",
        ["name", "active", "address"],
        rows,
        "locations",
        tally,
        {"ignored": False, "updated_at": stamp},
    )


def _json_text(value) -> JsonText:
    return JsonText(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


async def create_branches_for_new_locations(tx: Transaction, tally: Tally) -> None:
    """Every active location not mapped and not ignored becomes a branch of the same name."""
    conn = tx.conn
    unmapped = await fetch(
        conn,
        "SELECT l.shopify_location_id, l.name FROM shopify_location l"
        " LEFT JOIN branch b ON b.shopify_location_id = l.shopify_location_id"
        " WHERE b.id IS NULL AND l.ignored = ? AND l.active = ? ORDER BY l.id",
        [False, True],
    )
    if not unmapped:
        return
    taken = {r["code"] for r in await fetch(conn, "SELECT code FROM branch")}
    now = db_time(conn, datetime.now(UTC))
    for loc in unmapped:
        code = _branch_code(loc["name"], numeric_id(loc["shopify_location_id"]), taken)
        taken.add(code)
        await fetch(
            conn,
            "INSERT INTO branch (code, name, timezone, allow_negative_stock, shopify_location_id, created_at)"
            " VALUES (?, ?, 'Asia/Karachi', ?, ?, ?)",
            [code, loc["name"][:120], False, loc["shopify_location_id"], now],
        )
        tally.count("branches", "created")


def _branch_code(name: str, number: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:24] or f"LOC-{number}"
    code = base
    n = 2
    while code in taken:
        code = f"{base[:28]}-{n}"
        n += 1
    return code


async def location_branches(tx: Transaction) -> tuple[dict[str, int], set[str]]:
    """Shopify location GID -> branch id, and the GIDs the owner chose to ignore."""
    mapped = await fetch(tx.conn, "SELECT id, shopify_location_id FROM branch WHERE shopify_location_id IS NOT NULL")
    ignored = await fetch(tx.conn, "SELECT shopify_location_id FROM shopify_location WHERE ignored = ?", [True])
    return {r["shopify_location_id"]: r["id"] for r in mapped}, {r["shopify_location_id"] for r in ignored}


# ---- products and variants -----------------------------------------------------------------


async def upsert_products(tx: Transaction, lines: list[dict], tally: Tally) -> dict[str, int]:
    rows = {
        obj["id"]: {
            "title": (obj.get("title") or "").strip()[:255] or "Untitled",
            "vendor": (obj.get("vendor") or "")[:120],
            "product_type": (obj.get("productType") or "")[:120],
        }
        for obj in lines
    }
    return await _upsert(
        tx,
        "product",
        "shopify_product_id",
        ["title", "vendor", "product_type"],
        rows,
        "products",
        tally,
        {"created_at": db_time(tx.conn, datetime.now(UTC))},
    )


async def product_ids(tx: Transaction, gids: set[str]) -> dict[str, int]:
    if not gids:
        return {}
    keys = sorted(gids)
    rows = await fetch(
        tx.conn, f"SELECT id, shopify_product_id FROM product WHERE shopify_product_id IN ({_in(keys)})", keys
    )
    return {r["shopify_product_id"]: r["id"] for r in rows}


def _money(value, places: str) -> Decimal | None:
    """A Money string (Shopify's decimal text) rounded to `places`; None when missing or not a number."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal(places))
    except InvalidOperation:
        return None
    return amount if amount >= 0 else None


def _option(options, *names: str) -> str | None:
    for o in options or []:
        if isinstance(o, dict) and str(o.get("name", "")).strip().lower() in names:
            return str(o.get("value"))[:40]
    return None


async def upsert_variants(tx: Transaction, lines: list[dict], tally: Tally) -> dict[str, int]:
    """Variants with their products (inline `product { … }` lines, or a Product line's GID)."""
    inline_products = {obj["product"]["id"]: obj["product"] for obj in lines if isinstance(obj.get("product"), dict)}
    if inline_products:
        # A product repeats on each of its variants' lines, across batches: count only real changes.
        seen = Tally()
        await upsert_products(tx, list(inline_products.values()), seen)
        for outcome in ("created", "updated"):
            tally.count("products", outcome, seen.counts.get("products", Counter())[outcome])
    products = await product_ids(
        tx, {obj["product"]["id"] if isinstance(obj.get("product"), dict) else obj["__parentId"] for obj in lines}
    )
    wanted = _wanted_variants(lines, products, tally)
    if not wanted:
        return {}
    await _settle_skus_and_barcodes(tx, wanted, tally)
    costs = {gid: w["average_cost"] for gid, w in wanted.items()}
    for w in wanted.values():
        w["price"] = db_decimal(tx.conn, w["price"])
        if w["average_cost"] is not None:
            w["average_cost"] = db_decimal(tx.conn, w["average_cost"])
        if w["compare_at_price"] is not None:
            w["compare_at_price"] = db_decimal(tx.conn, w["compare_at_price"])
    columns = [
        "product_id",
        "sku",
        "barcode",
        "title",
        "size",
        "colour",
        "price",
        "compare_at_price",
        "shopify_inventory_item_id",
    ]
    on_insert = {"tax_rate": db_decimal(tx.conn, Decimal(0)), "created_at": db_time(tx.conn, datetime.now(UTC))}
    ids = await _upsert(
        tx, "variant", "shopify_variant_id", columns, wanted, "variants", tally, on_insert, ("average_cost",)
    )
    # New variants got theirs with the INSERT; this is for those that were there already without one.
    await _opening_costs(tx, {ids[gid]: cost for gid, cost in costs.items() if cost is not None and gid in ids})
    return ids


async def _opening_costs(tx: Transaction, costs: dict[int, Decimal]) -> None:
    """Shopify's unit cost (`inventoryItem.unitCost`) becomes the average cost of a variant that has none
    yet, so imported stock is valued from day one (operations/purchasing/valuation.py). A variant that
    already has one keeps it: from its first goods received on, Branchline's weighted average is the
    truth (operations/purchasing/receiving.py), and a re-import must not reset it."""
    ids = sorted(costs)
    without = set()
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        chunk = ids[start : start + ROWS_PER_STATEMENT]
        rows = await fetch(
            tx.conn, f"SELECT id FROM variant WHERE id IN ({_in(chunk)}) AND average_cost IS NULL", chunk
        )
        without |= {r["id"] for r in rows}
    for variant_id in sorted(without):  # the first import only: a re-import finds none without a cost
        cost = costs[variant_id]
        await fetch(
            tx.conn,
            "UPDATE variant SET average_cost = ? WHERE id = ? AND average_cost IS NULL",
            [db_decimal(tx.conn, cost), variant_id],
        )


def _wanted_variants(lines: list[dict], products: dict[str, int], tally: Tally) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for obj in lines:
        product_gid = obj["product"]["id"] if isinstance(obj.get("product"), dict) else obj["__parentId"]
        if product_gid not in products:
            tally.warn(f"variant {obj['id']}: its product {product_gid} is not in the import; skipped")
            tally.count("variants", "skipped")
            continue
        number = numeric_id(obj["id"])
        title = (obj.get("title") or "").strip()
        item = obj.get("inventoryItem") if isinstance(obj.get("inventoryItem"), dict) else {}
        wanted[obj["id"]] = {
            "product_id": products[product_gid],
            "sku": ((obj.get("sku") or "").strip() or f"SHOPIFY-{number}")[:64],
            "barcode": ((obj.get("barcode") or "").strip()[:64]) or None,
            "title": "" if title == "Default Title" else title[:255],
            "size": _option(obj.get("selectedOptions"), "size"),
            "colour": _option(obj.get("selectedOptions"), "color", "colour"),
            "price": Decimal(str(obj["price"])).quantize(Decimal("0.01")),
            "compare_at_price": _money(obj.get("compareAtPrice"), "0.01"),
            "average_cost": _money((item.get("unitCost") or {}).get("amount"), "0.0001"),
            "shopify_inventory_item_id": item.get("id") if gid_type(item.get("id")) == "InventoryItem" else None,
        }
    return wanted


async def _settle_skus_and_barcodes(tx: Transaction, wanted: dict[str, dict], tally: Tally) -> None:
    """Make SKUs unique, drop duplicate barcodes, and link Branchline-made variants by SKU."""
    conn = tx.conn
    skus = sorted({w["sku"] for w in wanted.values()})
    barcodes = sorted({w["barcode"] for w in wanted.values() if w["barcode"]})
    holders = await fetch(
        conn,
        f"SELECT id, sku, barcode, shopify_variant_id FROM variant WHERE sku IN ({_in(skus)})"
        + (f" OR barcode IN ({_in(barcodes)})" if barcodes else ""),
        skus + barcodes,
    )
    sku_owner: dict[str, str | int] = {}
    barcode_owner: dict[str, str | int] = {}
    for h in holders:
        owner = h["shopify_variant_id"] or h["id"]  # GID, or the id of a Branchline-made variant
        sku_owner[h["sku"]] = owner
        if h["barcode"]:
            barcode_owner[h["barcode"]] = owner
    for gid, w in wanted.items():
        owner = sku_owner.get(w["sku"])
        if isinstance(owner, int):  # made in Branchline before Shopify was connected: link it
            await fetch(conn, "UPDATE variant SET shopify_variant_id = ? WHERE id = ?", [gid, owner])
            tally.count("variants", "linked_by_sku")
            sku_owner[w["sku"]] = gid
            for barcode, holder in list(barcode_owner.items()):  # its barcode is its own, not a clash
                if holder == owner:
                    barcode_owner[barcode] = gid
        elif owner is not None and owner != gid:
            suffixed = f"{w['sku'][: 63 - len(numeric_id(gid))]}-{numeric_id(gid)}"
            tally.warn(f"variant {gid}: SKU {w['sku']!r} is already used by another variant; imported as {suffixed!r}")
            w["sku"] = suffixed
        sku_owner.setdefault(w["sku"], gid)
        if w["barcode"]:
            holder = barcode_owner.get(w["barcode"])
            if holder is not None and holder != gid:
                tally.warn(f"variant {gid}: barcode {w['barcode']!r} is already used by another variant; left empty")
                w["barcode"] = None
            else:
                barcode_owner[w["barcode"]] = gid


async def variants_by_gid(tx: Transaction, gids: list[str]) -> dict[str, tuple[int, str]]:
    """Shopify variant GID -> (variant id, sku)."""
    if not gids:
        return {}
    rows = await fetch(
        tx.conn, f"SELECT id, sku, shopify_variant_id FROM variant WHERE shopify_variant_id IN ({_in(gids)})", gids
    )
    return {r["shopify_variant_id"]: (r["id"], r["sku"]) for r in rows}


# ---- customers -----------------------------------------------------------------------------


async def upsert_customers(tx: Transaction, lines: list[dict], tally: Tally) -> None:
    """Customers by Shopify GID, their phones in E.164 (`normalise_phone`, as at the counter). One customer per
    phone: a customer made at the counter with the same phone is linked (it gets the Shopify GID) instead of
    duplicated; a phone another customer already has is left off this one, with a warning."""
    rows = {}
    for obj in lines:
        email = obj.get("email") or (obj.get("defaultEmailAddress") or {}).get("emailAddress")
        phone = obj.get("phone") or (obj.get("defaultPhoneNumber") or {}).get("phoneNumber")
        rows[obj["id"]] = {
            "first_name": (obj.get("firstName") or "")[:120],
            "last_name": (obj.get("lastName") or "")[:120],
            "email": email[:255] if email else None,
            "phone": (normalise_phone(phone) or phone.strip()[:40] or None) if phone else None,
        }
    await _one_customer_per_phone(tx, rows, tally)
    stamp = db_time(tx.conn, datetime.now(UTC))
    await _upsert(
        tx,
        "customer",
        "shopify_customer_id",
        ["first_name", "last_name", "email", "phone"],
        rows,
        "customers",
        tally,
        {"created_at": stamp, "updated_at": stamp},
    )


async def _one_customer_per_phone(tx: Transaction, rows: dict[str, dict], tally: Tally) -> None:
    """Link counter-made customers by phone; drop a phone someone else has (in the database or earlier in
    the batch), so the UNIQUE index on customer.phone never refuses the batch."""
    phones = sorted({r["phone"] for r in rows.values() if r["phone"]})
    holders = {}
    for start in range(0, len(phones), ROWS_PER_STATEMENT):
        chunk = phones[start : start + ROWS_PER_STATEMENT]
        for r in await fetch(
            tx.conn, f"SELECT id, phone, shopify_customer_id FROM customer WHERE phone IN ({_in(chunk)})", chunk
        ):
            holders[r["phone"]] = r
    gids = list(rows)
    known = set()
    for start in range(0, len(gids), ROWS_PER_STATEMENT):
        chunk = gids[start : start + ROWS_PER_STATEMENT]
        known |= {
            r["shopify_customer_id"]
            for r in await fetch(
                tx.conn, f"SELECT shopify_customer_id FROM customer WHERE shopify_customer_id IN ({_in(chunk)})", chunk
            )
        }
    claimed: dict[str, str] = {}  # phone -> the GID of this batch that has it
    for gid, row in rows.items():
        phone = row["phone"]
        if phone is None:
            continue
        holder = holders.get(phone)
        if holder is not None and holder["shopify_customer_id"] is None and gid not in known and phone not in claimed:
            linked = await fetch(
                tx.conn,
                "UPDATE customer SET shopify_customer_id = ? WHERE id = ? AND shopify_customer_id IS NULL RETURNING id",
                [gid, holder["id"]],
            )
            if linked:
                holder["shopify_customer_id"] = gid
                known.add(gid)
                tally.count("customers", "linked_by_phone")
        taken_by = holder["shopify_customer_id"] if holder is not None else claimed.get(phone)
        if (holder is not None or phone in claimed) and taken_by != gid:
            tally.warn(f"customer {gid}: phone {phone} belongs to another customer; left empty")
            row["phone"] = None
            continue
        claimed[phone] = gid
