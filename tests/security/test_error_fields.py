"""Error fields name the lines the caller sent, not the ledger's movements behind them."""

from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import make_branch, make_variants, stock

ADJUST = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) { errors { field code } } }"""


async def test_a_damaged_two_line_adjustment_names_its_own_second_line(api):  # noqa: F811
    branch = await make_branch("LHR")
    first, second = await make_variants(2, prefix="DMG")
    await stock(branch.id, first.id, 5)
    await stock(branch.id, second.id, 1)
    data = await api(
        ADJUST,
        {
            "input": {
                "branchId": str(global_id("Branch", branch.id)),
                "reason": "DAMAGED",
                # A damaged line is two movements (off the shelf, into damaged): the second line is
                # the ledger's third movement, but the caller sent two lines.
                "lines": [
                    {"variant": {"sku": first.sku}, "quantity": -1},
                    {"variant": {"sku": second.sku}, "quantity": -3},
                ],
                "idempotencyKey": "damaged-1",
            }
        },
    )
    assert data["adjustStock"]["errors"] == [{"field": "lines.1.quantity", "code": "INSUFFICIENT_STOCK"}]


async def test_a_time_zone_too_long_for_a_file_name_is_a_typed_error(api):  # noqa: F811
    q = """mutation($tz: String!) {
      createBranch(input: {code: "TZ", name: "Zone", timezone: $tz, idempotencyKey: "tz"}) {
        errors { field code } } }"""
    data = await api(q, {"tz": "Asia/" + "x" * 300})
    assert data["createBranch"]["errors"] == [{"field": "timezone", "code": "INVALID"}]
