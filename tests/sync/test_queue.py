"""The pure parts of the queues' machinery (operations/sync/queue.py), without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from operations.sync import queue
from operations.sync.inbox import QUEUE as INBOX
from operations.sync.order_actions import QUEUE as ORDER_ACTIONS

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_the_backoff_doubles_from_the_base_up_to_the_cap():
    ceilings = [queue.backoff_seconds(attempt, 1.0, 300.0, jitter=1.0) for attempt in range(1, 12)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
    assert queue.backoff_seconds(0, 1.0, 300.0, jitter=1.0) == 1.0  # no attempt yet: the base


def test_the_jitter_takes_off_at_most_half():
    assert queue.backoff_seconds(3, 1.0, 300.0, jitter=0.0) == 2.0
    assert queue.backoff_seconds(3, 1.0, 300.0, jitter=0.5) == 3.0
    for _ in range(200):  # drawn at random when not given
        assert 2.0 <= queue.backoff_seconds(3, 1.0, 300.0) <= 4.0


def test_a_retry_is_due_after_the_backoff():
    when = queue.retry_at(NOW, 2, 10.0, 300.0)
    assert NOW + timedelta(seconds=10) <= when <= NOW + timedelta(seconds=20)


@pytest.mark.parametrize(("attempt", "last", "beyond"), [(1, False, False), (3, True, False), (4, True, True)])
def test_the_attempt_that_uses_up_the_tries_is_the_last(attempt, last, beyond):
    assert queue.is_last_attempt(attempt, 3) is last
    assert queue.is_beyond_last_attempt(attempt, 3) is beyond


def test_one_try_means_the_first_failure_parks():
    assert queue.is_last_attempt(1, 1)


def test_a_lease_ends_after_its_seconds():
    assert queue.lease_until(NOW, 60) == NOW + timedelta(minutes=1)


def test_how_long_until_the_next_row_is_due():
    assert queue.seconds_until_due(0, None, NOW) is None  # nothing left
    assert queue.seconds_until_due(2, None, NOW) == 0.0  # due at once
    assert queue.seconds_until_due(1, NOW + timedelta(seconds=5), NOW) == 5.0
    assert queue.seconds_until_due(1, NOW - timedelta(seconds=5), NOW) == -5.0  # overdue


def test_every_claim_draws_its_own_token():
    assert queue.new_token() != queue.new_token()


def test_an_outbox_topic_keeps_its_claimed_rows_pending():
    assert ORDER_ACTIONS == queue.outbox("shopify.order_action")
    assert (ORDER_ACTIONS.table, ORDER_ACTIONS.holder, ORDER_ACTIONS.unfinished) == ("outbox", "batch", ("pending",))
    assert not ORDER_ACTIONS.counts_claims  # only failures count
    assert queue.due_condition(ORDER_ACTIONS) == (
        "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND topic = ?"
    )
    assert queue.due_values(ORDER_ACTIONS, "now") == ["now", "shopify.order_action"]


def test_an_inbox_row_is_due_when_waiting_or_when_its_lease_ran_out():
    assert INBOX.unfinished == ("pending", "retrying", "processing") and INBOX.counts_claims
    assert queue.due_condition(INBOX, "i") == (
        "((i.status IN ('pending', 'retrying') AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= ?))"
        " OR (i.status = 'processing' AND i.next_attempt_at <= ?))"
    )
    assert queue.due_values(INBOX, "now") == ["now", "now"]


def test_sql_lists():
    assert queue.statuses(["exception", "parked"]) == "'exception', 'parked'"
    assert queue.marks([7, 8, 9]) == "?, ?, ?"
