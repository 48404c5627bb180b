"""The reports over GraphQL: what a caller may see, and the figures as the API shows them."""

from datetime import timedelta
from decimal import Decimal

from models.sales import Sale
from models.staff import Role
from schema import ids
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.reports.conftest import karachi_today, sell

SALES_REPORT = """
query($filter: SalesReportInput!) {
  salesReport(filter: $filter) {
    rows { day branch { code } counter { code } cashier { name } tenderType total { amount } salesCount
           units costOfGoods { amount } margin { amount } averageBasket { amount } }
    totals { total { amount } salesCount refunds { amount } totalAfterRefunds { amount } }
  }
}
"""


def gid(branch) -> str:
    return str(ids.global_id("Branch", branch.id))


async def test_an_owner_sees_sales_by_branch_and_day(world, api):  # noqa: F811
    _, lhr = world.branches
    await sell(world, 0, [(world.variants[0], 2)], key="a")
    await sell(world, 2, [(world.variants[1], 1)], key="b", card=True)
    day = karachi_today().isoformat()
    data = await api(SALES_REPORT, {"filter": {"from": day, "to": day, "groupBy": ["BRANCH", "DAY"]}})
    report = data["salesReport"]
    assert [(r["branch"]["code"], r["day"], r["salesCount"]) for r in report["rows"]] == [
        ("KHI", day, 1),
        ("LHR", day, 1),
    ]
    total = sum(Decimal(s.total) for s in await Sale.all())
    assert Decimal(report["totals"]["total"]["amount"]) == total
    by_tender = await api(SALES_REPORT, {"filter": {"from": day, "to": day, "groupBy": ["TENDER_TYPE"]}})
    assert {r["tenderType"] for r in by_tender["salesReport"]["rows"]} == {"CASH", "CARD"}
    only_lhr = await api(SALES_REPORT, {"filter": {"from": day, "to": day, "branchIds": [gid(lhr)]}})
    assert only_lhr["salesReport"]["rows"][0]["salesCount"] == 1


async def test_a_cashier_and_another_branchs_manager_are_forbidden(world, api):  # noqa: F811
    khi, lhr = world.branches
    day = karachi_today().isoformat()
    cashier = await api.as_staff(Role.CASHIER, [khi.id])
    for branch_ids in (None, [gid(khi)], [gid(lhr)]):
        body = await cashier.raw(SALES_REPORT, {"filter": {"from": day, "to": day, "branchIds": branch_ids}})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    manager = await api.as_staff(Role.BRANCH_MANAGER, [lhr.id])
    body = await manager.raw(SALES_REPORT, {"filter": {"from": day, "to": day, "branchIds": [gid(khi)]}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await manager(SALES_REPORT, {"filter": {"from": day, "to": day}})
    assert own["salesReport"]["totals"]["salesCount"] == 0


async def test_a_bad_range_is_a_readable_error(world, api):  # noqa: F811
    body = await api.raw(SALES_REPORT, {"filter": {"from": "2026-02-02", "to": "2026-01-01"}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID"


async def test_a_period_names_the_days_relative_to_today(world, api):  # noqa: F811
    await sell(world, 0, [(world.variants[0], 2)], key="p1")
    today = karachi_today()
    day = today.isoformat()
    dated = await api(SALES_REPORT, {"filter": {"from": day, "to": day}})
    for period in ("TODAY", "THIS_WEEK", "THIS_MONTH"):
        named = await api(SALES_REPORT, {"filter": {"period": period}})
        assert named["salesReport"]["totals"] == dated["salesReport"]["totals"], period
    yesterday = await api(SALES_REPORT, {"filter": {"period": "YESTERDAY"}})
    assert yesterday["salesReport"]["totals"]["salesCount"] == 0
    close = await api("query { dayClose(period: { period: TODAY }) { salesTotal { amount } } }")
    assert Decimal(close["dayClose"]["salesTotal"]["amount"]) >= 0
    for bad in ({"period": "TODAY", "from": day}, {"to": day}):
        body = await api.raw(SALES_REPORT, {"filter": bad})
        assert body["errors"][0]["extensions"]["code"] == "INVALID", bad


MOVEMENTS = """
query($branch: ID!, $reasons: [String!], $type: String, $ref: String, $from: Date, $to: Date) {
  stockMovements(branchId: $branch, first: 50, reasons: $reasons, referenceType: $type, referenceId: $ref,
                 from: $from, to: $to) { edges { node { delta reason } } }
}
"""


async def test_movement_history_by_reason_document_and_day(world, api):  # noqa: F811
    khi = world.branches[0]
    sale = await sell(world, 0, [(world.variants[0], 2), (world.variants[1], 1)], key="m1")
    await sell(world, 1, [(world.variants[0], 1)], key="m2")
    today = karachi_today()

    async def deltas(**filters) -> list[int]:
        data = await api(MOVEMENTS, {"branch": gid(khi), **filters})
        return sorted(e["node"]["delta"] for e in data["stockMovements"]["edges"])

    assert await deltas(reasons=["sale"]) == [-2, -1, -1]
    assert await deltas(type="sale", ref=str(sale.id)) == [-2, -1]
    assert len(await deltas(reasons=["opening_stock"])) == len(world.variants)
    assert await deltas(reasons=["sale"], **{"from": today.isoformat(), "to": today.isoformat()}) == [-2, -1, -1]
    yesterday = (today - timedelta(days=1)).isoformat()
    assert await deltas(**{"from": yesterday, "to": yesterday}) == []
