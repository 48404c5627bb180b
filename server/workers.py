"""Background workers: the Shopify inventory push, in the server process or in `branchline worker`.

The loop runs one push round every `sync_push_interval` seconds. The pause is what lets a burst of
sales share a call: every sale between two rounds for the same item and location travels as one
coalesced change. A round that took a full claim (more rows waiting) is followed at once by the next.
Several processes may run the loop side by side: the claim (SKIP LOCKED + lease) and the batch's
`@idempotent` key keep any movement from being pushed twice.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from operations import shopify_push
from server.settings import Settings

log = logging.getLogger("branchline.workers")

ROUND_LIMIT = 1000  # rows per round


def configure_push(settings: Settings) -> None:
    shopify_push.configure(max_attempts=settings.sync_max_attempts, lease_seconds=settings.sync_lease_seconds)


async def push_loop(interval: float, *, limit: int = ROUND_LIMIT) -> None:
    """Push until cancelled. Errors are logged and the next round tries again: nothing is lost, it
    is all in the outbox."""
    loop = asyncio.get_running_loop()
    failures = 0
    while True:
        started = loop.time()
        try:
            report = await shopify_push.push_due(limit)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("inventory push round failed (%d in a row)", failures)
            await asyncio.sleep(min(30.0, interval * 2**failures))
            continue
        if report.claimed >= limit:
            continue  # more are waiting: no pause
        if report.handled or report.retrying:
            log.debug("inventory push: %s", report)
        await asyncio.sleep(max(0.0, interval - (loop.time() - started)))


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[asyncio.Task]:
    """Start the workers; on exit cancel them and wait for them to stop (a push cut short by the
    cancel is retried after its lease, under the same key)."""
    configure_push(settings)
    task = asyncio.create_task(push_loop(settings.sync_push_interval), name="shopify-inventory-push")
    log.info("inventory push worker started (every %.2fs)", settings.sync_push_interval)
    try:
        yield task
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("inventory push worker ended with an error")
        await shopify_push.close_clients()
