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


class Loaders:
    def __init__(self, *, cache: bool = True) -> None:
        def loader(load: Callable) -> DataLoader:
            return DataLoader(load, cache=cache)

        # by id: to-one relations and node(id:)
        self.branch = loader(_by_id(Branch))
        self.counter = loader(_by_id(Counter))
        self.product = loader(_by_id(Product))
        self.variant = loader(_by_id(Variant))
        self.stock_level = loader(_by_id(StockLevel))
        self.stock_movement = loader(_by_id(StockMovement))
        self.stock_posting = loader(_by_id(StockPosting))
        self.stock_count = loader(_by_id(StockCount))
        self.staff = loader(_by_id(Staff))
        self.register = loader(_by_id(Register))
        self.shift = loader(_by_id(Shift))
        self.cash_movement = loader(_by_id(CashMovement))
        self.sale = loader(_by_id(Sale))
        self.customer = loader(_by_id(Customer))
        self.sale_return = loader(_by_id(SaleReturn))
        self.order = loader(_by_id(Order))
        self.order_line = loader(_by_id(OrderLine))
        self.fulfillment = loader(_by_id(Fulfillment))
        self.order_exchange = loader(_by_id(OrderExchange))
        self.transfer = loader(_by_id(Transfer))
        self.transfer_line = loader(_by_id(TransferLine))
        self.transfer_discrepancy = loader(_by_id(TransferDiscrepancy))
        self.supplier = loader(_by_id(Supplier))
        self.purchase_order = loader(_by_id(PurchaseOrder))
        self.purchase_order_line = loader(_by_id(PurchaseOrderLine))
        self.goods_receipt = loader(_by_id(GoodsReceipt))
        self.audit_entry = loader(_by_id(AuditEntry))
        self.import_job = loader(_by_id(ImportJob))
        self.branch_of_shopify_location = loader(_branch_of_shopify_location)
        # to-many relations, each in the order its field shows
        self.counters_of_branch = loader(_children(Counter, "branch_id", "id"))
        self.variants_of_product = loader(_children(Variant, "product_id", "id"))
        self.stock_of_variant = loader(_children(StockLevel, "variant_id", "branch_id"))
        self.branches_of_staff = loader(_branches_of_staff)
        self.movements_of_posting = loader(_children(StockMovement, "posting_id", "id"))
        self.lines_of_sale = loader(_children(SaleLine, "sale_id", "line_no"))
        self.tenders_of_sale = loader(_children(Tender, "sale_id", "id"))
        self.lines_of_return = loader(_children(ReturnLine, "sale_return_id", "id", related=("sale_line",)))
        self.tenders_of_return = loader(_children(Tender, "sale_return_id", "id"))
        self.lines_of_order = loader(_children(OrderLine, "order_id", "id"))
        self.history_of_order = loader(_children(OrderHistory, "order_id", "id"))
        self.fulfillments_of_order = loader(_fulfillments_of_order)
        self.lines_of_fulfillment = loader(_children(FulfillmentLine, "fulfillment_id", "id"))
        self.exchanges_of_order = loader(_children(OrderExchange, "order_id", "id"))
        self.lines_of_transfer = loader(_children(TransferLine, "transfer_id", "id"))
        self.discrepancies_of_transfer = loader(_children(TransferDiscrepancy, "transfer_id", "id"))
        self.lines_of_purchase_order = loader(_children(PurchaseOrderLine, "purchase_order_id", "line_no"))
        self.receipts_of_purchase_order = loader(_children(GoodsReceipt, "purchase_order_id", "id"))
        self.lines_of_goods_receipt = loader(_children(GoodsReceiptLine, "goods_receipt_id", "id"))
        # what operations/ works out
        self.lines_of_count = loader(_lines_of_count)
        self.totals_of_count = loader(_totals_of_count)
        self.sales_of_customer = loader(_of_customers(sales_of_customers))
        self.orders_of_customer = loader(_of_customers(orders_of_customers))
        self.loyalty_balance = loader(_loyalty_balances)
