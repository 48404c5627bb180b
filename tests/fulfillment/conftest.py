"""Fulfillment fixtures: a Branchline connected to the simulated Shopify (real HTTP), orders placed in
the simulator and taken in through the order intake, Shopify's webhooks caught by a recording endpoint
and handed to the handlers by the test, in the order and as many times as the test wants."""

import itertools

from models.branches import Branch
from models.catalog import Variant
from models.orders import Order
from operations.kernel.access import SYSTEM
from operations.orders import steps as order_steps
from operations.sync import order_actions as shopify_order_actions
from operations.sync import push as shopify_push
from operations.sync.fulfillment_webhooks import on_fulfillment_webhook, on_refund_webhook
from tests.orders.conftest import level_of, shop, stocked  # noqa: F401  (fixtures and helpers)
from tests.shopify.conftest import sim, sim_shop, webhook_receiver  # noqa: F401  (fixtures)
from tests.sync.conftest import connected, mapped_levels, shopify_quantities  # noqa: F401

_keys = itertools.count(1)


def key(prefix: str = "f") -> str:
    return f"{prefix}-{next(_keys)}"


async def use_workflow(branch: Branch, workflow: str) -> None:
    """The branch's fulfillment workflow (a branch setting, chosen by the owner)."""
    await Branch.filter(id=branch.id).update(fulfillment_workflow=workflow)


async def take_order(handle, branch: Branch, variant: Variant, qty: int = 2, *, cod: bool = False) -> Order:
    """A shopper orders from Shopify; Branchline takes it in from its orders/create webhook."""
    gateway = "Cash on Delivery (COD)" if cod else "shopify_payments"
    placed = handle.shop.place_order(
        [(variant.shopify_variant_id, qty)], gateway=gateway, location=branch.shopify_location_id
    )
    await handle.hooks.deliver()
    return await Order.get(shopify_order_id=placed.gid)


async def confirm_cod(order: Order) -> None:
    """The shop called the customer and the COD order is confirmed."""
    await order_steps.confirm_order(SYSTEM, order.id, key("confirm"))


async def webhooks(handle, prefix: str) -> list[tuple[str, dict]]:
    """Shopify's webhooks of one kind since the last look (others stay for their own look)."""
    await handle.shop.webhooks.drain()
    seen = getattr(handle, "_seen", None)
    if seen is None:
        seen = handle._seen = set()
    out = []
    import orjson

    for n, r in enumerate(handle.hooks.receiver.received):
        topic = r.headers["x-shopify-topic"]
        if n in seen or not topic.startswith(prefix):
            continue
        seen.add(n)
        out.append((topic, orjson.loads(r.body)))
    return out


async def deliver(handle, prefix: str, *, times: int = 1) -> list[tuple[str, dict]]:
    """Hand Shopify's new fulfillments/* or refunds/* webhooks to their handler (`times` each)."""
    got = await webhooks(handle, prefix)
    handler = {"fulfillments/": on_fulfillment_webhook, "refunds/": on_refund_webhook}[prefix]
    for topic, body in got:
        for _ in range(times):
            await handler(topic, body)
    return got


async def settle(handle) -> None:
    """Quiescence: order actions carried out, order webhooks taken in, inventory deltas pushed."""
    await shopify_order_actions.drain_order_actions(10)
    await handle.hooks.deliver()
    await shopify_push.drain_outbox(10)


async def assert_agree(handle) -> None:
    """Shopify's available + committed == Branchline's on hand, committed == reserved, damaged == damaged."""
    differences = []
    for branch, variant, level in await mapped_levels():
        q = shopify_quantities(handle.shop, variant, branch)
        committed = q.get("committed", 0)
        mine = (level.on_hand, level.reserved, level.damaged)
        theirs = (q["available"] + committed, committed, q["damaged"])
        if mine != theirs:
            differences.append((branch.code, variant.sku, "branchline", mine, "shopify", theirs))
    assert not differences, differences
