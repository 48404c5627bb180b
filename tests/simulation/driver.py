"""A seeded random driver for the drift simulation (issue #5): random shop life and random faults, then
quiescence and the checks in `checks.py`. Every step is logged with the seed, so a failing run can be
replayed with BRANCHLINE_SIMULATION_SEED / BRANCHLINE_SIMULATION_STEPS."""

import asyncio
import itertools
import logging
import os
import random
from decimal import Decimal

from models.branches import Branch
from models.catalog import Variant
from models.orders import Fulfillment, Order, OrderLine
from models.outbox import OutboxRow
from models.sales import SaleLine, TenderType
from models.stock import StockLevel
from operations.counter import checkouts as sales
from operations.counter import returns
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from operations.kernel.errors import OperationError
from operations.orders import exchanges as order_exchanges
from operations.orders import steps as order_steps
from operations.orders.exchanges import ExchangeRequest, SwapLine
from operations.orders.fulfillment import ShipLine, Shipment, fulfill_order, record_manual_fulfillment
from operations.orders.returns import ReturnedLine, ReturnReceipt, receive_returned_order
from operations.orders.routing import assign_order_branch
from operations.stock.adjustments import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from operations.sync import inbox as shopify_inbox
from operations.sync import order_actions as shopify_order_actions
from operations.sync import orders_poll as order_poll
from operations.sync import push as shopify_push
from shopify.simulator.orders import OrderError
from tests.simulation.model import Model, SimOrder

log = logging.getLogger("simulation")
COD = "Cash on Delivery (COD)"
# The orders poll recovers dropped orders/*, fulfillments/* and refunds/* webhooks (the others only carry
# signals the drift check reads again); BRANCHLINE_SIMULATION_DROP_ANY=1 drops any topic.
DROPPABLE = ("",) if os.environ.get("BRANCHLINE_SIMULATION_DROP_ANY") else ("orders/", "fulfillments/", "refunds/")


class Driver:
    def __init__(self, world, seed: int):
        self.w, self.rng, self.model = world, random.Random(seed), Model()
        self.seed, self.trace, self.forwarded = seed, [], 0
        self.keys = itertools.count(1)
        self.held = []  # recorded deliveries not yet forwarded to Branchline (delayed)
        self.taken = 0  # recorder index already moved into `held`
        self.kills = 0

    def key(self, what: str) -> str:
        return f"sim{self.seed}-{what}-{next(self.keys)}"

    def note(self, *what) -> None:
        self.trace.append(" ".join(str(x) for x in what))

    async def start(self) -> None:
        self.branches = {b.id: b for b in await Branch.filter(shopify_location_id__isnull=False)}
        self.by_location = {b.shopify_location_id: b for b in self.branches.values()}
        self.variants = {v.id: v for v in await Variant.filter(shopify_variant_id__isnull=False)}
        for level in await StockLevel.all():
            if level.branch_id in self.branches and level.variant_id in self.variants:
                self.model.on_hand[(level.branch_id, level.variant_id)] = level.on_hand
                self.model.damaged[(level.branch_id, level.variant_id)] = level.damaged

    # ------------------------------------------------------------------ the run
    async def run(self, steps: int) -> None:
        await self.start()
        moves = [
            (self.sale, 10), (self.sale_return, 4), (self.adjust, 3), (self.place_order, 12),
            (self.route, 3), (self.fulfil, 12), (self.merchant_completes_manual, 5),
            (self.merchant_cancels, 2), (self.branchline_cancels, 2), (self.refuse, 4), (self.receive_rto, 4),
            (self.merchant_refunds, 3), (self.shopify_fault, 4), (self.deliver_webhooks, 14), (self.work, 14),
            (self.poll, 2), (self.exchange_before_dispatch, 3), (self.exchange_after_delivery, 2),
        ]  # fmt: skip
        steps_, weights = zip(*moves, strict=True)
        for n in range(steps):
            step = self.rng.choices(steps_, weights)[0]
            self.note(f"#{n}", step.__name__)
            await step()

    # ------------------------------------------------------------------ in the shop
    def _branch(self, workflow: str | None = None) -> Branch:
        pool = [b for b in self.branches.values() if workflow is None or b.fulfillment_workflow == workflow]
        return self.rng.choice(sorted(pool, key=lambda b: b.id))

    async def _available_level(self, branch_id: int | None = None, at_least: int = 1) -> StockLevel | None:
        levels = [
            lv for lv in await StockLevel.filter(**({"branch_id": branch_id} if branch_id else {})).order_by("id")
            if lv.branch_id in self.branches and lv.variant_id in self.variants
            and lv.on_hand - lv.reserved >= at_least
        ]  # fmt: skip
        return self.rng.choice(levels) if levels else None

    async def sale(self) -> None:
        level = await self._available_level()
        if level is None:
            return
        qty = self.rng.randint(1, min(3, level.on_hand - level.reserved))
        counter = self.w.counters[level.branch_id]
        request = sales.Checkout(
            counter.id,
            [sales.CheckoutLine(VariantRef(id=level.variant_id), qty)],
            [sales.Payment(TenderType.CASH, Decimal("1000000.00"))],
            self.key("sale"),
        )
        try:
            sale, _ = await sales.checkout(self.w.cashier, request)
        except OperationError as refused:
            self.note("  sale refused", refused.problems[0].code)
            return
        self.model.move(level.branch_id, level.variant_id, -qty)
        line = await SaleLine.get(sale_id=sale.id)
        self.model.sales.append({"sale": sale.id, "counter": counter.id, "line": line, "branch": level.branch_id})
        self.note("  sold", qty, "of", level.variant_id, "at", level.branch_id)

    async def sale_return(self) -> None:
        if not self.model.sales:
            return
        sold = self.model.sales.pop(self.rng.randrange(len(self.model.sales)))
        line = sold["line"]
        request = returns.ReturnRequest(
            sold["sale"],
            sold["counter"],
            [returns.ReturnItem(line.line_no, line.quantity)],
            [sales.Payment(TenderType.CASH, line.total)],
            self.key("return"),
            manager_pin="902715",
        )
        await returns.create_return(self.w.cashier, request)
        self.model.move(sold["branch"], line.variant_id, line.quantity)
        self.note("  returned", line.quantity, "of", line.variant_id, "at", sold["branch"])

    async def adjust(self) -> None:
        level = await self._available_level()
        if level is None:
            return
        delta = self.rng.choice([-1, 1, 2, 5]) if level.on_hand - level.reserved > 1 else 3
        adj = Adjustment(
            level.branch_id, AdjustmentReason.CORRECTION, [AdjustmentLine(level.variant_id, delta)], self.key("adj")
        )
        await adjust_stock(adj)
        self.model.move(level.branch_id, level.variant_id, delta)
        self.note("  adjusted", delta, "of", level.variant_id, "at", level.branch_id)

    # ------------------------------------------------------------------ online orders
    async def place_order(self) -> None:
        branch = self._branch()
        shop = self.w.shop
        wanted = []
        for variant in self.rng.sample(sorted(self.variants.values(), key=lambda v: v.id), 2):
            try:
                q = shop.quantities(variant.shopify_inventory_item_id, branch.shopify_location_id)
            except KeyError:  # not stocked at that location
                continue
            if q["available"] >= 2:
                wanted.append((variant, self.rng.randint(1, 2)))
        wanted = wanted[: self.rng.randint(1, 2)]
        if not wanted:
            return
        cod = self.rng.random() < 0.5
        placed = shop.place_order(
            [(v.shopify_variant_id, q) for v, q in wanted],
            gateway=COD if cod else "shopify_payments",
            location=branch.shopify_location_id,
        )
        by_id = {v.shopify_variant_id: v.id for v, _ in wanted}
        lines = {li.gid: li.quantity for li in placed.line_items}
        variants = {li.gid: by_id[shop.variants[li.variant_id].gid] for li in placed.line_items}
        self.model.orders[placed.gid] = SimOrder(placed.gid, cod, lines, variants)
        self.note("  placed", placed.gid, "cod" if cod else "prepaid", lines, "at", branch.id)

    async def _taken_in(self, predicate) -> tuple[SimOrder, Order] | None:
        """A random order Branchline has taken in and the model says fits."""
        candidates = [o for o in self.model.orders.values() if predicate(o)]
        self.rng.shuffle(candidates)
        for sim_order in candidates:
            order = await Order.get_or_none(shopify_order_id=sim_order.gid)
            if order is not None:
                return sim_order, order
        return None

    async def _moving(self, order: Order) -> bool:
        return await OutboxRow.filter(key__startswith=f"order_action:move:{order.id}:", status="pending").exists()

    async def route(self) -> None:
        found = await self._taken_in(lambda o: not o.cancelled and not o.shipped and not o.manual_waiting)
        if found is None:
            return
        sim_order, order = found
        target = self._branch()
        if target.id == order.branch_id:
            return
        try:
            await assign_order_branch(SYSTEM, order.id, target.id, self.key("route"))
            self.note("  routed", sim_order.gid, "to", target.id)
        except OperationError as refused:
            self.note("  routing refused", refused.problems[0].code, refused.problems[0].message)

    async def fulfil(self) -> None:
        found = await self._taken_in(lambda o: not o.cancelled and not o.manual_waiting)
        if found is None:
            return
        sim_order, order = found
        if order.branch_id is None or await self._moving(order):
            return
        branch = self.branches[order.branch_id]
        if branch.fulfillment_workflow == "branch_sync":
            return await self._merchant_fulfils(sim_order, order)
        if order.is_cod:
            try:
                await order_steps.confirm_order(SYSTEM, order.id, self.key("confirm"))
            except OperationError:
                pass
        self._learn_lines(sim_order)
        # What the clerk hands over, as the world sees it: every unit still to go, or one unit of a line.
        # The model takes it from here, never from Branchline's FulfillmentLine rows (which could agree
        # with a Branchline bug).
        to_go = {g: n - sim_order.shipped.get(g, 0) for g, n in sim_order.lines.items()}
        handed = {g: n for g, n in to_go.items() if n > 0}
        lines = None
        open_lines = [ln for ln in await OrderLine.filter(order_id=order.id) if ln.quantity - ln.fulfilled > 0]
        if branch.fulfillment_workflow == "smart" and open_lines and self.rng.random() < 0.3:
            lines = [ShipLine(open_lines[0].id, 1)]  # part of the order
            handed = {open_lines[0].shopify_line_item_id: 1}
        shipment = Shipment(order.id, self.key("ship"), lines=lines, courier="TCS", tracking_number=self.key("t"))
        ship = fulfill_order if branch.fulfillment_workflow == "smart" else record_manual_fulfillment
        try:
            await ship(SYSTEM, shipment)
        except OperationError as refused:
            self.note("  fulfilment refused", refused.problems[0].code, refused.problems[0].message)
            return
        for line, units in handed.items():
            self.model.ship(sim_order, branch.id, line, units)
        sim_order.manual_waiting = branch.fulfillment_workflow == "manual"
        self.note("  fulfilled", branch.fulfillment_workflow, sim_order.gid, "at", branch.id)

    async def _merchant_fulfils(self, sim_order: SimOrder, order: Order | None) -> None:
        """Branch Sync, or the merchant catching up on a Manual one: fulfilled in Shopify's admin."""
        if await Fulfillment.filter(order_id=order.id, workflow="smart").exists():
            return  # a Smart fulfillment from before a move: Shopify gets it from the worker
        try:
            made = self.w.shop.fulfill(sim_order.gid, tracking={"company": "TCS", "number": self.key("t")})
        except OrderError as refused:
            self.note("  merchant fulfil refused", refused.message)
            return
        self._learn_lines(sim_order)
        for f in made:
            branch = self.by_location[f"gid://shopify/Location/{f.location_id}"]
            for entry in f.lines:
                line = f"gid://shopify/LineItem/{entry['line_item_id']}"
                sim_order.fulfilled_in_shopify[line] = sim_order.fulfilled_in_shopify.get(line, 0) + entry["quantity"]
                if not sim_order.manual_waiting:
                    self.model.ship(sim_order, branch.id, line, entry["quantity"])
        self.note("  merchant fulfilled", sim_order.gid, "manual" if sim_order.manual_waiting else "branch_sync")
        sim_order.manual_waiting = False

    async def merchant_completes_manual(self) -> None:
        found = await self._taken_in(lambda o: o.manual_waiting)
        if found:
            await self._merchant_fulfils(*found)

    async def merchant_cancels(self) -> None:
        candidates = [o for o in self.model.orders.values() if not o.cancelled and not o.shipped]
        if not candidates:
            return
        sim_order = self.rng.choice(candidates)
        order = await Order.get_or_none(shopify_order_id=sim_order.gid)
        if order is not None and await Fulfillment.filter(order_id=order.id).exists():
            return
        try:
            self.w.shop.cancel_order(sim_order.gid, restock=True)
        except OrderError as refused:
            self.note("  merchant cancel refused", refused.message)
            return
        sim_order.cancelled = True
        self.note("  merchant cancelled", sim_order.gid)

    async def branchline_cancels(self) -> None:
        found = await self._taken_in(lambda o: not o.cancelled and not o.shipped)
        if found is None:
            return
        sim_order, order = found
        try:
            await order_steps.cancel_order(SYSTEM, order.id, self.key("cancel"))
        except OperationError as refused:
            self.note("  cancel refused", refused.problems[0].code, refused.problems[0].message)
            return
        sim_order.cancelled = True
        self.note("  cancelled in branchline", sim_order.gid)

    async def refuse(self) -> None:
        found = await self._taken_in(
            lambda o: o.cod and not o.refused and o.shipped and o.shipped == o.lines and not o.manual_waiting
        )
        if found is None:
            return
        sim_order, order = found
        try:
            await order_steps.mark_refused(SYSTEM, order.id, self.key("refused"))
        except OperationError as refused:
            self.note("  refusal refused", refused.problems[0].code, refused.problems[0].message)
            return
        sim_order.refused = True
        self.note("  refused at the door", sim_order.gid)

    async def receive_rto(self) -> None:
        found = await self._taken_in(
            lambda o: o.refused and any(o.received.get(x, 0) < n for x, n in o.shipped.items())
        )
        if found is None:
            return
        sim_order, order = found
        wanted, by_gid = [], {ln.shopify_line_item_id: ln for ln in await OrderLine.filter(order_id=order.id)}
        for gid, n in sim_order.shipped.items():
            left = n - sim_order.received.get(gid, 0)
            if left:
                damaged = self.rng.randint(0, left) if self.rng.random() < 0.4 else 0
                wanted.append((gid, left - damaged, damaged))
        receipt = ReturnReceipt(order.id, [ReturnedLine(by_gid[g].id, r, d) for g, r, d in wanted], self.key("rto"))
        await receive_returned_order(SYSTEM, receipt)
        for gid, r, d in wanted:
            self.model.receive(sim_order, order.branch_id, gid, r, d)
        self.note("  RTO received", sim_order.gid, wanted, "at", order.branch_id)

    async def merchant_refunds(self) -> None:
        found = await self._taken_in(lambda o: o.refused and not o.shopify_restocked)
        if found is None:
            return
        sim_order, order = found
        branch = self.branches[order.branch_id]
        lines = [(gid, n, "RETURN", branch.shopify_location_id) for gid, n in sim_order.fulfilled_in_shopify.items()]
        if not lines or sim_order.fulfilled_in_shopify != sim_order.shipped:
            return
        self.w.shop.refund(sim_order.gid, lines)
        for gid, n, _, _ in lines:
            self.model.shopify_restock(sim_order, branch.id, gid, n)
        self.note("  merchant refunded with restock", sim_order.gid, lines)

    def _learn_lines(self, sim_order: SimOrder) -> None:
        """Lines an exchange added to the order in Shopify (the model learns their ids from Shopify)."""
        by_shopify = {v.shopify_variant_id: v.id for v in self.variants.values()}
        for li in self.w.shop.orders[int(sim_order.gid.rsplit("/", 1)[1])].line_items:
            if li.gid not in sim_order.variants:
                sim_order.variants[li.gid] = by_shopify[self.w.shop.variants[li.variant_id].gid]
                sim_order.lines[li.gid] = li.current_quantity

    async def _other_variant(self, branch_id: int, not_this: int, units: int) -> int | None:
        """A variant on Shopify with `units` free at the branch, other than `not_this`."""
        levels = [
            lv for lv in await StockLevel.filter(branch_id=branch_id).order_by("id")
            if lv.variant_id in self.variants and lv.variant_id != not_this and lv.on_hand - lv.reserved >= units
        ]  # fmt: skip
        return self.rng.choice(levels).variant_id if levels else None

    async def exchange_before_dispatch(self) -> None:
        """The customer wants another size before the parcel leaves: swap reserved units, Shopify's order edited."""
        found = await self._taken_in(lambda o: not o.cancelled and not o.manual_waiting)
        if found is None:
            return
        sim_order, order = found
        open_lines = [
            ln for ln in await OrderLine.filter(order_id=order.id).order_by("id")
            if ln.quantity > ln.fulfilled and ln.variant_id and not ln.shopify_line_item_id.startswith("exchange:")
        ]  # fmt: skip
        if not open_lines or order.branch_id is None:
            return
        line = self.rng.choice(open_lines)
        new_variant = await self._other_variant(order.branch_id, line.variant_id, 1)
        if new_variant is None:
            return
        request = ExchangeRequest(order.id, [SwapLine(line.id, 1, new_variant)], self.key("swap"))
        try:
            await order_exchanges.exchange_before_dispatch(SYSTEM, request)
        except OperationError as refused:
            self.note("  exchange refused", refused.problems[0].code, refused.problems[0].message)
            return
        self._learn_lines(sim_order)
        sim_order.lines[line.shopify_line_item_id] -= 1  # nothing moves physically until it ships
        self.note("  exchanged before dispatch", sim_order.gid, line.variant_id, "->", new_variant)

    async def exchange_after_delivery(self) -> None:
        """A delivered parcel: the customer sends a unit back (sellable or not) and gets another variant."""
        found = await self._taken_in(
            lambda o: not o.refused and not o.manual_waiting and any(n > o.back(g) for g, n in o.shipped.items())
        )
        if found is None:
            return
        sim_order, order = found
        if order.is_cod and order.cod_status.value == "dispatched":
            await order_steps.mark_delivered(SYSTEM, order.id, self.key("delivered"))  # the courier brought the cash
        elif order.is_cod and order.cod_status.value != "delivered":
            return
        by_gid = {ln.shopify_line_item_id: ln for ln in await OrderLine.filter(order_id=order.id)}
        gid = self.rng.choice(sorted(g for g, n in sim_order.shipped.items() if n > sim_order.back(g)))
        line, branch_id = by_gid[gid], order.branch_id
        new_variant = await self._other_variant(branch_id, line.variant_id, 1)
        if new_variant is None:
            return
        damaged = self.rng.random() < 0.3
        request = ExchangeRequest(order.id, [SwapLine(line.id, 1, new_variant, damaged)], self.key("xd"), courier="TCS")
        try:
            await order_exchanges.exchange_delivered_items(SYSTEM, request)
        except OperationError as refused:
            self.note("  delivered exchange refused", refused.problems[0].code, refused.problems[0].message)
            return
        self.model.receive(sim_order, branch_id, gid, 0 if damaged else 1, 1 if damaged else 0)
        self.model.move(branch_id, new_variant, -1)
        self.note("  exchanged after delivery", sim_order.gid, line.variant_id, "->", new_variant, "damaged" * damaged)

    # ------------------------------------------------------------------ faults and the plumbing
    async def shopify_fault(self) -> None:
        faults = self.w.shop.faults
        kind = self.rng.choice(["throttle", "5xx", "5xx", "slow"])
        if kind == "throttle":
            faults.throttle_next(self.rng.randint(1, 3))
        elif kind == "5xx":
            faults.fail_next(self.rng.randint(1, 2), status=self.rng.choice([500, 502, 503]))
        else:  # applied, then answered after the client gave up: was it done?
            faults.delay_next(1, seconds=1.3)
        self.note("  shopify fault", kind)

    async def _collect(self) -> None:
        await self.w.shop.webhooks.drain(10)
        new = self.w.receiver.received[self.taken :]
        self.taken += len(new)
        self.held.extend(new)

    async def _forward(self, delivery) -> None:
        headers = {k: v for k, v in delivery.headers.items() if k.startswith("x-shopify") or k == "content-type"}
        resp = await self.w.client.post(f"{self.w.url}/webhooks/shopify", content=delivery.body, headers=headers)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        self.forwarded += 1

    async def deliver_webhooks(self, *, everything: bool = False) -> None:
        """Some of the held deliveries, shuffled; some twice; a few orders/* ones dropped for good."""
        await self._collect()
        if not self.held:
            return
        self.rng.shuffle(self.held)
        cut = len(self.held) if everything else self.rng.randint(0, len(self.held))
        now, self.held = self.held[:cut], self.held[cut:]
        for delivery in now:
            topic = delivery.headers["x-shopify-topic"]
            if not everything and topic.startswith(DROPPABLE) and self.rng.random() < 0.1:
                self.note("  dropped", topic)
                continue
            await self._forward(delivery)
            if self.rng.random() < 0.15:
                await self._forward(delivery)

    async def _round(self, name: str, work) -> None:
        """One worker round; sometimes the process 'dies' in the middle of it (the task is cancelled)."""
        task = asyncio.ensure_future(work())
        # On both backends: a round cancelled anywhere, even while a transaction begins, rolls back whole
        # and leaves the connection usable (operations/kernel/transactions.py).
        if self.rng.random() < 0.2:
            await asyncio.sleep(self.rng.uniform(0, 0.03))
            if not task.done():
                task.cancel()
                self.kills += 1
                self.note("  killed", name)
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as failed:  # a round that failed is retried by the next one, as the server does
            self.note("  round failed", name, repr(failed)[:200])

    async def work(self) -> None:
        rounds = [
            ("inbox", lambda: shopify_inbox.process_inbox(50)),
            ("push", lambda: shopify_push.push_due(200)),
            ("order actions", lambda: shopify_order_actions.push_order_actions(50)),
        ]
        self.rng.shuffle(rounds)
        for name, work in rounds:
            await self._round(name, work)

    async def poll(self) -> None:
        await self._round("poll", order_poll.poll_orders)
