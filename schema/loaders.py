"""The request's DataLoaders: how the schema's types read rows. They call the ORM nowhere else (what
operations/ works out, such as a count's figures or a receipt, they ask operations/ for).

A type's field asks its loader for the rows it shows (`info.context.loaders`), so a page of 100
rows costs one query per relation, not one per row (tests/api/test_query_counts.py counts them);
`node(id:)` reads through the same loaders. Each loader answers in the order its field shows.

An HTTP request gets its own `Loaders` with its context, and they go with it. A WebSocket keeps one
context for the socket's life (server/graphql_view.py `get_context`): its loaders are made with
`cache=False`, so they still batch what one operation reads in the same tick, but keep no row for a
later operation or subscription event to be shown stale.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from strawberry.dataloader import DataLoader

from models.branches import Branch, Counter
from models.catalog import Product, Variant
from models.counts import StockCount
from models.customers import Customer
from models.fiscal import FiscalDocument
from models.orders import Fulfillment, FulfillmentLine, Order, OrderExchange, OrderHistory, OrderLine
from models.purchasing import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, PurchaseOrderLine, Supplier
from models.registers import CashMovement, Register, Shift
from models.sales import ReturnLine, Sale, SaleLine, SaleReturn, Tender
from models.shopify import ImportJob
from models.staff import AuditEntry, Staff, StaffBranch
from models.stock import StockLevel, StockMovement, StockPosting
from models.transfers import Transfer, TransferDiscrepancy, TransferLine
from operations.counts import CountTotals, LineFigures, count_figures, totals_of
from operations.directory import loyalty_balances, orders_of_customers, sales_of_customers


def _by_id(model: Any) -> Callable:
    """The row for each key, None where there is none."""

    async def load(keys: list[int]) -> list:
        rows = {row.id: row for row in await model.filter(id__in=keys)}
        return [rows.get(k) for k in keys]

    return load


def _children(model: Any, parent: str, *order: str, related: tuple[str, ...] = ()) -> Callable:
    """Each key's rows (`parent` = key), in `order`; `related` rows come in one more query."""

    async def load(keys: list[int]) -> list[list]:
        grouped = defaultdict(list)
        queryset = model.filter(**{f"{parent}__in": keys}).order_by(*order)
        for row in await (queryset.prefetch_related(*related) if related else queryset):
            grouped[getattr(row, parent)].append(row)
        return [grouped[k] for k in keys]

    return load


async def _branches_of_staff(keys: list[int]) -> list[list[Branch]]:
    links = await _children(StaffBranch, "staff_id", "branch_id", related=("branch",))(keys)
    return [[link.branch for link in of_one] for of_one in links]


async def _branch_of_shopify_location(keys: list[str]) -> list[Branch | None]:
    """The branch each Shopify location (by its GID) is mapped to, None where none is."""
    rows = {b.shopify_location_id: b for b in await Branch.filter(shopify_location_id__in=keys)}
    return [rows.get(k) for k in keys]


async def _fulfillments_of_order(keys: list[int]) -> list[list[tuple[Fulfillment, list[FulfillmentLine]]]]:
    """Each order's fulfillments with their lines: two queries, whatever the page. Keys come once each
    (a loader without a cache may be asked for one order twice)."""
    orders = list(dict.fromkeys(keys))
    rows = [f for of_one in await _children(Fulfillment, "order_id", "id")(orders) for f in of_one]
    lines = await _children(FulfillmentLine, "fulfillment_id", "id")([f.id for f in rows])
    grouped = defaultdict(list)
    for fulfillment, its_lines in zip(rows, lines, strict=True):
        grouped[fulfillment.order_id].append((fulfillment, its_lines))
    return [grouped[k] for k in keys]


async def _lines_of_count(keys: list[tuple[int, int, int | None]]) -> list[list[LineFigures]]:
    """Each (count id, how many, after which line id) key's page of lines, every figure in it (the type
    hides what a blind count hides): one query per page shape asked for, a page of counts asks one."""
    pages = defaultdict(list)
    for count_id, first, after in keys:
        pages[(first, after)].append(count_id)
    found = {}
    for (first, after), count_ids in pages.items():
        for count_id, lines in (
            await count_figures(list(dict.fromkeys(count_ids)), first=first, after_line_id=after)
        ).items():
            found[(count_id, first, after)] = lines
    return [found[k] for k in keys]


def _of_customers(read: Callable) -> Callable:
    """Each (customer id, how many, before which id, at which branches) key's documents, newest first: one
    read per page shape asked for (a page of customers asks once)."""

    async def load(keys: list[tuple[int, int, int | None, tuple[int, ...] | None]]) -> list[list]:
        pages = defaultdict(list)
        for customer_id, limit, before, branches in keys:
            pages[(limit, before, branches)].append(customer_id)
        found = {}
        for (limit, before, branches), customer_ids in pages.items():
            shown = None if branches is None else frozenset(branches)
            rows = await read(list(dict.fromkeys(customer_ids)), limit=limit, before_id=before, branch_ids=shown)
            for customer_id in customer_ids:
                found[(customer_id, limit, before, branches)] = rows.get(customer_id, [])
        return [found[k] for k in keys]

    return load


async def _totals_of_count(keys: list[int]) -> list[CountTotals]:
    found = await totals_of(list(dict.fromkeys(keys)))
    return [found[k] for k in keys]


async def _loyalty_balances(keys: list[int]) -> list[int]:
    found = await loyalty_balances(list(dict.fromkeys(keys)))
    return [found[k] for k in keys]


# Each loader's batch function, by the name a field reads it under (`info.context.loaders.<name>`).
_LOADS: dict[str, Callable] = {
    # by id: to-one relations and node(id:)
    "branch": _by_id(Branch),
    "counter": _by_id(Counter),
    "product": _by_id(Product),
    "variant": _by_id(Variant),
    "stock_level": _by_id(StockLevel),
    "stock_movement": _by_id(StockMovement),
    "stock_posting": _by_id(StockPosting),
    "stock_count": _by_id(StockCount),
    "staff": _by_id(Staff),
    "register": _by_id(Register),
    "shift": _by_id(Shift),
    "cash_movement": _by_id(CashMovement),
    "sale": _by_id(Sale),
    "customer": _by_id(Customer),
    "sale_return": _by_id(SaleReturn),
    "order": _by_id(Order),
    "order_line": _by_id(OrderLine),
    "fulfillment": _by_id(Fulfillment),
    "order_exchange": _by_id(OrderExchange),
    "transfer": _by_id(Transfer),
    "transfer_line": _by_id(TransferLine),
    "transfer_discrepancy": _by_id(TransferDiscrepancy),
    "supplier": _by_id(Supplier),
    "purchase_order": _by_id(PurchaseOrder),
    "purchase_order_line": _by_id(PurchaseOrderLine),
    "goods_receipt": _by_id(GoodsReceipt),
    "audit_entry": _by_id(AuditEntry),
    "import_job": _by_id(ImportJob),
    "branch_of_shopify_location": _branch_of_shopify_location,
    # to-many relations, each in the order its field shows
    "counters_of_branch": _children(Counter, "branch_id", "id"),
    "variants_of_product": _children(Variant, "product_id", "id"),
    "stock_of_variant": _children(StockLevel, "variant_id", "branch_id"),
    "branches_of_staff": _branches_of_staff,
    "movements_of_posting": _children(StockMovement, "posting_id", "id"),
    "lines_of_sale": _children(SaleLine, "sale_id", "line_no"),
    "tenders_of_sale": _children(Tender, "sale_id", "id"),
    "fiscal_of_sale": _children(FiscalDocument, "sale_id", "id"),
    "lines_of_return": _children(ReturnLine, "sale_return_id", "id", related=("sale_line",)),
    "tenders_of_return": _children(Tender, "sale_return_id", "id"),
    "lines_of_order": _children(OrderLine, "order_id", "id"),
    "history_of_order": _children(OrderHistory, "order_id", "id"),
    "fulfillments_of_order": _fulfillments_of_order,
    "lines_of_fulfillment": _children(FulfillmentLine, "fulfillment_id", "id"),
    "exchanges_of_order": _children(OrderExchange, "order_id", "id"),
    "lines_of_transfer": _children(TransferLine, "transfer_id", "id"),
    "discrepancies_of_transfer": _children(TransferDiscrepancy, "transfer_id", "id"),
    "lines_of_purchase_order": _children(PurchaseOrderLine, "purchase_order_id", "line_no"),
    "receipts_of_purchase_order": _children(GoodsReceipt, "purchase_order_id", "id"),
    "lines_of_goods_receipt": _children(GoodsReceiptLine, "goods_receipt_id", "id"),
    # what operations/ works out
    "lines_of_count": _lines_of_count,
    "totals_of_count": _totals_of_count,
    "sales_of_customer": _of_customers(sales_of_customers),
    "orders_of_customer": _of_customers(orders_of_customers),
    "loyalty_balance": _loyalty_balances,
}


class Loaders:
    """A request's loaders, each made the first time a field asks for it: a request reads through a few of
    them, and building all of them for every request (a checkout reads none) cost about a tenth of the
    server's time per sale (bench/checkout.py under py-spy)."""

    def __init__(self, *, cache: bool = True) -> None:
        self._cache = cache

    def __getattr__(self, name: str) -> DataLoader:
        # Only reached when the attribute is not set yet: set it, so the next read is a plain attribute.
        try:
            load = _LOADS[name]
        except KeyError:
            raise AttributeError(name) from None
        made = DataLoader(load, cache=self._cache)
        setattr(self, name, made)
        return made
