"""The domain's settings: one immutable object, installed once, read by operations at call time.

server/settings.py reads `BRANCHLINE_*` once; the app factory (server/app.py, in its lifespan), or a
command or the worker entry of server/cli.py, which have no app, turns it into one `DomainSettings`
and installs it here. Operations read `current()` when they run, never at import, and never keep a
copy. Nothing changes a setting in place: every group is a frozen dataclass, and a change is a new
object installed in its place (`installed`, `DomainSettings.changed`: the demo pointing Shopify at its
simulator, tests that try one value). What is derived from settings (the argon2 hasher and its dummy
hash in operations/kernel/passwords.py, the Fernet keys in operations/kernel/secrets.py) is cached
per settings value, so a newly installed object brings its own.

The groups live here, in the kernel, so that every context can read its own without importing the
others (docs/architecture.md, rule 8); each says which context reads it.
"""

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DEVELOPMENT_SECRET = "dev-only-change-me"


@dataclass(frozen=True)
class SalesPolicy:
    """The retailer's selling rules (counter/, stock/adjustments.py)."""

    # Pakistani shelf prices include sales tax; some chains print them exclusive.
    prices_include_tax: bool = True
    currency: str = "PKR"
    # A discount above this share of the line (or order) needs a manager's PIN.
    discount_approval_percent: Decimal = Decimal("20")
    # A refund above this amount needs a manager's PIN.
    refund_approval_amount: Decimal = Decimal("20000")
    # A stock adjustment moving more units than this (all lines together) needs a manager's approval.
    adjustment_approval_units: int = 20
    retailer_name: str = "Branchline Store"


@dataclass(frozen=True)
class PinRules:
    """Choosing a PIN (directory/pins.py, which keeps the digits within its MIN_DIGITS..MAX_DIGITS)."""

    # PINs of those who can approve overrides (voids, refunds, price overrides) are longer: one of
    # them unlocks the till's money, so it must outlast many more guesses than a cashier's.
    approver_digits: int = 6


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id parameters (kernel/passwords.py). The defaults are the production ones: argon2-cffi's,
    RFC 9106's second recommended option, 3 passes over 64 MiB, 4 lanes."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


@dataclass(frozen=True)
class SecretKeys:
    """The server secret and, after a rotation, the previous ones (kernel/keys.py, kernel/secrets.py)."""

    secret: str = field(default=DEVELOPMENT_SECRET, repr=False)
    previous: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        kept = tuple(p for p in self.previous if p and p != self.secret)
        object.__setattr__(self, "previous", kept)


DEFAULT_COD_GATEWAYS = ("Cash on Delivery (COD)", "cash_on_delivery", "COD")


def _gateway_names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in names if n.strip())


@dataclass(frozen=True)
class OnlineOrders:
    """Online orders (orders/payloads.py): the payment gateway names that mean cash on delivery (kept
    stripped and lowercased, compared so)."""

    cod_gateways: frozenset[str] = _gateway_names(DEFAULT_COD_GATEWAYS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cod_gateways", _gateway_names(self.cod_gateways))


@dataclass(frozen=True)
class ShopifySettings:
    """Reaching the shop (sync/connection.py)."""

    public_url: str = "http://127.0.0.1:8000"  # where Shopify sends webhooks: this server as Shopify sees it
    base_url: str | None = None  # the simulator, in development and tests
    timeout: float = 10.0  # seconds per Shopify request; a request that takes longer is retried
    # The client's tries per call (and per bulk download), and its backoff between them: exponential
    # from `backoff_base` seconds, capped at `backoff_cap`, full jitter (shopify/throttle.py).
    attempts: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        object.__setattr__(self, "base_url", self.base_url.rstrip("/") if self.base_url else None)


@dataclass(frozen=True)
class PushSettings:
    """The inventory push and the order actions (sync/push.py, sync/order_actions.py)."""

    lease_seconds: float = 60.0  # a claimed batch is someone else's to retry after this long
    max_attempts: int = 10  # failed sends before a batch is parked
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    client_attempts: int = 5  # the client's own retries within one send (the outbox retries beyond)


@dataclass(frozen=True)
class InboxSettings:
    """The webhook inbox (sync/inbox.py)."""

    lease_seconds: float = 60.0  # a claimed row is another worker's to take after this long
    max_attempts: int = 8  # tries (transient failures, or workers dying mid-row) before parking
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    handler_timeout: float = 30.0  # a handler taking longer is cut off and retried (kept below the lease)


@dataclass(frozen=True)
class DriftSettings:
    """The drift check (drift/check.py)."""

    bulk_poll_interval: float = 1.0  # seconds between looks at Shopify's bulk export of levels (first one)


@dataclass(frozen=True)
class DomainSettings:
    policy: SalesPolicy = SalesPolicy()
    pins: PinRules = PinRules()
    passwords: PasswordHashing = PasswordHashing()
    keys: SecretKeys = SecretKeys()
    orders: OnlineOrders = OnlineOrders()
    shopify: ShopifySettings = ShopifySettings()
    push: PushSettings = PushSettings()
    inbox: InboxSettings = InboxSettings()
    drift: DriftSettings = DriftSettings()

    def changed(self, **groups: Any) -> "DomainSettings":
        """A copy with some groups changed: each value is a whole group, or a mapping of the fields of
        that group to change (`changed(push={"max_attempts": 1})`)."""
        updates = {
            name: dataclasses.replace(getattr(self, name), **value) if isinstance(value, Mapping) else value
            for name, value in groups.items()
        }
        return dataclasses.replace(self, **updates)


class SettingsNotInstalled(RuntimeError):
    pass


_installed: DomainSettings | None = None


def install(settings: DomainSettings) -> None:
    """Make these the settings every operation reads from now on (the one place that holds them)."""
    global _installed
    if not isinstance(settings, DomainSettings):
        raise TypeError(f"expected DomainSettings, got {type(settings).__name__}")
    _installed = settings


def current() -> DomainSettings:
    if _installed is None:
        raise SettingsNotInstalled(
            "no settings installed: the app factory, the command line or the worker installs them"
            " (operations/kernel/settings.py)"
        )
    return _installed


@contextmanager
def installed(settings: DomainSettings) -> Iterator[DomainSettings]:
    """These settings inside the block, and what was installed before (possibly nothing) after it."""
    global _installed
    previous = _installed
    install(settings)
    try:
        yield settings
    finally:
        _installed = previous
