"""Background workers, in the server process or in `branchline worker`.

- inventory push (`operations/sync/push.py`): one round every `sync_push_interval` seconds. The
  pause is what lets a burst of sales share a call: every sale between two rounds for the same item
  and location travels as one coalesced change.
- order actions (`operations/sync/order_actions.py`): fulfillmentCreate, fulfillmentOrderMove and
  orderCancel written by fulfilment, routing and cancelling.
- shop writes (`operations/sync/shop_writes.py`): catalog edits (productVariantsBulkUpdate, productUpdate)
  and customers made at the counter (customerCreate).
- webhook inbox (`operations/sync/inbox.py`): stored webhooks handed to the domain.
- orders poll (`operations/sync/orders_poll.py`): orders updated in Shopify since the watermark, so a
  webhook Shopify never delivered is still taken in.
- drift check (`operations/drift/check.py`): Shopify's levels against the ledger, on a schedule.
- fiscal reporting (`operations/fiscal/reporting.py`): sales, returns and voids reported to FBR or PRA.
- export sweep (`operations/reports/exports.py`): deletes report export files past their expiry.

A round that took a full claim (more rows waiting) is followed at once by the next. Several
processes may run the loops side by side: claims (SKIP LOCKED + lease) and `@idempotent` keys keep
any row from being carried out twice. On exit the loops are asked to stop after their current round
and only cancelled if one does not finish in time: a round cut short mid-transaction is safe (it is
retried after its lease) but waiting for it is cleaner, and SQLite in particular dislikes a
connection cancelled inside a transaction.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from operations.drift import check_loop
from operations.fiscal import report_due
from operations.reports import sweep_exports
from operations.sync import close_clients, poll_orders, process_inbox, push_due, push_order_actions, push_shop_writes
from server.settings import Settings

log = logging.getLogger("branchline.workers")

ROUND_LIMIT = 1000  # inventory push rows per round
ORDER_ACTIONS_ROUND = 100
INBOX_ROUND = 100
STOP_GRACE_SECONDS = 10.0


async def _pause(stop: asyncio.Event | None, seconds: float) -> bool:
    """Sleep, or return early (True) when the workers are asked to stop."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    try:
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
        return True
    except TimeoutError:
        return False


async def every(
    name: str,
    interval: float,
    round_: Callable[[], Awaitable[int]],
    *,
    full: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run `round_` every `interval` seconds until `stop` is set (or the task is cancelled). A failed
    round is logged and retried after a growing pause: the work stays in its table, nothing is lost."""
    loop = asyncio.get_running_loop()
    failures = 0
    while stop is None or not stop.is_set():
        started = loop.time()
        try:
            done = await round_()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("%s round failed (%d in a row)", name, failures)
            if await _pause(stop, min(60.0, interval * 2**failures)):
                return
            continue
        if full is not None and done >= full:
            continue  # more are waiting: no pause
        if await _pause(stop, interval - (loop.time() - started)):
            return


async def _push_round(limit: int) -> int:
    report = await push_due(limit)
    if report.handled or report.retrying:
        log.debug("inventory push: %s", report)
    return report.claimed


async def push_loop(interval: float, *, limit: int = ROUND_LIMIT, stop: asyncio.Event | None = None) -> None:
    """The inventory push alone (bench/sync.py runs it beside a burst of sales)."""
    await every("inventory push", interval, lambda: _push_round(limit), full=limit, stop=stop)


def _loops(settings: Settings, stop: asyncio.Event) -> dict[str, Awaitable[None]]:
    loops = {
        "shopify-inventory-push": push_loop(settings.sync_push_interval, stop=stop),
        "shopify-order-actions": every(
            "order actions",
            settings.sync_push_interval,
            lambda: push_order_actions(ORDER_ACTIONS_ROUND),
            full=ORDER_ACTIONS_ROUND,
            stop=stop,
        ),
        "shopify-shop-writes": every(
            "shop writes",
            settings.sync_push_interval,
            lambda: push_shop_writes(ORDER_ACTIONS_ROUND),
            full=ORDER_ACTIONS_ROUND,
            stop=stop,
        ),
        "shopify-webhook-inbox": every(
            "webhook inbox",
            settings.webhook_inbox_interval,
            lambda: process_inbox(INBOX_ROUND),
            full=INBOX_ROUND,
            stop=stop,
        ),
    }
    loops["fiscal-reporting"] = every("fiscal reporting", settings.fbr_interval, report_due, full=1, stop=stop)
    if settings.export_sweep_interval > 0:
        loops["report-export-sweep"] = every("export sweep", settings.export_sweep_interval, sweep_exports, stop=stop)
    if settings.order_poll_interval > 0:
        loops["shopify-orders-poll"] = every("orders poll", settings.order_poll_interval, poll_orders, stop=stop)
    return loops


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[asyncio.Task]:
    """Start the workers (yields the inventory push task); on exit ask them to stop, give them
    STOP_GRACE_SECONDS to finish their round, then cancel what is left. `settings` gives the loops'
    intervals; what the rounds do follows the installed domain settings (operations/kernel/settings.py),
    which the caller installed: the app's lifespan, or `branchline worker`."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop, name=name) for name, loop in _loops(settings, stop).items()]
    # The drift check sleeps for an hour between checks and a check cut short is simply failed by the
    # next one (its heartbeat stops): it is cancelled at once rather than waited for.
    drift = (
        asyncio.create_task(check_loop(settings.drift_check_interval), name="shopify-drift-check")
        if settings.drift_check_interval > 0
        else None
    )
    log.info("workers started: %s", ", ".join(t.get_name() for t in [*tasks, *([drift] if drift else [])]))
    try:
        yield tasks[0]
    finally:
        stop.set()
        if drift is not None:
            drift.cancel()
            tasks.append(drift)
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        for task in late:
            task.cancel()
        for task, outcome in zip(tasks, await asyncio.gather(*tasks, return_exceptions=True), strict=True):
            if isinstance(outcome, Exception) and not isinstance(outcome, asyncio.CancelledError):
                log.error("%s ended with an error: %r", task.get_name(), outcome)
        await close_clients()
