"""GraphQL documents and a shop builder shared by the end-to-end tests."""

import asyncio
import itertools

from gql import GraphQLRequest

CREATE_BRANCH = """mutation($input: CreateBranchInput!) {
  createBranch(input: $input) { branch { id } errors { code message } } }"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id variants { id sku } } errors { code message field } } }"""
ADJUST = """mutation($input: AdjustStockInput!) {
  adjustStock(input: $input) { movements { sequence delta onHand } errors { code field message } } }"""
STOCK_CHANGED = """subscription($branches: [ID!]!, $variants: [ID!]) {
  stockChanged(branchIds: $branches, variantIds: $variants) {
    branchId variantId sku onHand reserved available delta reason sequence occurredAt } }"""
MOVEMENTS = """query($branch: ID!, $after: String) {
  stockMovements(branchId: $branch, first: 100, after: $after) {
    edges { node { sequence delta onHand variant { sku } } } pageInfo { hasNextPage endCursor } } }"""


def request(document: str, **variables) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables)


async def build_shop(session, code: str, skus: list[str], stock: int) -> tuple[str, dict[str, str]]:
    """A branch and one product with these SKUs, each with `stock` units on hand."""
    branch = {"code": code, "name": f"Branch {code}", "idempotencyKey": f"branch-{code}"}
    result = await session.execute(request(CREATE_BRANCH, input=branch))
    branch = result["createBranch"]["branch"]["id"]
    variants = [{"sku": f"{code}-{sku}", "price": "1500.00"} for sku in skus]
    product = {"title": f"Kurta {code}", "variants": variants, "idempotencyKey": f"product-{code}"}
    result = await session.execute(request(CREATE_PRODUCT, input=product))
    ids = {v["sku"].removeprefix(f"{code}-"): v["id"] for v in result["createProduct"]["product"]["variants"]}
    if stock:
        lines = [{"variant": {"id": vid}, "quantity": stock} for vid in ids.values()]
        result = await session.execute(
            request(
                ADJUST,
                input={"branchId": branch, "reason": "OPENING_STOCK", "lines": lines, "idempotencyKey": f"open-{code}"},
            )
        )
        assert result["adjustStock"]["errors"] == []
    return branch, ids


async def adjust(session, branch: str, lines: list[dict], key: str, reason: str = "CORRECTION") -> dict:
    result = await session.execute(
        request(ADJUST, input={"branchId": branch, "reason": reason, "lines": lines, "idempotencyKey": key})
    )
    return result["adjustStock"]


async def all_movements(session, branch: str, after: int = 0) -> list[dict]:
    out = []
    while True:
        page = (await session.execute(request(MOVEMENTS, branch=branch, after=str(after))))["stockMovements"]
        out += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = int(page["pageInfo"]["endCursor"])


async def until_live(session, branch: str, variant: str, heard, *, key: str, within: float = 30) -> int:
    """Readiness of a live subscription without a fixed sleep and without asking the server how many
    subscribe: commit +1 of `variant` until `heard()` says the subscription delivered one of them (it
    starts asynchronously after the client subscribes, and sees only later commits). Returns the
    branch's sequence after the last of these commits: every later change on the branch comes after it,
    and every one of them after the one heard is delivered too, in order, before later changes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    for attempt in itertools.count():
        result = await adjust(session, branch, [{"variant": {"id": variant}, "quantity": 1}], key=f"{key}-{attempt}")
        assert result["errors"] == [], result
        last = result["movements"][-1]["sequence"]
        # Each try waits a little longer: a slow machine is not provoked with dozens of extra commits.
        give_up = loop.time() + min(0.2 * (attempt + 1), 2.0)
        while loop.time() < give_up:
            if heard():
                return last
            await asyncio.sleep(0.02)
        assert loop.time() < deadline, f"the subscription delivered nothing in {within}s"


async def wait_until(condition, what: str, within: float = 30) -> None:
    """Polls `condition()` until it holds (a deadline, not a speed check)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"not within {within}s: {what}"
        await asyncio.sleep(0.02)
