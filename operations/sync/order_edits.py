"""The Shopify side of an exchange before dispatch: the order action `order_exchange` edits Shopify's order.

`orderEditBegin` → `orderEditSetQuantity` (restock: the units go back to available at their location) for
each old line → `orderEditAddVariant` at the branch's location for each new variant → `orderEditCommit`.
Staging calls change nothing in Shopify until the commit, so repeating them is harmless; the commit is sent
without retrying an ambiguous failure, and every attempt first reads the order (none of these mutations
takes `@idempotent`):

- every old line still at its quantity before the swap → the edit is still to do;
- every old line lowered by the swap and each new variant on a line Branchline does not know yet → an
  earlier commit went through but its answer was lost: adopted;
- anything else (the order was edited, fulfilled or cancelled in Shopify meanwhile), or Shopify's
  userErrors → the swap is undone in Branchline (operations/orders/exchanges.py `undo`).
"""

from models.branches import Branch
from models.orders import ExchangeStatus, Order, OrderExchange, OrderLine
from operations.orders import PROVISIONAL_EXCHANGE, settle_exchange, undo_exchange
from shopify import documents
from shopify.client import ShopifyClient, payload
from shopify.errors import ShopifyUserErrors


class _Refusal(Exception):
    pass


async def order_exchange(client: ShopifyClient, p: dict) -> str:
    exchange = await OrderExchange.get_or_none(id=p["exchangeId"])
    if exchange is None or exchange.status is not ExchangeStatus.PENDING:
        return "gone" if exchange is None else exchange.status.value
    order = await Order.get(id=exchange.order_id)
    data = await client.query(documents.ORDER_LINES_FOR_EDIT, {"id": order.shopify_order_id})
    node = (data or {}).get("order")
    if node is None:
        await undo_exchange(exchange.id, f"Shopify has no order {order.shopify_order_id}", {})
        return "refused"
    current = _quantities(node)
    plan = await _plan(exchange)
    try:
        if node.get("cancelledAt"):
            raise _Refusal(f"{order.name} is cancelled in Shopify")
        if all(current.get(gid) == before for gid, before, _ in plan.old):
            lines = await _edit(client, exchange, order, plan)
            outcome = "edited"
        elif all(current.get(gid) == before - n for gid, before, n in plan.old):
            lines = node["lineItems"]["nodes"]
            outcome = "adopted"
        else:
            raise _Refusal(f"{order.name} was changed in Shopify meanwhile")
        found = await _new_lines(exchange, plan, lines)
        waiting = await OrderLine.filter(
            id__in=[line_id for line_id, _, _ in plan.new if line_id not in found],
            shopify_line_item_id__startswith=PROVISIONAL_EXCHANGE,
            quantity__gt=0,
        ).count()
        if waiting:  # lowered in Shopify, but the new variant is not there: not our edit
            raise _Refusal(f"{order.name} was changed in Shopify meanwhile")
        await settle_exchange(exchange.id, found)
    except _Refusal as refusal:
        await undo_exchange(exchange.id, str(refusal), current)
        return "refused"
    return outcome


class _Plan:
    def __init__(self, old: list[tuple[str, int, int]], new: list[tuple[int, str, int]], location: str | None):
        self.old = old  # (Shopify line item gid, its quantity before the swap, units swapped)
        self.new = new  # (provisional order line id, Shopify variant gid, units)
        self.location = location


async def _plan(exchange: OrderExchange) -> _Plan:
    from models.catalog import Variant

    gids = dict(
        await Variant.filter(id__in=[x["toVariantId"] for x in exchange.lines]).values_list("id", "shopify_variant_id")
    )
    branch = await Branch.get(id=exchange.branch_id)
    old = [(x["shopifyLineItemId"], x["shopifyQuantityBefore"], x["quantity"]) for x in exchange.lines]
    new = [(x["newOrderLineId"], gids[x["toVariantId"]], x["quantity"]) for x in exchange.lines]
    return _Plan(old, new, branch.shopify_location_id)


def _quantities(order_node: dict) -> dict[str, int]:
    return {x["id"]: x["currentQuantity"] for x in order_node["lineItems"]["nodes"]}


async def _step(client: ShopifyClient, document: str, field: str, variables: dict, **kw) -> dict:
    data = await client.mutate(document, variables, **kw)
    try:
        return payload(data, field)
    except ShopifyUserErrors as error:
        raise _Refusal(f"Shopify refused the exchange: {error}") from None


async def _edit(client: ShopifyClient, exchange: OrderExchange, order: Order, plan: _Plan) -> list[dict]:
    begun = await _step(client, documents.BEGIN_EXCHANGE, "orderEditBegin", {"id": order.shopify_order_id})
    calc = begun["calculatedOrder"]
    staged = {_number(x["id"]): x["id"] for x in calc["lineItems"]["nodes"]}
    for gid, before, n in plan.old:
        line = staged.get(_number(gid))
        if line is None:
            raise _Refusal(f"{gid} is not on Shopify's order")
        await _step(
            client,
            documents.EXCHANGE_GIVE_BACK,
            "orderEditSetQuantity",
            {"id": calc["id"], "line": line, "quantity": before - n},
        )
    for _, variant, n in plan.new:
        variables = {"id": calc["id"], "variant": variant, "quantity": n, "location": plan.location}
        await _step(client, documents.EXCHANGE_TAKE, "orderEditAddVariant", variables)
    note = f"Branchline exchange {exchange.id}"
    # Not retried blindly: a commit whose answer is lost is found by the next attempt's read (adopted).
    done = await _step(
        client, documents.COMMIT_EXCHANGE, "orderEditCommit", {"id": calc["id"], "note": note}, retry_ambiguous=False
    )
    return done["order"]["lineItems"]["nodes"]


def _number(gid: str) -> str:
    """CalculatedLineItem/123 and LineItem/123 name the same line: compare the numbers."""
    return gid.rsplit("/", 1)[-1]


async def _new_lines(exchange: OrderExchange, plan: _Plan, shopify_lines: list[dict]) -> dict[int, str]:
    """Each provisional line's Shopify line item: a line of its variant that no other order line holds."""
    known = set(await OrderLine.filter(order_id=exchange.order_id).values_list("shopify_line_item_id", flat=True))
    found: dict[int, str] = {}
    for line_id, variant, _ in plan.new:
        match = next(
            (
                x["id"]
                for x in shopify_lines
                if (x.get("variant") or {}).get("id") == variant
                and x["id"] not in known
                and x["id"] not in found.values()
            ),
            None,
        )
        if match is not None:
            found[line_id] = match
    return found
