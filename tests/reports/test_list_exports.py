"""The lists export too: stock movements (with the stockMovements query's filters) and online orders (with the
orders list's), each downloaded over HTTP from a real server and compared with what the query itself answers."""

import csv
import io
from decimal import Decimal

import httpx
import openpyxl

from models.orders import CodStatus, Order, OrderStatus
from models.staff import Role
from operations.directory.staff import NewStaff, create_staff, login
from operations.kernel import SYSTEM
from schema import ids
from tests.e2e.conftest import server  # noqa: F401  (fixture)
from tests.reports.conftest import karachi_today, sell
from tests.reports.test_exports import EXPORT, finished, graphql

D = Decimal
MOVEMENTS = """query($branch: ID!, $after: String, $from: Date, $to: Date) {
  stockMovements(branchId: $branch, first: 100, after: $after, reasons: ["sale"], from: $from, to: $to) {
    edges { node { delta } } pageInfo { hasNextPage endCursor }
  }
}"""
ORDERS = """query($after: String) {
  orders(first: 100, after: $after, codStatus: DISPATCHED) {
    edges { node { name total { amount } } } pageInfo { hasNextPage endCursor }
  }
}"""


async def owner_token() -> str:
    await create_staff(SYSTEM, NewStaff("owner@lists.pk", "Owner", Role.OWNER, "lists-password-1"))
    return (await login("owner@lists.pk", "lists-password-1")).token


async def pages(client, token, query: str, field: str, variables: dict) -> list[dict]:
    nodes, after = [], None
    while True:
        page = (await graphql(client, token, query, {**variables, "after": after}))[field]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def export(client, token, key: str, **input) -> dict:
    started = await graphql(client, token, EXPORT, {"input": {"idempotencyKey": key, **input}})
    assert started["exportReport"]["errors"] == [], started
    progress = await finished(client, token, started["exportReport"]["export"]["id"])
    assert progress["status"] == "DONE", progress
    return progress


async def test_stock_movements_export_with_the_querys_filters(world, server):  # noqa: F811
    kurta, shawl = world.variants[:2]
    await sell(world, 0, [(kurta, 2), (shawl, 1)], key="m1")
    await sell(world, 2, [(shawl, 3)], key="m2")
    token = await owner_token()
    day = karachi_today().isoformat()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        expected = []
        for branch in world.branches:
            expected += await pages(
                client,
                token,
                MOVEMENTS,
                "stockMovements",
                {"branch": str(ids.global_id("Branch", branch.id)), "from": day, "to": day},
            )
        assert len(expected) >= 3  # the sale lines' on-hand movements at least

        progress = await export(
            client,
            token,
            "movements-xlsx",
            report="STOCK_MOVEMENTS",
            format="XLSX",
            period="TODAY",
            movements={"reasons": ["sale"]},
        )
        sheet = openpyxl.load_workbook(io.BytesIO((await client.get(progress["downloadUrl"])).content)).active
        header, *rows = list(sheet.iter_rows(values_only=True))
        column = {title: i for i, title in enumerate(header)}
        assert progress["rowsWritten"] == len(rows) == len(expected)
        assert {r[column["Reason"]] for r in rows} == {"sale"}
        assert sum(r[column["Delta"]] for r in rows) == sum(n["delta"] for n in expected)

        progress = await export(
            client,
            token,
            "movements-csv",
            report="STOCK_MOVEMENTS",
            format="CSV",
            **{"from": day, "to": day},
            branchIds=[str(ids.global_id("Branch", world.branches[1].id))],
            movements={"reasons": ["sale"], "variantIds": [str(ids.global_id("Variant", shawl.id))]},
        )
        lines = list(csv.DictReader(io.StringIO((await client.get(progress["downloadUrl"])).text)))
        assert [(line["Branch"], line["SKU"]) for line in lines] == [("LHR", shawl.sku)] * len(lines) and lines

        # A list's filters belong to that list: the orders' on a movements export is refused, nothing recorded.
        refused = await graphql(
            client,
            token,
            EXPORT,
            {
                "input": {
                    "report": "STOCK_MOVEMENTS",
                    "format": "CSV",
                    "period": "TODAY",
                    "orders": {"withException": True},
                    "idempotencyKey": "movements-bad",
                }
            },
        )
        assert [e["code"] for e in refused["exportReport"]["errors"]] == ["INVALID"]


async def test_online_orders_export_holds_the_lists_total(world, server):  # noqa: F811
    khi, lhr = world.branches
    for i, (branch, cod, total) in enumerate(
        [
            (khi, CodStatus.DISPATCHED, "3000.00"),
            (khi, CodStatus.DELIVERED, "1000.00"),
            (lhr, CodStatus.DISPATCHED, "700.50"),
            (None, CodStatus.DISPATCHED, "999.00"),  # no branch yet: in no branch's list
        ]
    ):
        await Order.create(
            shopify_order_id=f"gid://shopify/Order/{i}",
            name=f"#{2000 + i}",
            branch_id=branch.id if branch else None,
            total=D(total),
            is_cod=True,
            status=OrderStatus.OPEN,
            cod_status=cod,
            courier="TCS",
        )
    token = await owner_token()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        expected = [
            n
            for n in await pages(client, token, ORDERS, "orders", {})
            if n["name"] != "#2003"  # the owner's list shows the unassigned order; a branch's export cannot
        ]
        for fmt in ("XLSX", "CSV"):
            progress = await export(
                client,
                token,
                f"orders-{fmt}",
                report="ORDER_LIST",
                format=fmt,
                period="THIS_MONTH",
                orders={"codStatus": "DISPATCHED"},
            )
            content = (await client.get(progress["downloadUrl"])).content
            if fmt == "XLSX":
                header, *rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
                got = [dict(zip(header, r, strict=True)) for r in rows]
                total = D(str(round(sum(r["Total"] for r in got), 2)))
            else:
                got = list(csv.DictReader(io.StringIO(content.decode())))
                total = sum(D(r["Total"]) for r in got)
            assert sorted(r["Order"] for r in got) == sorted(n["name"] for n in expected) == ["#2000", "#2002"]
            assert total == sum(D(n["total"]["amount"]) for n in expected) == D("3700.50")
