"""Online-order fixtures: a Branchline connected to the simulated Shopify, its webhooks caught over HTTP.

The simulator's webhook subscriptions are pointed at a recording endpoint (real HTTP, signed
bodies); tests hand the recorded orders/* bodies to `on_order_webhook` themselves, in the order and
as many times as the test wants, instead of going through the inbox.
"""

from dataclasses import dataclass, field

import orjson
import pytest

from models.branches import Branch
from models.catalog import Variant
from models.stock import StockLevel
from operations.sync import orders_in
from tests.shopify.conftest import sim, sim_shop, webhook_receiver  # noqa: F401  (fixtures)
from tests.sync.conftest import connected  # noqa: F401  (fixture)


@dataclass
class OrderWebhooks:
    shop: object
    receiver: object
    taken: int = 0
    bodies: list = field(default_factory=list)

    async def collect(self, topic_prefix: str = "orders/") -> list[tuple[str, dict]]:
        """Webhooks Shopify sent since the last call: (topic, body), in the order they arrived."""
        await self.shop.webhooks.drain()
        new = self.receiver.received[self.taken :]
        self.taken = len(self.receiver.received)
        out = [(r.headers["x-shopify-topic"], orjson.loads(r.body)) for r in new]
        out = [(t, b) for t, b in out if t.startswith(topic_prefix)]
        self.bodies += out
        return out

    async def deliver(self) -> list[tuple[str, dict]]:
        """Collect and hand every new orders/* webhook to the intake, in arrival order."""
        got = await self.collect()
        for topic, body in got:
            await orders_in.on_order_webhook(topic, body)
        return got


@pytest.fixture
async def shop(connected, webhook_receiver):  # noqa: F811
    for sub in connected.shop.subscriptions.values():
        sub.uri = webhook_receiver.url
    connected.hooks = OrderWebhooks(connected.shop, webhook_receiver)
    return connected


async def stocked(min_units: int = 3, *, skip_branches=()) -> tuple[Branch, Variant, StockLevel]:
    """A branch on Shopify and a variant on Shopify with at least `min_units` available there."""
    for level in await StockLevel.all().order_by("id"):
        if level.on_hand - level.reserved < min_units or level.branch_id in skip_branches:
            continue
        branch = await Branch.get(id=level.branch_id)
        variant = await Variant.get(id=level.variant_id)
        if branch.shopify_location_id and variant.shopify_variant_id:
            return branch, variant, level
    raise AssertionError("no stocked level in the simulated shop")


async def level_of(branch_id: int, variant_id: int) -> StockLevel:
    return await StockLevel.get(branch_id=branch_id, variant_id=variant_id)


def committed(shop, variant: Variant, branch: Branch) -> int:
    return shop.quantities(variant.shopify_inventory_item_id, branch.shopify_location_id)["committed"]
