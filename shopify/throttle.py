"""Client-side model of Shopify's GraphQL leaky bucket (calculated query cost).

Shopify charges a query's *requested* cost up front and rejects it with ``THROTTLED`` when the bucket
holds less than that. Every response reports ``throttleStatus`` (maximumAvailable, currentlyAvailable,
restoreRate), so the client can predict the bucket and wait *before* sending instead of being refused:
a refused call costs a round trip and, under load, starves the callers that keep retrying.

One ``CostBucket`` is shared by every caller of one client (one app + shop), guarded by an asyncio lock
so concurrent coroutines queue for points in order instead of all seeing the same "available" value.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

DEFAULT_COST = 50
"""Expected cost of a document we have never sent (Shopify charges ~2 + page size for a connection)."""


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: object) -> ThrottleStatus | None:
        """Read ``extensions.cost.throttleStatus``; None when absent or malformed (never trust it blindly)."""
        try:
            raw = extensions["cost"]["throttleStatus"]  # type: ignore[index]
            status = cls(float(raw["maximumAvailable"]), float(raw["currentlyAvailable"]), float(raw["restoreRate"]))
        except (KeyError, TypeError, ValueError):
            return None
        if status.maximum_available <= 0 or status.restore_rate <= 0:
            return None
        return status


def requested_cost(extensions: object) -> int | None:
    try:
        value = extensions["cost"]["requestedQueryCost"]  # type: ignore[index]
        return int(value) if value is not None else None
    except (KeyError, TypeError, ValueError):
        return None


class CostBucket:
    """Predicts available points and makes callers wait for them.

    The model is the last server reading (``available`` at ``measured_at``) refilled at ``restore_rate``,
    minus the cost of requests sent *after* the request that produced the reading and not answered yet.
    Requests go out in ticket order (tickets are handed out right before sending), so the server charged
    every earlier request before it answered a later one: counting those again would only make us wait
    longer than needed. Before any reading, one probe request finds the bucket.

    Callers take turns (``_turn``) so they are served in arrival order and the one waiting for points
    keeps its place. The bookkeeping itself never awaits, so it needs no lock on the event loop, and
    answers arriving while a caller sleeps update the reading at once (the sleeper re-checks on waking).

    Time is ``max(clock(), not_before)``: after we decide to sleep until T, we reason as if it is T even
    if the injected ``sleep`` returned early (tests record waits instead of sleeping).
    """

    _MAX_RECHECKS = 3  # a sleeper re-plans at most this often when new readings say "not yet"

    def __init__(self, sleep: Callable[[float], Awaitable[object]], clock: Callable[[], float] = time.monotonic):
        self._sleep = sleep
        self._clock = clock
        self._turn = asyncio.Lock()
        self._probe: asyncio.Event | None = None  # set while the first request is finding the bucket
        self.status: ThrottleStatus | None = None
        self._available = 0.0
        self._measured_at = 0.0
        self._not_before = 0.0
        self._in_flight: dict[int, float] = {}  # ticket sequence -> reserved cost
        self._sequence = 0  # tickets handed out, in send order
        self._reading_sequence = 0  # the ticket whose answer gave the current reading
        self.waits: list[float] = []  # every pre-emptive wait, for diagnostics and tests

    def _now(self) -> float:
        return max(self._clock(), self._not_before)

    def estimate(self, now: float | None = None) -> float | None:
        """Points we expect to have right now (None before the first response)."""
        if self.status is None:
            return None
        now = self._now() if now is None else now
        refilled = self._available + (now - self._measured_at) * self.status.restore_rate
        pending = sum(cost for seq, cost in self._in_flight.items() if seq > self._reading_sequence)
        return min(self.status.maximum_available, refilled) - pending

    async def acquire(self, cost: float | Callable[[], float], *, extra_wait: float = 0.0) -> Ticket:
        """Wait until ``cost`` points should be available, then count them as in flight.

        ``cost`` may be a callable, evaluated once the caller's turn comes, so a caller that queued
        behind the first call of a document uses the cost Shopify reported for it. Pass the returned
        ticket to ``release`` when the answer (or failure) is in.
        """
        async with self._turn:
            while self.status is None and self._probe is not None:
                await self._probe.wait()
            if self.status is None:
                self._probe = asyncio.Event()
                if extra_wait > 0:
                    await self._sleep(extra_wait)
                return self._ticket(0.0, probe=True)
            wait = extra_wait
            for _ in range(self._MAX_RECHECKS):
                # A cost above the bucket size could never be satisfied; the server will reject it itself.
                wanted = min(float(cost() if callable(cost) else cost), self.status.maximum_available)
                now = self._now()
                available = self.estimate(now)
                assert available is not None
                if wanted > available:
                    wait += (wanted - available) / self.status.restore_rate
                if wait <= 0:
                    break
                self.waits.append(wait)
                self._not_before = now + wait
                await self._sleep(wait)
                wait = 0.0
            return self._ticket(wanted)

    def _ticket(self, cost: float, *, probe: bool = False) -> Ticket:
        self._sequence += 1
        self._in_flight[self._sequence] = cost
        return Ticket(cost, self._sequence, probe=probe)

    async def release(self, ticket: Ticket, status: ThrottleStatus | None) -> None:
        """Record the answer to a request: drop its in-flight cost and adopt the server's reading.

        A reading is adopted only if its request was sent after the one behind the current reading:
        answers can overtake each other, and an older (fuller) reading would make us over-spend. (The
        newer reading already includes the older request, which Shopify processed first.)
        """
        self._in_flight.pop(ticket.sequence, None)
        if status is None:
            if ticket.sequence > self._reading_sequence and self.status is not None:
                # No reading (transport failure, non-Shopify answer): assume it was charged in full.
                self._available -= ticket.cost
        elif ticket.sequence > self._reading_sequence:
            self.status = status
            self._available = status.currently_available
            self._measured_at = self._now()
            self._reading_sequence = ticket.sequence
        if ticket.probe and self._probe is not None:
            self._probe.set()
            self._probe = None


@dataclass(frozen=True)
class Ticket:
    cost: float
    sequence: int
    probe: bool = False


BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


def backoff_delay(
    attempt: int, rng: Callable[[], float], *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))].

    Full jitter (rather than a fixed schedule) spreads out the retries of many workers that failed
    together, so they do not hit a recovering Shopify in lock step.
    """
    return rng() * min(cap, base * (2 ** max(0, attempt - 1)))


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: either a (possibly fractional) number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, IndexError):
            return None
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
