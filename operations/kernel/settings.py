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
from enum import StrEnum
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
    """The inventory push, the order actions and the shop writes (sync/push.py, sync/order_actions.py,
    sync/shop_writes.py)."""

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


class AboveThreshold(StrEnum):
    """A sale above the buyer threshold whose customer gives no CNIC or NTN (docs/fbr.md)."""

    REFUSE = "refuse"  # checkout refuses it (BUYER_DETAILS_REQUIRED): the cashier names the customer
    FLAG = "flag"  # it goes through and its invoice is reported with a flag for a person


class RepeatedUsin(StrEnum):
    """What to do when the authority refuses a USIN it already holds (its behaviour is undocumented)."""

    RECORDED = "recorded"  # it holds it: mark the document recorded, waiting for a person to fill in the number
    PARK = "park"  # treat it as any refusal: parked for a person


@dataclass(frozen=True)
class FiscalSettings:
    """FBR / PRA fiscal reporting (operations/fiscal/, docs/fbr.md); the uncertain facts are settings."""

    # The authorities' PostData endpoints (FBR IMS production; PRA's EIMS production): tests and the demo
    # point them at the simulator.
    fbr_url: str = "https://gw.fbr.gov.pk/imsp/v1/api/Live/PostData"
    pra_url: str = "https://ims.pral.com.pk/ims/production/api/Live/PostData"
    timeout: float = 10.0  # seconds per post; a post that takes longer is resent with the same USIN
    lease_seconds: float = 60.0  # a claimed invoice is another worker's to send after this long
    max_attempts: int = 20  # failed sends before an invoice is parked for a person to requeue
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    batch: int = 20  # invoices one claim takes
    ageing_hours: float = 24.0  # not reported after this long: an ageing alert (rule 150XC, 24 hours)
    buyer_threshold: Decimal = Decimal("100000")  # SRO 1006(I)/2021: buyer named above Rs 100,000
    above_threshold: AboveThreshold = AboveThreshold.REFUSE
    repeated_usin: RepeatedUsin = RepeatedUsin.RECORDED
    pos_fee: Decimal = Decimal("1.00")  # SRO 1279(I)/2021: printed on the receipt, kept out of the tax fields
    # The PCT code a line without one is sent with (PRA's spec default); the invoice is flagged either way.
    default_pct_code: str = "00000000"
    # Karachi time: the authority reads DateTime as local time.
    timezone: str = "Asia/Karachi"


@dataclass(frozen=True)
class LoyaltySettings:
    """The points wallet (directory/loyalty.py). A branch may set its own earn rate (its
    `loyalty_points_per_100_pkr`); this is the rate of a branch that has not."""

    points_per_100_pkr: Decimal = Decimal("1")  # points earned per PKR 100 paid (not with points), rounded down
    point_value: Decimal = Decimal("1.00")  # PKR a point pays for as a LOYALTY tender
    expiry_days: int = 0  # an earn's unused points expire this many days later; 0: never


@dataclass(frozen=True)
class ReportSettings:
    """Report exports (reports/exports.py): where files are written (empty: the system's temporary directory),
    how long a file is kept, and how long a download link works."""

    export_dir: str = ""
    export_ttl_seconds: float = 3600.0
    link_seconds: float = 300.0


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
    loyalty: LoyaltySettings = LoyaltySettings()
    fiscal: FiscalSettings = FiscalSettings()
    reports: ReportSettings = ReportSettings()

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
