"""Reading Shopify bulk-operation results (JSONL) without holding them in memory.

Facts this follows (Shopify's Admin API documentation): one JSON object per line; nested
connection nodes carry `__parentId`; with `groupObjects: false` a child need not sit under its
parent and may even come before it; `__typename` is there only if the query asked for it, so a
line's kind is read from its GID (`gid://shopify/ProductVariant/…`). GIDs stay strings: their
numbers exceed 2^53.

`split_by_kind` reads a file once, checks every line, and writes each kind's raw lines to its
own file, so the import can take them in dependency order (locations, products, variants,
levels, customers) whatever order Shopify wrote them in — with memory that does not grow with
the file.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

import orjson

GID_PREFIX = "gid://shopify/"


class Kind(StrEnum):
    LOCATION = "Location"
    PRODUCT = "Product"
    VARIANT = "ProductVariant"
    LEVEL = "InventoryLevel"
    CUSTOMER = "Customer"


# The order the import takes them in: each kind only points at kinds before it.
IMPORT_ORDER = [Kind.LOCATION, Kind.PRODUCT, Kind.VARIANT, Kind.LEVEL, Kind.CUSTOMER]


class JsonlError(Exception):
    """A line that cannot be imported; the whole file is refused before anything is written."""

    def __init__(self, line: int, message: str, source: str = ""):
        where = f"{source} line {line}" if source else f"line {line}"
        super().__init__(f"{where}: {message}")
        self.line = line


def gid_type(gid: object) -> str | None:
    """`gid://shopify/InventoryLevel/1?inventory_item_id=2` -> "InventoryLevel"."""
    if not isinstance(gid, str) or not gid.startswith(GID_PREFIX):
        return None
    kind, _, rest = gid[len(GID_PREFIX) :].partition("/")
    return kind if kind and rest else None


def gid(kind: str, number: int | str) -> str:
    return f"{GID_PREFIX}{kind}/{number}"


def read_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line, streamed."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
                yield number, _parse(raw, number)


def _parse(raw: bytes, number: int, source: str = "") -> dict:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise JsonlError(number, f"not valid JSON ({error.msg})", source) from None
    if not isinstance(value, dict):
        raise JsonlError(number, "each line must be one JSON object", source)
    return value


def kind_of(obj: dict, number: int, source: str = "") -> Kind | None:
    """The line's kind, or None for kinds the import does not take (counted, then skipped)."""
    typename = obj.get("__typename")
    from_gid = gid_type(obj.get("id"))
    if from_gid is None:
        raise JsonlError(number, "the line has no Shopify GID in `id`", source)
    if typename is not None and typename != from_gid:
        raise JsonlError(number, f"__typename {typename!r} does not match the id's type {from_gid!r}", source)
    try:
        return Kind(from_gid)
    except ValueError:
        return None


def _check(kind: Kind, obj: dict, number: int, source: str) -> None:
    """The fields the import cannot do without, checked before anything is written."""

    def need(condition: bool, message: str) -> None:
        if not condition:
            raise JsonlError(number, f"{kind.value} {obj.get('id')}: {message}", source)

    if kind is Kind.LOCATION:
        need(isinstance(obj.get("name"), str) and obj["name"].strip() != "", "a location needs a name")
    elif kind is Kind.PRODUCT:
        need(isinstance(obj.get("title"), str), "a product needs a title")
    elif kind is Kind.VARIANT:
        product = obj.get("product")
        parent = obj.get("__parentId")
        need(
            (isinstance(product, dict) and gid_type(product.get("id")) == "Product") or gid_type(parent) == "Product",
            "a variant needs its product (inline `product { id }` or `__parentId`)",
        )
        need(_is_price(obj.get("price")), f"price {obj.get('price')!r} is not an amount of money")
    elif kind is Kind.LEVEL:
        need(gid_type(obj.get("__parentId")) == "ProductVariant", "an inventory level needs `__parentId` (its variant)")
        location = obj.get("location")
        need(isinstance(location, dict) and gid_type(location.get("id")) == "Location", "needs `location { id }`")
        need(isinstance(obj.get("quantities"), list), "needs `quantities(names: [...]) { name quantity }`")


def _is_price(value: object) -> bool:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | float) else None
    except InvalidOperation:
        return False
    return amount is not None and amount.is_finite() and 0 <= amount < Decimal("1e11")


@dataclass
class SplitResult:
    files: dict[Kind, Path]
    counts: dict[str, int] = field(default_factory=dict)  # lines per kind, incl. skipped kinds
    lines: int = 0
    # Locations the levels point at: few, so kept in memory to check mapping before writing.
    level_locations: set[str] = field(default_factory=set)


def split_by_kind(sources: list[Path], workdir: Path, *, on_progress=None) -> SplitResult:
    """Check every line of every source and file it under its kind. Raises JsonlError on the
    first bad line, before the import writes anything."""
    files = {kind: workdir / f"{kind.value}.jsonl" for kind in Kind}
    handles = {kind: path.open("wb") for kind, path in files.items()}
    result = SplitResult(files=files)
    try:
        for source in sources:
            with source.open("rb") as f:
                for number, raw in enumerate(f, start=1):
                    if not raw.strip():
                        continue
                    obj = _parse(raw, number, source.name)
                    kind = kind_of(obj, number, source.name)
                    result.lines += 1
                    name = kind.value if kind else (gid_type(obj.get("id")) or "unknown")
                    result.counts[name] = result.counts.get(name, 0) + 1
                    if kind is None:
                        continue
                    _check(kind, obj, number, source.name)
                    if kind is Kind.LEVEL:
                        result.level_locations.add(obj["location"]["id"])
                    handles[kind].write(raw if raw.endswith(b"\n") else raw + b"\n")
                    if on_progress is not None and result.lines % 10_000 == 0:
                        on_progress(result.lines)
    finally:
        for handle in handles.values():
            handle.close()
    return result


def quantity(level: dict, name: str) -> int | None:
    """One named quantity of an inventory level line, or None when the line does not carry it.
    The import reads only `on_hand`, half a million times for a large shop: no dict per line."""
    for q in level.get("quantities") or ():
        if type(q) is dict and q.get("name") == name:
            value = q.get("quantity")
            return value if type(value) is int else None
    return None


def quantities(level: dict) -> dict[str, int]:
    """`[{"name": "on_hand", "quantity": 10}, ...]` -> {"on_hand": 10, ...}."""
    out: dict[str, int] = {}
    for q in level.get("quantities") or []:
        if isinstance(q, dict) and isinstance(q.get("name"), str) and isinstance(q.get("quantity"), int):
            out[q["name"]] = q["quantity"]
    return out
