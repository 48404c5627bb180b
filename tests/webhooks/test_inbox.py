"""The inbox worker: dispatch by topic, exceptions, retries and parking, order, staleness, leases."""

import asyncio
import inspect

from models.inbox import InboxStatus
from operations.kernel.errors import ErrorCode, OperationError
from operations.sync import inbox as shopify_inbox
from tests.webhooks.conftest import Recorder, lease_ran_out, next_id, order_payload, rows


def gid(order_id: int) -> str:
    return f"gid://shopify/Order/{order_id}"


async def test_operation_error_becomes_an_exception_and_the_worker_goes_on(branchline):
    recorder = Recorder()
    bad, good = next_id(), next_id()
    recorder.raise_for[gid(bad)] = [OperationError.single(ErrorCode.UNKNOWN_VARIANT, "no variant 77 in Branchline")]
    await branchline.deliver("orders/create", order_payload(bad, "2026-11-26T15:00:00+05:00"))
    await branchline.deliver("orders/create", order_payload(good, "2026-11-26T15:00:00+05:00"))
    with shopify_inbox.override_handlers({"orders/create": recorder}):
        await shopify_inbox.drain_inbox(5)
    failed, done = await rows()
    assert (failed.status, failed.error_code, failed.attempts) == (InboxStatus.EXCEPTION, "UNKNOWN_VARIANT", 1)
    assert "no variant 77" in failed.last_error
    assert done.status == InboxStatus.DONE and recorder.ids() == [gid(bad), gid(good)]
    figures = await shopify_inbox.inbox_figures()
    assert (figures.pending, figures.exceptions, figures.parked) == (0, 1, 0)

    # Once the cause is fixed, a person puts it back and it goes through.
    recorder.raise_for.clear()
    assert await shopify_inbox.retry_webhooks(ids=[failed.id]) == 1
    with shopify_inbox.override_handlers({"orders/create": recorder}):
        await shopify_inbox.drain_inbox(5)
    assert [r.status for r in await rows()] == [InboxStatus.DONE, InboxStatus.DONE]


async def test_transient_failure_is_retried_with_backoff_then_parked(branchline, fast_inbox):
    recorder = Recorder()
    flaky, broken = next_id(), next_id()
    recorder.raise_for[gid(flaky)] = [RuntimeError("database went away")]
    recorder.raise_for[gid(broken)] = [RuntimeError("still broken")]
    await branchline.deliver("orders/updated", order_payload(flaky, "2026-11-26T15:00:00+05:00"))
    await branchline.deliver("orders/updated", order_payload(broken, "2026-11-26T15:00:00+05:00"))
    with shopify_inbox.override_handlers({"orders/updated": recorder}):
        assert await shopify_inbox.process_inbox() == 2
        first, second = await rows()
        assert first.status == second.status == InboxStatus.RETRYING
        assert first.next_attempt_at is not None and "database went away" in first.last_error
        recorder.raise_for.pop(gid(flaky))  # healed
        await shopify_inbox.drain_inbox(5)
    first, second = await rows()
    assert (first.status, first.attempts) == (InboxStatus.DONE, 2)
    assert (second.status, second.attempts) == (InboxStatus.PARKED, fast_inbox.max_attempts)
    assert "RuntimeError: still broken" in second.last_error
    assert recorder.ids().count(gid(broken)) == fast_inbox.max_attempts
    assert (await shopify_inbox.inbox_figures()).parked == 1


async def test_one_resource_is_processed_in_the_order_received(branchline):
    """The second webhook of an order waits while the first one is retrying; other orders don't."""
    recorder = Recorder()
    order, other = next_id(), next_id()
    recorder.raise_for[gid(order)] = [RuntimeError("not yet")]
    await branchline.deliver("orders/create", order_payload(order, "2026-11-26T15:00:00+05:00"))
    await branchline.deliver("orders/updated", order_payload(order, "2026-11-26T15:00:05+05:00"))
    await branchline.deliver("orders/create", order_payload(other, "2026-11-26T15:00:00+05:00"))
    handlers = {"orders/create": recorder, "orders/updated": recorder}
    with shopify_inbox.override_handlers(handlers):
        await shopify_inbox.process_inbox()
        created, updated, _ = await rows()
        assert created.status == InboxStatus.RETRYING and updated.status == InboxStatus.PENDING
        assert [t for t, _, _ in recorder.calls] == ["orders/create", "orders/create"]  # not the update
        recorder.raise_for.clear()
        await shopify_inbox.drain_inbox(5)
    assert [(t, p["id"]) for t, p, _ in recorder.calls] == [
        ("orders/create", order),
        ("orders/create", other),
        ("orders/create", order),
        ("orders/updated", order),
    ]


async def test_older_update_after_a_newer_one_is_stale(branchline):
    recorder = Recorder()
    order = next_id()
    newer = order_payload(order, "2026-11-26T15:00:09+05:00", note="newer")
    older = order_payload(order, "2026-11-26T15:00:02+05:00", note="older")
    with shopify_inbox.override_handlers({"orders/updated": recorder}):
        await branchline.deliver("orders/updated", newer)
        await shopify_inbox.drain_inbox(5)
        await branchline.deliver("orders/updated", older)
        await shopify_inbox.drain_inbox(5)
    assert [p["note"] for _, p, _ in recorder.calls] == ["newer"]
    assert [r.status for r in await rows()] == [InboxStatus.DONE, InboxStatus.STALE]


def test_every_handled_topic_has_its_handler_imported():
    """Handlers register by import (operations/sync/webhook_topics.py): one that is missing fails at
    start, so no webhook can find a topic listed without a function behind it."""
    from operations.sync.webhook_topics import HANDLERS

    assert HANDLERS and all(inspect.iscoroutinefunction(handler) for handler in HANDLERS.values())
    assert {"orders/create", "fulfillments/create", "refunds/create", "inventory_levels/update"} <= set(HANDLERS)


async def test_rows_of_a_dead_worker_are_claimed_again_after_the_lease(branchline, fast_inbox, change_settings):
    recorder = Recorder()
    change_settings(inbox={"lease_seconds": 0.3})
    await branchline.deliver("orders/create", order_payload(next_id(), "2026-11-26T15:00:00+05:00"))
    dead = await shopify_inbox.claim(10)  # a worker claims the row, then dies without an outcome
    assert len(dead) == 1
    with shopify_inbox.override_handlers({"orders/create": recorder}):
        assert await shopify_inbox.process_inbox() == 0  # leased: nobody else takes it yet
        await lease_ran_out(dead[0].webhook_id)
        assert await shopify_inbox.process_inbox() == 1
    [row] = await rows()
    assert (row.status, row.attempts) == (InboxStatus.DONE, 2) and len(recorder.calls) == 1
    # The dead worker wakes up late: its outcome is not recorded over the one that took over.
    await shopify_inbox._finish(dead[0], "parked", error="late")
    assert (await rows())[0].status == InboxStatus.DONE


async def test_a_row_that_keeps_killing_its_worker_is_parked(branchline, fast_inbox, change_settings):
    change_settings(inbox={"lease_seconds": 0.05})
    await branchline.deliver("orders/create", order_payload(next_id(), "2026-11-26T15:00:00+05:00"))
    for _ in range(fast_inbox.max_attempts):
        assert len(await shopify_inbox.claim(10)) == 1
        await asyncio.sleep(0.07)
    recorder = Recorder()
    with shopify_inbox.override_handlers({"orders/create": recorder}):
        await shopify_inbox.drain_inbox(2)
    [row] = await rows()
    assert row.status == InboxStatus.PARKED and "without finishing" in row.last_error and not recorder.calls


async def test_concurrent_workers_handle_each_webhook_once(branchline):
    recorder = Recorder()

    async def slow(topic, payload, *, webhook_id=None):
        await asyncio.sleep(0.005)
        await recorder(topic, payload, webhook_id=webhook_id)

    orders = [next_id() for _ in range(12)]
    for order in orders:
        await branchline.deliver("orders/create", order_payload(order, "2026-11-26T15:00:00+05:00"))
        await branchline.deliver("orders/updated", order_payload(order, "2026-11-26T15:00:07+05:00"))
    with shopify_inbox.override_handlers({"orders/create": slow, "orders/updated": slow}):
        await asyncio.gather(*(shopify_inbox.drain_inbox(10) for _ in range(4)))
    assert sorted(recorder.ids()) == sorted(gid(o) for o in orders for _ in range(2))
    for order in orders:  # each order's create before its update, whichever worker took them
        topics = [t for t, p, _ in recorder.calls if p["id"] == order]
        assert topics == ["orders/create", "orders/updated"]
    assert {r.status for r in await rows()} == {InboxStatus.DONE}
