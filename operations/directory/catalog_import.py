"""Bulk catalog updates from a shop's spreadsheet: rows keyed by SKU, applied all or nothing.

A shop keeps its tax rates, PCT codes, prices and costs in a spreadsheet and sends the sheet,
not a hundred edits. The file is CSV (text) or XLSX; its first row names the columns: `sku` and any
of `tax_rate`, `pct_code`, `price`, `compare_at_price`, `cost` (case, spaces and dashes do not
matter: "Tax Rate" is `tax_rate`). An empty cell leaves that field as it is. Any other column is
refused, so a misspelt "prce" is not silently ignored.

A dry run reads everything, writes nothing and answers what would change (row, SKU, field, before,
after) and every row's problems. A real run checks the same way and then applies every row in one
transaction — one bad row and nothing changes, the rows at fault named (with the row number the
spreadsheet shows: the header is row 1).

Cost is the opening average cost (what `stock_valuation` values stock at, operations/purchasing/
valuation.py). It is set only while no goods were received for the variant: until then the cost is
a guess (Shopify's unit cost, an earlier sheet) a shop may correct; after a goods-received note the
average weighs real purchases (operations/purchasing/receiving.py), and a sheet rewriting it would
falsify the value of stock already held, so a different cost there is refused (WRONG_STATE) and
the same cost is no change. Clear the cell to leave it.
"""

import base64
import binascii
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import orjson

from models.catalog import Product, Variant
from models.staff import AuditEntry
from operations.directory.catalog import money_problem, tax_rate_problem
from operations.directory.catalog_edits import audit_detail, lock_variants
from operations.directory.catalog_outbox import queue_catalog_edit
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    fetch,
    record_audit,
    require,
    run_once,
    transaction,
)

# The file is held in memory and every row is applied in one transaction (row locks included): a
# shop's catalog of a few thousand SKUs fits well inside both limits; a bigger one goes in parts.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Row errors listed in one answer; the count says how many there were in all.
MAX_ROW_ERRORS = 200

COLUMNS = {
    "sku": "sku",
    "taxrate": "tax_rate",
    "pctcode": "pct_code",
    "price": "price",
    "compareatprice": "compare_at_price",
    "cost": "cost",
}
COST_PLACES = Decimal("0.0001")


class FileFormat(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"


@dataclass(frozen=True)
class Change:
    row: int
    sku: str
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str
    code: ErrorCode


@dataclass
class ImportOutcome:
    applied: bool
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


class ImportRefused(OperationError):
    """Rows at fault: nothing was changed. `outcome` holds the row errors (and what would change)."""

    def __init__(self, outcome: ImportOutcome):
        first = outcome.row_errors[0]
        message = f"{outcome.error_count} row(s) have problems (first: row {first.row}): nothing was changed"
        super().__init__(OperationError.single(first.code, message, "file").problems)
        self.outcome = outcome


def _column(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().lower())


def _cell(value, number_format: str | None = None) -> str:
    """A spreadsheet cell as the text a shop meant: 1200.5 → "1200.5", a percent-formatted 0.18 → "18"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = Decimal(str(value))
        if number_format and "%" in number_format:
            number *= 100
        return format(number.normalize(), "f") if number == number.to_integral() else str(number)
    return str(value).strip()


def read_rows(data: bytes, file_format: FileFormat) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows (with the row number a spreadsheet shows), pure. Blank rows are skipped.
    An unreadable file raises MALFORMED_FILE."""
    if len(data) > MAX_FILE_BYTES:
        raise OperationError.single(ErrorCode.TOO_MANY, f"the file is larger than {MAX_FILE_BYTES} bytes", "file")
    rows: list[tuple[int, list[str]]] = []
    if file_format == FileFormat.CSV:
        try:
            text = data.decode("utf-8-sig")  # Excel's CSV starts with a byte-order mark
        except UnicodeDecodeError:
            raise OperationError.single(ErrorCode.MALFORMED_FILE, "a CSV file must be UTF-8 text", "file") from None
        try:
            for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
                rows.append((number, [c.strip() for c in cells]))
                if len(rows) > MAX_ROWS + 1:
                    break
        except csv.Error as error:
            raise OperationError.single(ErrorCode.MALFORMED_FILE, f"not a readable CSV file: {error}", "file") from None
    else:
        from openpyxl import load_workbook  # only an XLSX import pays for importing it

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises zipfile, KeyError, ValueError... for a file that is not XLSX
            raise OperationError.single(ErrorCode.MALFORMED_FILE, "not a readable XLSX file", "file") from None
        try:
            sheet = book.worksheets[0]
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                rows.append((number, [_cell(c.value, getattr(c, "number_format", None)) for c in cells]))
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise OperationError.single(ErrorCode.INVALID, "the file is empty: the first row names the columns", "file")
    if len(rows) > MAX_ROWS + 1:
        raise OperationError.single(ErrorCode.TOO_MANY, f"at most {MAX_ROWS} rows in one file", "file")
    (_, header), data_rows = rows[0], rows[1:]
    while header and not header[-1]:
        header = header[:-1]
    return header, data_rows


def _columns(header: list[str]) -> list[str]:
    problems = Problems()
    names: list[str] = []
    for i, raw in enumerate(header):
        name = COLUMNS.get(_column(raw))
        if name is None:
            known = ", ".join(sorted(set(COLUMNS.values())))
            problems.add(ErrorCode.INVALID, f"unknown column {raw!r} (column {i + 1}): the columns are {known}", "file")
        elif name in names:
            problems.add(ErrorCode.DUPLICATE, f"column {raw!r} appears twice", "file")
        names.append(name or "")
    if "sku" not in names:
        problems.add(ErrorCode.INVALID, "the first row must name a sku column", "file")
    elif len(set(names) - {"sku", ""}) == 0:
        problems.add(ErrorCode.INVALID, "name at least one column to change besides sku", "file")
    problems.raise_if_any()
    return names


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parsed(row: int, values: dict[str, str], errors: list[RowError]) -> dict:
    """The row's new values (pure): money to 2 places, cost to 4, the tax rate a percentage."""
    out: dict = {}
    for name, text in values.items():
        if name == "sku" or not text:
            continue
        if name == "pct_code":
            if len(text) > 16:
                errors.append(RowError(row, name, "pct_code must be at most 16 characters", ErrorCode.INVALID))
            out[name] = text
            continue
        number = _decimal(text.rstrip("%").strip() if name == "tax_rate" else text)
        if number is None:
            errors.append(RowError(row, name, f"{name} is not a number: {text!r}", ErrorCode.INVALID))
            continue
        if name == "tax_rate":
            problem = tax_rate_problem(number)
        elif name == "cost":
            problem = None
            if number < 0 or number > Decimal("9999999999.9999") or number != number.quantize(COST_PLACES):
                problem = "cost must be between 0 and 9,999,999,999.9999, at most 4 decimals"
        else:
            problem = money_problem(number, name)
        if problem is not None:
            errors.append(RowError(row, name, problem, ErrorCode.INVALID))
            continue
        out[name] = number.quantize(COST_PLACES if name == "cost" else Decimal("0.01"))
    return out


def _shown(value) -> str | None:
    return None if value is None else str(value)


def _differs(before, after) -> bool:
    if isinstance(after, Decimal):
        return before is None or Decimal(str(before)) != after
    return before != after


@dataclass
class _Plan:
    outcome: ImportOutcome
    updates: dict[int, dict] = field(default_factory=dict)  # variant id → column values
    before: dict[int, dict] = field(default_factory=dict)
    products: dict[int, tuple[int, bool]] = field(default_factory=dict)  # variant id → (product id, on Shopify)


async def _plan(conn, header: list[str], data_rows: list[tuple[int, list[str]]]) -> _Plan:
    """Every row checked against the catalog as it is now: what would change, what is wrong."""
    names = _columns(header)
    outcome = ImportOutcome(applied=False, rows=len(data_rows))
    errors: list[RowError] = []
    wanted: list[tuple[int, str, dict]] = []
    seen: dict[str, int] = {}
    for row, cells in data_rows:
        if len(cells) > len(names) and any(cells[len(names) :]):
            errors.append(RowError(row, None, "the row has more cells than the header has columns", ErrorCode.INVALID))
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names) if name}
        sku = values.get("sku", "")
        if not sku:
            errors.append(RowError(row, "sku", "sku is empty", ErrorCode.INVALID))
            continue
        if sku in seen:
            errors.append(RowError(row, "sku", f"sku {sku!r} is also on row {seen[sku]}", ErrorCode.DUPLICATE))
            continue
        seen[sku] = row
        wanted.append((row, sku, _parsed(row, values, errors)))
    skus = [sku for _, sku, _ in wanted]
    variants = {}
    for start in range(0, len(skus), 500):  # bounded IN lists
        variants |= {v.sku: v for v in await Variant.filter(sku__in=skus[start : start + 500])}
    received: set[int] = set()
    costed = [variants[s].id for _, s, new in wanted if "cost" in new and s in variants]
    for start in range(0, len(costed), 500):
        part = costed[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = await fetch(
            conn, f"SELECT DISTINCT variant_id FROM goods_receipt_line WHERE variant_id IN ({marks})", part
        )
        received |= {r["variant_id"] for r in rows}
    product_ids = {v.product_id for v in variants.values()}
    linked = set(
        await Product.filter(id__in=list(product_ids), shopify_product_id__isnull=False).values_list("id", flat=True)
    )
    plan = _Plan(outcome)
    for row, sku, new in wanted:
        variant = variants.get(sku)
        if variant is None:
            errors.append(RowError(row, "sku", f"no variant has sku {sku!r}", ErrorCode.NOT_FOUND))
            continue
        columns = {"cost": "average_cost"}
        changed: dict = {}
        for name, value in new.items():
            column = columns.get(name, name)
            before = getattr(variant, column)
            if not _differs(before, value):
                continue
            if name == "cost" and variant.id in received:
                errors.append(
                    RowError(
                        row,
                        "cost",
                        f"{sku} has goods received: its average cost {before} is kept from them (clear the cell)",
                        ErrorCode.WRONG_STATE,
                    )
                )
                continue
            changed[column] = value
            outcome.changes.append(Change(row, sku, name, _shown(before), _shown(value)))
        if changed:
            plan.updates[variant.id] = changed
            plan.before[variant.id] = {k: getattr(variant, k) for k in changed}
            plan.products[variant.id] = (variant.product_id, variant.product_id in linked)
    errors.sort(key=lambda e: e.row)
    outcome.error_count = len(errors)
    outcome.row_errors = errors[:MAX_ROW_ERRORS]
    return plan


def file_bytes(content: str, file_format: FileFormat) -> bytes:
    """The file as given to the API: CSV as its text, XLSX as base64 (pure)."""
    if file_format == FileFormat.CSV:
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise OperationError.single(ErrorCode.MALFORMED_FILE, "an XLSX file is sent in base64", "file") from None


async def import_catalog_updates(
    actor: Actor, data: bytes, file_format: FileFormat, *, dry_run: bool, idempotency_key: str
) -> tuple[ImportOutcome, bool]:
    """Returns (outcome, replayed). A dry run writes nothing and claims no key (the same key then serves
    the real run). A real run with a row at fault raises `ImportRefused` and changes nothing."""
    require(actor, Permission.MANAGE_CATALOG)
    problems = Problems()
    problems.check_key(idempotency_key)
    problems.raise_if_any()
    header, data_rows = read_rows(data, file_format)

    if dry_run:
        async with transaction() as tx:  # one snapshot to read from
            return (await _plan(tx.conn, header, data_rows)).outcome, False

    async def apply() -> AuditEntry:
        # Lock the rows first (in id order, as every catalog edit does), then read "before" under the locks.
        sku_at = _columns(header).index("sku")
        skus = list({cells[sku_at] for _, cells in data_rows if len(cells) > sku_at and cells[sku_at]})
        to_lock: list[int] = []
        for start in range(0, len(skus), 500):
            to_lock += await Variant.filter(sku__in=skus[start : start + 500]).values_list("id", flat=True)
        await lock_variants(tx, to_lock)
        fresh = await _plan(tx.conn, header, data_rows)
        if fresh.outcome.row_errors:
            raise ImportRefused(fresh.outcome)
        shopify: dict[int, tuple[set[int], set[str]]] = {}
        for variant_id, changed in fresh.updates.items():
            await Variant.filter(id=variant_id).update(**changed)
            await record_audit(
                actor,
                "variant.updated",
                target=("variant", variant_id),
                **audit_detail(fresh.before[variant_id], changed),
                source="catalog import",
            )
            product_id, on_shopify = fresh.products[variant_id]
            if on_shopify:
                ids, fields = shopify.setdefault(product_id, (set(), set()))
                ids.add(variant_id)
                fields |= set(changed)
        for product_id, (ids, fields) in sorted(shopify.items()):
            await queue_catalog_edit(tx, product_id, variant_ids=sorted(ids), variant_fields=fields)
        fresh.outcome.applied = True
        return await record_audit(
            actor,
            "catalog.updates_imported",
            rows=fresh.outcome.rows,
            variants=len(fresh.updates),
            changes=orjson.dumps([c.__dict__ for c in fresh.outcome.changes]).decode(),
        )

    async def replayed_outcome(entry_id: int) -> AuditEntry:
        return await AuditEntry.get(id=entry_id)

    request = {"file_sha256": hashlib.sha256(data).hexdigest(), "format": file_format.value}
    async with transaction() as tx:
        entry, replayed = await run_once(tx, "importCatalogUpdates", idempotency_key, request, apply, replayed_outcome)
    return _outcome_of(entry), replayed


def _outcome_of(entry: AuditEntry) -> ImportOutcome:
    """An applied import as its audit entry keeps it (how a replay answers)."""
    detail = entry.detail or {}
    changes = [Change(**c) for c in orjson.loads(detail.get("changes") or "[]")]
    return ImportOutcome(applied=True, rows=int(detail.get("rows") or 0), changes=changes)
