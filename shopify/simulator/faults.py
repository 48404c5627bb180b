"""Fault injection: counters the endpoint, bulk runner and webhook dispatcher consult before doing work.

Each `*_next(n)` arms a fault for the next n occurrences; `reset()` disarms everything. Kept as plain state so
the Python API and `POST /_sim/faults` share one implementation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class HttpFault:
    status: int
    retry_after: float | None = None


@dataclass
class Faults:
    throttle_remaining: int = 0
    http_failures: list[HttpFault] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    # When a delayed call is a mutation it is applied before the delay, so a client timeout leaves the
    # client unsure whether the write happened: the case @idempotent retries exist for.
    delay_applies_first: bool = True
    bulk_failures: list[tuple[str, bool]] = field(default_factory=list)
    download_failures: list[int] = field(default_factory=list)  # statuses for the next result downloads
    webhook_duplicates: int = 0
    webhook_duplicate_probability: float = 0.0
    webhook_delay: float = 0.0
    webhook_reorder: bool = False
    webhook_drops: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    # Set by SimShop: expiring bulk results needs the shop's operations.
    expire_hook: Callable[[], int] | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- GraphQL endpoint
    def throttle_next(self, n: int = 1) -> None:
        self.throttle_remaining += n

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        if status not in (500, 502, 503, 429):
            raise ValueError("status must be one of 500, 502, 503, 429")
        self.http_failures.extend(HttpFault(status, retry_after) for _ in range(n))

    def delay_next(self, n: int = 1, seconds: float = 1.0) -> None:
        self.delays.extend([seconds] * n)

    def take_throttle(self) -> bool:
        if self.throttle_remaining > 0:
            self.throttle_remaining -= 1
            return True
        return False

    def take_failure(self) -> HttpFault | None:
        return self.http_failures.pop(0) if self.http_failures else None

    def take_delay(self) -> float:
        return self.delays.pop(0) if self.delays else 0.0

    # ---------------------------------------------------------------- bulk operations
    def bulk_fail_next(self, error_code: str = "INTERNAL_SERVER_ERROR", partial: bool = True) -> None:
        if error_code not in ("ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"):
            raise ValueError("error_code must be ACCESS_DENIED, INTERNAL_SERVER_ERROR or TIMEOUT")
        self.bulk_failures.append((error_code, partial))

    def expire_bulk_results(self) -> int:
        """Make every bulk result URL expired now (downloads get 403, COMPLETED ops read as EXPIRED)."""
        return self.expire_hook() if self.expire_hook else 0

    def fail_downloads(self, n: int = 1, status: int = 503) -> None:
        """The next n result downloads answer `status`: 500/502/503 as storage hiccups, 410 as a URL gone."""
        if status not in (500, 502, 503, 410):
            raise ValueError("status must be one of 500, 502, 503, 410")
        self.download_failures.extend([status] * n)

    def take_download_failure(self) -> int | None:
        return self.download_failures.pop(0) if self.download_failures else None

    def take_bulk_failure(self) -> tuple[str, bool] | None:
        return self.bulk_failures.pop(0) if self.bulk_failures else None

    # ---------------------------------------------------------------- webhooks
    def duplicate_webhooks(self, n_or_probability: float = 1) -> None:
        """An int n duplicates the next n deliveries; a float in (0, 1) duplicates each with that chance."""
        if isinstance(n_or_probability, float) and 0 < n_or_probability < 1:
            self.webhook_duplicate_probability = n_or_probability
        else:
            self.webhook_duplicates += int(n_or_probability)

    def delay_webhooks(self, seconds: float) -> None:
        self.webhook_delay = seconds

    def reorder_webhooks(self, enabled: bool = True) -> None:
        self.webhook_reorder = enabled

    def drop_webhooks(self, n: int = 1) -> None:
        self.webhook_drops += n

    def take_drop(self) -> bool:
        if self.webhook_drops > 0:
            self.webhook_drops -= 1
            return True
        return False

    def take_duplicate(self) -> bool:
        if self.webhook_duplicates > 0:
            self.webhook_duplicates -= 1
            return True
        return self.webhook_duplicate_probability > 0 and self.rng.random() < self.webhook_duplicate_probability

    def reset(self) -> None:
        fresh = Faults()
        for name in self.__dataclass_fields__:
            if name != "expire_hook":
                setattr(self, name, getattr(fresh, name))

    def apply(self, spec: dict) -> None:
        """HTTP form: {"throttle_next": 2, "fail_next": {"n": 1, "status": 503}, "drop_webhooks": 1, ...}."""
        for name, arg in spec.items():
            method = getattr(self, name, None)
            if method is None or name.startswith(("take_", "_")) or name in ("apply", "reset"):
                raise ValueError(f"unknown fault {name!r}")
            if arg is True or arg is None:
                method()
            elif isinstance(arg, dict):
                method(**arg)
            elif isinstance(arg, list):
                method(*arg)
            else:
                method(arg)
