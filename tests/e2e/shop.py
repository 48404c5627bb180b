"""GraphQL documents and a shop builder shared by the end-to-end tests."""

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
