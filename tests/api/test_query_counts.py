"""A page costs the same number of SQL queries for 10 rows as for 100: every relation a listed row
shows is read through the request's loaders (schema/loaders.py), one query per relation per request,
never one per row.

Queries are counted on the Tortoise connection classes of the current dialect (SQLite, or asyncpg
with BRANCHLINE_TEST_DATABASE_URL), their transaction wrappers included, while the request runs
through the in-process API (tests/api/conftest.py). Signing the caller in is part of the count.
"""

import contextvars
import functools
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from models.branches import Branch
from models.catalog import Variant
from models.counts import CountKind
from models.orders import ExchangeKind, ExchangeStatus, Order, OrderExchange, OrderLine
from models.sales import TenderType
from models.staff import Role
from operations.counter import checkouts as sales
from operations.counter.registers import open_register
from operations.counts import counting, review
from operations.directory.branches import NewCounter, OnlineSettings, create_counter, set_online_settings
from operations.directory.catalog import VariantRef
from operations.directory.customers import NewCustomer, create_customer
from operations.directory.staff import authenticate
from operations.kernel import audit
from operations.kernel.access import SYSTEM
from operations.orders import fulfillment
from operations.orders.intake import take_in
from operations.orders.payloads import IncomingLine, IncomingOrder, Placement
from operations.purchasing import orders as purchasing
from operations.purchasing import receiving, suppliers
from operations.stock.adjustments import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from schema.context import Context
from schema.ids import global_id
from tests.factories import key, make_branch, make_variants, stock
from tests.operations.conftest import staff_actor

ROWS = 100
# Signing in, the page, and one query per relation shown: whatever the page size.
MOST = 12
EXECUTE = ("execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script")


def _client_classes(connection: BaseDBAsyncClient) -> set[type]:
    """The connection's class and the transaction wrapper defined beside it (tortoise/backends/<dialect>/
    client.py), with their bases."""
    module = sys.modules[type(connection).__module__]
    clients = {c for c in vars(module).values() if isinstance(c, type) and issubclass(c, BaseDBAsyncClient)}
    return {base for cls in {type(connection), *clients} for base in cls.__mro__}


class QueryCount:
    """Counts the statements sent while it is entered. Each method is wrapped where it is defined,
    on the connection's class, its transaction wrapper's and their bases, so an inherited call is
    counted once; `_inside` keeps a wrapped method calling another (or its base) from counting twice."""

    _inside = contextvars.ContextVar("inside", default=False)

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._undo: list[tuple[type, str, object]] = []

    def __enter__(self) -> "QueryCount":
        for cls in _client_classes(Tortoise.get_connection("default")):
            for name in EXECUTE:
                if name in vars(cls):
                    self._undo.append((cls, name, vars(cls)[name]))
                    setattr(cls, name, self._counted(vars(cls)[name]))
        return self

    def __exit__(self, *exc) -> None:
        for cls, name, method in reversed(self._undo):
            setattr(cls, name, method)

    def _counted(self, method):
        @functools.wraps(method)
        async def counted(client, query, *args, **kwargs):
            if self._inside.get():
                return await method(client, query, *args, **kwargs)
            self.statements.append(query)
            token = self._inside.set(True)
            try:
                return await method(client, query, *args, **kwargs)
            finally:
                self._inside.reset(token)

        return counted

    def __len__(self) -> int:
        return len(self.statements)


async def _page_costs(api, query: str, variables: dict, connection: str) -> tuple[dict[int, QueryCount], list[dict]]:
    """What a page of 10 and a page of 100 cost, and the nodes of the second."""
    costs = {}
    for first in (10, ROWS):
        with QueryCount() as costs[first]:
            data = await api(query, {**variables, "first": first})
        nodes = [edge["node"] for edge in data[connection]["edges"]]
        assert len(nodes) == first
    return costs, nodes


def _assert_flat(costs: dict[int, QueryCount], what: str, most: int = MOST) -> None:
    small, large = len(costs[10]), len(costs[ROWS])
    repeated = Counter(q[:100] for q in costs[ROWS].statements).most_common(2)
    assert small >= 3, f"{what}: {small} queries: are they counted at all?"  # signing in, the page
    assert small == large, f"{what}: {small} queries for 10 rows, {large} for {ROWS}; the most sent: {repeated}"
    assert large <= most, f"{what}: {large} queries for a page"


SALES = """query($b: ID!, $first: Int!) { sales(branchId: $b, first: $first) { edges { node {
  id number status total { amount } cashier { name } salesperson { name } register { status } shift { endedAt }
  branch { code } counter { code branch { code } }
  lines { lineNo sku quantity variant { sku product { title } } }
  tenders { type amount { amount } reference } } } } }"""


RECEIPTS = """query($b: ID!, $first: Int!) { sales(branchId: $b, first: $first) { edges { node {
  number receiptText(widthMm: 58) } } } }"""


async def test_a_page_of_sales_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("LHR")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    kurta, shawl = await make_variants(2, prefix="K")
    for variant in (kurta, shawl):
        await stock(branch.id, variant.id, 3 * ROWS)
    cashier = await staff_actor(Role.CASHIER, [branch.id], pin="1357", email="cashier@counts.pk")
    await open_register(cashier, counter.id, Decimal("5000.00"), "open")
    for i in range(ROWS):
        await sales.checkout(
            cashier,
            sales.Checkout(
                counter_id=counter.id,
                lines=[sales.CheckoutLine(VariantRef(id=kurta.id), 1), sales.CheckoutLine(VariantRef(id=shawl.id), 2)],
                payments=[
                    sales.Payment(TenderType.CARD, Decimal("1000.00"), "4242"),
                    sales.Payment(TenderType.CASH, Decimal("2000.00")),
                ],
                idempotency_key=f"sale-{i}",
                salesperson_id=cashier.staff_id if i % 2 else None,
            ),
        )
    costs, nodes = await _page_costs(api, SALES, {"b": str(global_id("Branch", branch.id))}, "sales")
    assert {(len(n["lines"]), len(n["tenders"]), n["counter"]["branch"]["code"]) for n in nodes} == {(2, 2, "LHR")}
    assert sum(n["salesperson"] is not None for n in nodes) == ROWS // 2
    _assert_flat(costs, "sales")

    # Each sale's receipt, rendered from the same loaders (every other sale has a salesperson).
    costs, nodes = await _page_costs(api, RECEIPTS, {"b": str(global_id("Branch", branch.id))}, "sales")
    receipts = [n["receiptText"] for n in nodes]
    for node, receipt in zip(nodes, receipts, strict=True):
        assert node["number"] in receipt and "Card" in receipt and "4242" in receipt, receipt
    assert sum("Salesperson" in r for r in receipts) == ROWS // 2
    _assert_flat(costs, "sales with receipts")


# Two paths to one loader ask it for the same rows here (the order's branch and its fulfillments' and
# exchanges' branch; the lines' variants and the exchanges' variants; the fulfillments' and the exchanges'
# order lines, orders and staff), so whichever asks first, the other finds them cached: one query each.
ORDERS = """query($first: Int!) { orders(first: $first) { edges { node {
  id name status total { amount currency } branch { code }
  lines { sku quantity reserved fulfilled unitPrice { amount } variant { sku product { title } } }
  history { kind actor { name } }
  fulfillments { units order { name } branch { code } actor { name } lines { orderLine { sku } quantity } }
  exchanges { id priceDifference { amount currency } order { name } branch { code } actor { name }
    lines { quantity condition orderLine { sku } newOrderLine { sku } fromVariant { sku } toVariant { sku } } }
} } } }"""
# Signing in, the page, and one query per relation it shows: order lines, history, fulfillments and their
# lines, exchanges, branches, variants, products, orders, order lines by id, staff.
MOST_FOR_ORDERS = 15


async def _online_order(n: int, location: str, variants) -> None:
    now = datetime.now(UTC) - timedelta(minutes=ROWS - n)
    lines = [
        IncomingLine(f"gid://shopify/LineItem/{n}{i}", v.shopify_variant_id, v.sku, v.title, 2, v.price)
        for i, v in enumerate(variants)
    ]
    await take_in(
        IncomingOrder(
            shopify_order_id=f"gid://shopify/Order/{n}",
            name=f"#{1000 + n}",
            updated_at=now,
            created_at=now,
            cancelled_at=None,
            financial_status="paid",
            gateways=["shopify_payments"],
            currency="PKR",
            total=Decimal("4000.00"),
            customer_name="Ayesha Khan",
            customer_phone=None,
            customer_email=None,
            shipping_address={},
            lines=lines,
        ),
        Placement(location, tracked={line.shopify_line_item_id: True for line in lines}),
    )


async def test_a_page_of_online_orders_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("KHI")
    location = "gid://shopify/Location/1"  # as if mapped and imported from Shopify
    await Branch.filter(id=branch.id).update(shopify_location_id=location)
    await set_online_settings(SYSTEM, branch.id, OnlineSettings(fulfillment_workflow="manual"), key("online"))
    variants = await make_variants(2, prefix="L")
    for i, variant in enumerate(variants):
        variant.shopify_variant_id = f"gid://shopify/ProductVariant/{i + 1}"
        await Variant.filter(id=variant.id).update(shopify_variant_id=variant.shopify_variant_id)
        await stock(branch.id, variant.id, 3 * ROWS)
    for n in range(1, ROWS + 1):
        await _online_order(n, location, variants)
    clerk = await staff_actor(Role.CASHIER, [branch.id], email="clerk@counts.pk")
    for order in await Order.all().order_by("id"):  # one unit of each order shipped by the clerk, and exchanged
        line = await OrderLine.filter(order_id=order.id).order_by("id").first()
        await fulfillment.record_manual_fulfillment(
            clerk, fulfillment.Shipment(order.id, key("ship"), [fulfillment.ShipLine(line.id, 1)])
        )
        # An exchange document as the exchange operations write it (what it costs to show is measured here).
        await OrderExchange.create(
            order_id=order.id,
            branch_id=branch.id,
            kind=ExchangeKind.AFTER_DELIVERY,
            status=ExchangeStatus.DONE,
            lines=[
                {
                    "orderLineId": line.id,
                    "quantity": 1,
                    "fromVariantId": variants[0].id,
                    "toVariantId": variants[1].id,
                    "condition": "restock",
                }
            ],
            price_difference=variants[1].price - line.unit_price,
            idempotency_key=key("exchange"),
            created_by=clerk.label,
        )
    costs, nodes = await _page_costs(api, ORDERS, {}, "orders")
    assert {(len(n["lines"]), len(n["fulfillments"]), n["lines"][0]["variant"]["sku"]) for n in nodes} == {
        (2, 1, "L-0")
    }
    assert {
        (
            n["fulfillments"][0]["order"]["name"] == n["name"],
            n["fulfillments"][0]["branch"]["code"],
            n["fulfillments"][0]["actor"]["name"],
            n["fulfillments"][0]["lines"][0]["orderLine"]["sku"],
            n["exchanges"][0]["order"]["name"] == n["name"],
            n["exchanges"][0]["actor"]["name"],
            n["exchanges"][0]["lines"][0]["toVariant"]["sku"],
            n["history"][-1]["kind"],
            n["history"][-1]["actor"]["name"],
        )
        for n in nodes
    } == {(True, "KHI", "cashier person", "L-0", True, "cashier person", "L-1", "FULFILLED", "cashier person")}
    _assert_flat(costs, "orders", MOST_FOR_ORDERS)


# Not `discrepancies { line { variant } }` as well: two paths to one loader cost one query or two on
# PostgreSQL, as its pooled connections answer (whichever path asks first finds nothing cached yet),
# for 10 rows as for 100; this test wants a count that does not depend on timing.
TRANSFERS = """query($first: Int!) { transfers(first: $first) { edges { node {
  id number status sourceBranch { code } destinationBranch { code }
  lines { quantityRequested outstanding variant { sku product { title } } }
  discrepancies { kind quantity line { quantityDamaged } transfer { number } } } } } }"""


async def test_a_page_of_transfers_costs_the_same_for_10_and_100_rows(api, db):
    source, destination = await make_branch("ISB"), await make_branch("PEW")
    kurta, shawl = await make_variants(2, prefix="T")
    for variant in (kurta, shawl):
        await stock(source.id, variant.id, 3 * ROWS)
    for _ in range(ROWS):  # each dispatched and received with one shawl damaged: a discrepancy
        transfer, _ = await transfers.create_transfer(
            SYSTEM,
            transfers.NewTransfer(
                source_branch_id=source.id,
                destination_branch_id=destination.id,
                lines=[
                    transfers.RequestLine(VariantRef(id=kurta.id), 1),
                    transfers.RequestLine(VariantRef(id=shawl.id), 2),
                ],
                idempotency_key=key("transfer"),
                submit=True,
            ),
        )
        await transfers.approve_transfer(SYSTEM, transfer.id, key("approve"))
        await moves.dispatch_transfer(SYSTEM, transfer.id, key("dispatch"))
        received = [
            moves.ReceiveLine(moves.LineRef(variant_id=kurta.id), received=1),
            moves.ReceiveLine(moves.LineRef(variant_id=shawl.id), received=1, damaged=1, reason="box torn"),
        ]
        await moves.receive_transfer(SYSTEM, moves.Receipt(transfer.id, received, key("receive")))
    costs, nodes = await _page_costs(api, TRANSFERS, {}, "transfers")
    assert {
        (len(n["lines"]), len(n["discrepancies"]), n["discrepancies"][0]["line"]["quantityDamaged"]) for n in nodes
    } == {(2, 1, 1)}
    _assert_flat(costs, "transfers")


AUDIT = """query($first: Int!) { auditLog(first: $first) { edges { node {
  id at action targetType targetId detail actor { name } branch { code } approvedBy { name } } } } }"""


async def test_a_page_of_audit_entries_costs_the_same_for_10_and_100_rows(api, db):
    branches = [await make_branch("GRW"), await make_branch("SKT")]
    manager = await staff_actor(Role.BRANCH_MANAGER, [b.id for b in branches], pin="582913", email="m@counts.pk")
    cashiers = [
        await staff_actor(Role.CASHIER, [b.id], pin=pin, email=f"c{i}@counts.pk")
        for i, (b, pin) in enumerate(zip(branches, ("4826", "7391"), strict=True))
    ]
    for i in range(ROWS):  # every third by the system, at no branch; the others by a cashier, approved
        if i % 3 == 0:
            await audit.record(SYSTEM, "test.system", target=("shop", "zari.myshopify.com"))
            continue
        cashier, branch = cashiers[i % 2], branches[i % 2]
        target = ("sale", i) if i % 2 else ("staff", cashier.staff_id)
        await audit.record(cashier, "test.override", branch_id=branch.id, target=target, approved_by=manager.staff_id)
    costs, nodes = await _page_costs(api, AUDIT, {}, "auditLog")
    by_action = {n["action"] for n in nodes}
    assert by_action == {"test.system", "test.override"}
    assert {n["actor"]["name"] for n in nodes if n["action"] == "test.override"} == {"cashier person"}
    assert {n["approvedBy"]["name"] for n in nodes if n["approvedBy"]} == {"branch_manager person"}
    assert {n["branch"]["code"] for n in nodes if n["branch"]} == {"GRW", "SKT"}
    _assert_flat(costs, "audit entries")


async def test_loaders_keep_rows_for_a_request_but_not_for_a_websocket(db):
    """A WebSocket's context lives as long as the socket: a later operation must not see old rows."""
    branch = await make_branch("MUX")
    request = Context.of(SimpleNamespace(scope={"type": "http"}), None)
    socket = Context.of(SimpleNamespace(scope={"type": "websocket"}), None)
    for context in (request, socket):
        assert (await context.loaders.branch.load(branch.id)).name == "Branch MUX"
    await Branch.filter(id=branch.id).update(name="Multan Cantt")
    assert (await request.loaders.branch.load(branch.id)).name == "Branch MUX"
    assert (await socket.loaders.branch.load(branch.id)).name == "Multan Cantt"


# Not `adjustment { variant }` as well: two paths to one loader (see TRANSFERS).
COUNTS = """query($b: ID!, $first: Int!) { stockCounts(branchId: $b, first: $first) { edges { node {
  id status kind branch { code } openedBy { name }
  lines(first: 10) { edges { node { sku counted expectedAtStart movementsSinceStart variance
    variant { sku product { title } } } } }
  totals { lines counted varianceUnits }
  adjustment { delta reason } } } } }"""


async def test_a_page_of_stock_counts_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("MUL")
    kurta, shawl = await make_variants(2, prefix="C")
    for variant in (kurta, shawl):
        await stock(branch.id, variant.id, 3 * ROWS)
    manager = await staff_actor(Role.BRANCH_MANAGER, [branch.id], email="counter@counts.pk")
    for i in range(ROWS):  # each counts one of its two lines; every other one is approved, its variance posted
        count, _ = await counting.open_stock_count(
            manager, counting.NewCount(branch.id, CountKind.FULL, key("open"), blind=i % 3 == 0)
        )
        line = counting.CountedLine(kurta.id, 100 + i, counting.CountMode.SET)
        await counting.record_counted(manager, count.id, [line], key("record"))
        if i % 2 == 0:
            await review.submit_stock_count(manager, count.id)
            await review.approve_stock_count(manager, count.id)
    costs, nodes = await _page_costs(api, COUNTS, {"b": str(global_id("Branch", branch.id))}, "stockCounts")
    assert {
        (len(n["lines"]["edges"]), n["totals"]["lines"], n["totals"]["counted"], n["openedBy"]["name"]) for n in nodes
    } == {(2, 2, 1, "branch_manager person")}
    approved = [n for n in nodes if n["status"] == "APPROVED"]
    assert len(approved) == ROWS // 2 and all(len(n["adjustment"]) == 1 for n in approved)
    assert nodes[2]["totals"]["varianceUnits"] == 2  # 102 counted after the first approval left 100
    _assert_flat(costs, "stock counts")


PURCHASE_ORDERS = """query($first: Int!) { purchaseOrders(first: $first) { edges { node {
  id number status total { amount } outstanding branch { code } createdBy { name }
  lines { lineNo outstanding variant { sku } }
  receipts { number lines { quantity purchaseOrderLine { lineNo quantityReceived } } } } } } }"""


async def test_a_page_of_purchase_orders_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("SKT")
    kurta, shawl = await make_variants(2, prefix="P")
    buyer = await staff_actor(Role.BRANCH_MANAGER, [branch.id], email="buyer@counts.pk")
    supplier, _ = await suppliers.create_supplier(buyer, suppliers.NewSupplier("Gul Ahmed", idempotency_key="s"))
    for _ in range(ROWS):  # each ordered, and its first line received in part
        order, _ = await purchasing.create_purchase_order(
            buyer,
            purchasing.NewPurchaseOrder(
                supplier_id=supplier.id,
                branch_id=branch.id,
                lines=[
                    purchasing.OrderLine(VariantRef(id=kurta.id), 4, Decimal("1000")),
                    purchasing.OrderLine(VariantRef(id=shawl.id), 2, Decimal("2500")),
                ],
                idempotency_key=key("po"),
                place=True,
            ),
        )
        received = [receiving.ReceiptLine(quantity=3, variant=VariantRef(id=kurta.id))]
        await receiving.receive_goods(buyer, receiving.GoodsIn(order.id, received, key("grn")))
    costs, nodes = await _page_costs(api, PURCHASE_ORDERS, {}, "purchaseOrders")
    assert {
        (
            len(n["lines"]),
            n["outstanding"],
            n["createdBy"]["name"],
            n["receipts"][0]["lines"][0]["purchaseOrderLine"]["quantityReceived"],
        )
        for n in nodes
    } == {(2, 3, "branch_manager person", 3)}
    _assert_flat(costs, "purchase orders")


CUSTOMERS = """query($first: Int!) { customers(first: $first) { edges { node {
  id phone sales(first: 2) { edges { node { number customer { phone } branch { code } } } pageInfo { hasNextPage } }
} } } }"""


async def test_a_page_of_customers_with_their_sales_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("LHR")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [kurta] = await make_variants(1, prefix="K")
    await stock(branch.id, kurta.id, 3 * ROWS)
    cashier = await staff_actor(Role.CASHIER, [branch.id], pin="1357", email="cashier@customers.pk")
    await open_register(cashier, counter.id, Decimal("5000.00"), "open")
    for i in range(ROWS):
        customer, _ = await create_customer(cashier, NewCustomer(f"Customer{i}", phone=f"0300{i:07d}"), f"c-{i}")
        for n in range(1 + i % 3):  # one, two or three sales each: a page of two says whether there are more
            await sales.checkout(
                cashier,
                sales.Checkout(
                    counter_id=counter.id,
                    lines=[sales.CheckoutLine(VariantRef(id=kurta.id), 1)],
                    payments=[sales.Payment(TenderType.CASH, Decimal("1000.00"))],
                    idempotency_key=f"sale-{i}-{n}",
                    customer_id=customer.id,
                ),
            )
    costs, nodes = await _page_costs(api, CUSTOMERS, {}, "customers")
    assert [len(n["sales"]["edges"]) for n in nodes[:3]] == [1, 2, 2]
    assert [n["sales"]["pageInfo"]["hasNextPage"] for n in nodes[:3]] == [False, False, True]
    assert all(e["node"]["customer"]["phone"] == n["phone"] for n in nodes for e in n["sales"]["edges"])
    _assert_flat(costs, "customers")


VARIANT_STOCK = """query($first: Int!) { variants(first: $first) { edges { node {
  sku stock { onHand reserved available inTransit damaged branch { code } } } } } }"""


async def test_a_page_of_variants_with_their_stock_costs_the_same_for_10_and_100_rows(anonymous, db):
    """Which branch has it: each variant's levels at every branch the caller sees, one query for the page."""
    branches = [await make_branch(code) for code in ("QTA", "HYD", "FSD")]
    variants = await make_variants(ROWS, prefix="S")
    for i, variant in enumerate(variants):  # at two or three branches each
        for branch in branches[: 2 + i % 2]:
            await stock(branch.id, variant.id, 1 + i)
    cashier = await anonymous.as_staff(Role.CASHIER, [branches[1].id])
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [branches[0].id, branches[2].id])
    costs, nodes = await _page_costs(cashier, VARIANT_STOCK, {}, "variants")
    assert {tuple(level["branch"]["code"] for level in n["stock"]) for n in nodes} == {("HYD",)}
    assert [n["stock"][0]["onHand"] for n in nodes] == list(range(1, ROWS + 1))
    _assert_flat(costs, "variants with their stock")
    costs, nodes = await _page_costs(manager, VARIANT_STOCK, {}, "variants")
    assert {tuple(level["branch"]["code"] for level in n["stock"]) for n in nodes} == {("QTA",), ("QTA", "FSD")}
    _assert_flat(costs, "variants with their stock at two branches")


MOVEMENTS = """query($b: ID!, $first: Int!) { stockMovements(branchId: $b, first: $first) { edges { node {
  sequence delta actor { name } reference { type id } note } } } }"""


async def test_a_page_of_stock_movements_with_who_and_what_for_costs_the_same_for_10_and_100_rows(api, db):
    branch = await make_branch("RWP")
    variants = await make_variants(2, prefix="M")
    clerk = await staff_actor(Role.INVENTORY, [branch.id], email="clerk@movements.pk")
    for i in range(ROWS):  # each posting by the clerk, with its note
        line = AdjustmentLine(variants[i % 2].id, 1)
        await adjust_stock(Adjustment(branch.id, AdjustmentReason.FOUND, [line], f"found-{i}", f"shelf {i}", clerk))
    costs, nodes = await _page_costs(api, MOVEMENTS, {"b": str(global_id("Branch", branch.id))}, "stockMovements")
    assert [n["note"] for n in nodes] == [f"shelf {i}" for i in range(ROWS)]
    assert {(n["actor"]["name"], n["reference"]["type"]) for n in nodes} == {("inventory person", "ADJUSTMENT")}
    _assert_flat(costs, "stock movements with who and what for")


CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number total { amount } changeDue { amount } } errors { code } } }"""
# Signing in, the counter with its branch, the key, the variants with their products; then the sale: register and
# shift, number, the sale, lines, tenders, fiscal document, posting, a level per line, the sequence, movements,
# outbox (BEGIN and COMMIT are not counted here). bench/checkout.py measures what each statement costs.
CHECKOUT_MOST = 17


async def test_a_three_line_checkout_sends_a_fixed_number_of_statements(anonymous, db):
    branch = await make_branch("ISB")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    variants = await make_variants(3, prefix="Q")
    for variant in variants:
        await stock(branch.id, variant.id, 10)
    api = await anonymous.as_staff(Role.CASHIER, [branch.id])
    await open_register(await authenticate(api.token), counter.id, Decimal("0"), "open")
    lines = [{"variant": {"id": str(global_id("Variant", v.id))}, "quantity": 1} for v in variants]

    async def sell(idempotency_key: str) -> dict:
        variables = {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": lines,
                "tenders": [{"type": "CASH", "amount": "100000"}],
                "idempotencyKey": idempotency_key,
            }
        }
        return (await api(CHECKOUT, variables))["checkout"]

    assert (await sell("first"))["errors"] == []  # the first sale makes the counter's number row
    with QueryCount() as cost:
        sale = await sell("second")
    assert sale["errors"] == [] and sale["sale"]["number"].endswith("000002")
    repeated = Counter(q[:100] for q in cost.statements).most_common(2)
    assert len(cost) <= CHECKOUT_MOST, f"{len(cost)} statements for a checkout; the most sent: {repeated}"
    with QueryCount() as replay:
        again = await sell("second")  # a retry: the first sale, read back, nothing written
    assert again["sale"]["number"] == sale["sale"]["number"]
    assert len(replay) <= 4, replay.statements
