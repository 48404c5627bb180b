"""A partner's first hour, through the installed client against a real server: sign in, read a variant's
stock across branches, page through movements, change stock with and without an idempotency key, read sales;
refusals come back as typed UserErrors (business) or exceptions with the code (auth)."""

import pytest
from branchline_client import AuthError, BranchlineClient, BranchlineError, local_day
from branchline_client.enums import AdjustmentReason, ErrorCode
from branchline_client.input_types import AdjustStockInput, StockLineInput, VariantRefInput

from tests.client.conftest import OWNER_EMAIL, TcpProxy, shop
from tests.e2e.shop import CREATE_BRANCH, request


async def test_sign_in_refused_and_unauthenticated_calls_raise_with_the_code(server, owner_token):
    async with BranchlineClient(f"{server.url}/graphql") as client:
        with pytest.raises(AuthError) as refused:
            await client.sign_in(OWNER_EMAIL, "not-the-password")
        assert refused.value.code == "INVALID_CREDENTIALS"
        with pytest.raises(AuthError) as anonymous:
            await client.me()
        assert anonymous.value.code == "UNAUTHENTICATED"
        me = await client.sign_in(OWNER_EMAIL, "e2e-password-1")
        assert (await client.me()).me.id == me.id


async def test_a_variants_stock_across_branches_and_the_movements_feed(server, owner_token, partner):
    lahore, ids = await shop(server, owner_token, ["A"], stock=7)
    async with server.http_client(owner_token) as session:
        karachi_code = f"{lahore[-3:]}K"
        result = await session.execute(
            request(CREATE_BRANCH, input={"code": karachi_code, "name": "Karachi", "idempotencyKey": karachi_code})
        )
    karachi = result["createBranch"]["branch"]["id"]
    variant = ids["A"]

    # A typed mutation; no idempotency key given: the client makes one for this call.
    opened = await partner.adjust_stock(
        AdjustStockInput(
            branchId=karachi,
            reason=AdjustmentReason.OPENING_STOCK,
            lines=[StockLineInput(variant=VariantRefInput(id=variant), quantity=3)],
        )
    )
    assert opened.adjust_stock.errors == []
    assert [(m.delta, m.on_hand) for m in opened.adjust_stock.movements] == [(3, 3)]

    found = (await partner.variant_stock(variant_id=variant)).node
    assert found is not None and found.typename__ == "Variant"
    by_branch = {level.branch.id: (level.on_hand, level.available) for level in found.stock}
    assert by_branch == {lahore: (7, 7), karachi: (3, 3)}

    # The same key twice: one change, the first result again.
    sale = AdjustStockInput(
        branchId=lahore,
        reason=AdjustmentReason.CORRECTION,
        lines=[StockLineInput(variant=VariantRefInput(id=variant), quantity=-1)],
        idempotencyKey="partner-correction-1",
    )
    first, again = await partner.adjust_stock(sale), await partner.adjust_stock(sale)
    assert [m.sequence for m in first.adjust_stock.movements] == [m.sequence for m in again.adjust_stock.movements]

    # A business failure is data, typed: nothing raises.
    short = await partner.adjust_stock(
        AdjustStockInput(
            branchId=karachi,
            reason=AdjustmentReason.CORRECTION,
            lines=[StockLineInput(variant=VariantRefInput(id=variant), quantity=-50)],
        )
    )
    assert [e.code for e in short.adjust_stock.errors] == [ErrorCode.INSUFFICIENT_STOCK]

    for step in range(4):
        await partner.adjust_stock(
            AdjustStockInput(
                branchId=lahore,
                reason=AdjustmentReason.CORRECTION,
                lines=[StockLineInput(variant=VariantRefInput(id=variant), quantity=1 if step % 2 else -1)],
            )
        )
    # Two at a time, resuming from each page's endCursor (the last sequence seen).
    seen, after, pages = [], "0", 0
    while True:
        page = (await partner.stock_movements(branch_id=lahore, first=2, after=after)).stock_movements
        seen += [(edge.node.sequence, edge.node.delta, edge.node.on_hand) for edge in page.edges]
        pages += 1
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert pages == 3
    assert seen == [(1, 7, 7), (2, -1, 6), (3, -1, 5), (4, 1, 6), (5, -1, 5), (6, 1, 6)]
    assert [m.sequence for m in await partner.movements_after(lahore, 4)] == [5, 6]
    assert await partner.current_sequence(lahore) == 6
    assert await partner.current_sequence(karachi) == 1

    levels = (await partner.stock_levels(branch_id=lahore, first=10)).stock_levels
    assert [(e.node.variant.id, e.node.on_hand) for e in levels.edges] == [(variant, 6)]

    # Yesterday on the branch's calendar: no sales (selling and reporting: tests/client/test_reports.py).
    yesterday = local_day("Asia/Karachi", 1)
    sales = (await partner.sales(branch_id=lahore, first=50, from_=yesterday, to=yesterday)).sales
    assert sales.edges == [] and not sales.page_info.has_next_page


async def test_a_bad_argument_raises_with_the_servers_code(partner):
    with pytest.raises(BranchlineError) as bad:
        await partner.stock_movements(branch_id="not-an-id", first=1)
    assert bad.value.code == "BAD_USER_INPUT" and bad.value.path == ["stockMovements"]


async def test_a_lost_answer_is_retried_with_the_same_key_and_applied_once(server, owner_token, partner):
    branch, ids = await shop(server, owner_token, ["A"], stock=5)
    async with TcpProxy(server.port, lose_answers=1) as proxy:
        flaky = BranchlineClient(f"http://127.0.0.1:{proxy.port}/graphql", token=partner.token, backoff=0.01)
        result = await flaky.adjust_stock(
            AdjustStockInput(
                branchId=branch,
                reason=AdjustmentReason.CORRECTION,
                lines=[StockLineInput(variant=VariantRefInput(id=ids["A"]), quantity=-1)],
            )
        )
    assert proxy.connections == 2  # the first answer was lost on the way back; the retry got the first result
    assert result.adjust_stock.errors == []
    movements = [(m.sequence, m.delta) for m in await partner.movements_after(branch, 0)]
    assert movements == [(1, 5), (2, -1)]  # applied once


COUNTER_AND_CASHIER = """mutation($counter: CreateCounterInput!, $cashier: CreateStaffInput!) {
  createCounter(input: $counter) { counter { id } errors { code } }
  createStaff(input: $cashier) { staff { id } errors { code } } }"""


async def test_a_counter_signs_in_with_a_pin_and_acts_at_its_branch_only(server, owner_token):
    branch, _ = await shop(server, owner_token, ["A"], stock=1)
    elsewhere, _ = await shop(server, owner_token, ["A"], stock=1)
    async with server.http_client(owner_token) as session:
        made = await session.execute(
            request(
                COUNTER_AND_CASHIER,
                counter={"branchId": branch, "code": "C1", "name": "Till 1", "idempotencyKey": f"c1-{branch}"},
                cashier={
                    "email": f"cashier-{branch[-4:]}@e2e.pk",
                    "name": "Ayesha",
                    "role": "CASHIER",
                    "pin": "4826",
                    "branchIds": [branch],
                    "idempotencyKey": f"cashier-{branch}",
                },
            )
        )
    counter = made["createCounter"]["counter"]["id"]
    async with BranchlineClient(f"{server.url}/graphql") as till:
        with pytest.raises(AuthError) as wrong:
            await till.counter_sign_in(counter, "0000")
        assert wrong.value.code == "INVALID_CREDENTIALS"
        cashier = await till.counter_sign_in(counter, "4826")
        assert cashier.name == "Ayesha"
        assert (await till.stock_levels(branch_id=branch, first=5)).stock_levels.edges
        with pytest.raises(AuthError) as other_branch:
            await till.stock_levels(branch_id=elsewhere, first=5)
        assert other_branch.value.code == "FORBIDDEN"
