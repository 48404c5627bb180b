"""Settings from `BRANCHLINE_*` environment variables (pydantic-settings), read once (`get_settings`).

The domain's part of them reaches operations as one immutable object, `domain_settings(settings)`,
installed by the app factory's lifespan (server/app.py) or, for commands without an app, by
server/cli.py (operations/kernel/settings.py).
"""

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from operations.kernel import (
    DEVELOPMENT_SECRET,
    PRODUCTION_HASHING,
    AboveThreshold,
    DomainSettings,
    FiscalSettings,
    InboxSettings,
    LoyaltySettings,
    OnlineOrders,
    PasswordHashing,
    PinRules,
    PushSettings,
    RepeatedUsin,
    ReportSettings,
    SalesPolicy,
    SecretKeys,
    ShopifySettings,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRANCHLINE_", env_file=".env", extra="ignore")

    # Embedded default: a SQLite file in the working directory. WAL and a generous busy timeout so
    # a second process (a CLI `check` beside `serve`) waits instead of failing.
    database_url: str = "sqlite://branchline.sqlite3?busy_timeout=15000"
    broadcast_url: str = "memory://"
    # Derives the keys for secrets at rest (Shopify and FBR tokens) and for PIN digests. `serve` and
    # `worker` refuse the development value outside the demo: `branchline generate-secret` makes one.
    secret_key: str = Field(default=DEVELOPMENT_SECRET, repr=False)
    # After a rotation: the old secret keys, comma-separated, still read until re-encrypted (docs/security.md).
    previous_secret_keys: str = Field(default="", repr=False)
    # Password hashing (argon2id); the defaults are the production ones (operations/kernel/passwords.py).
    argon2_time_cost: int = PRODUCTION_HASHING["time_cost"]
    argon2_memory_kib: int = PRODUCTION_HASHING["memory_cost"]
    argon2_parallelism: int = PRODUCTION_HASHING["parallelism"]
    # Digits a PIN needs when its owner can approve overrides (managers, owners, admins).
    approver_pin_digits: int = 6
    # Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks, "*" for
    # any): the client address is what the wrong-password limits count per. Only list your own proxies.
    trusted_proxies: str = "127.0.0.1"
    # Development: GraphiQL and introspection on. Never in production.
    debug: bool = False
    # Schema introspection without GraphiQL (e.g. for a staging dashboard build).
    introspection: bool = False
    # Live subscribers that fall this many events behind are disconnected (close code 4801).
    subscriber_queue_size: int = 1000
    # Selling rules (operations/kernel/settings.py `SalesPolicy`).
    retailer_name: str = "Branchline Store"
    prices_include_tax: bool = True
    discount_approval_percent: Decimal = Decimal("20")
    refund_approval_amount: Decimal = Decimal("20000")
    # Stock adjustments moving more units than this need a manager's approval (PIN or APPROVE).
    adjustment_approval_units: int = 20
    # Loyalty (operations/kernel/settings.py `LoyaltySettings`): points per PKR 100 paid (a branch may set its
    # own), what a point pays for, and days until an earn's unused points expire (0: never).
    loyalty_points_per_100_pkr: Decimal = Decimal("1")
    loyalty_point_value: Decimal = Decimal("1.00")
    loyalty_expiry_days: int = 0
    # Where Shopify sends webhooks: this server's address as Shopify's servers see it.
    public_url: str = "http://127.0.0.1:8000"
    # Development and tests only: reach the shop here instead of https://{shop domain} (the simulator).
    shopify_base_url: str | None = None
    # The Shopify client's tries per call and its backoff (exponential, full jitter) between them.
    shopify_attempts: int = Field(default=8, ge=1)
    shopify_backoff_base: float = Field(default=0.5, gt=0)
    shopify_backoff_cap: float = Field(default=30.0, gt=0)
    # The Shopify inventory push (operations/sync/push.py). `run_workers=false` on servers when
    # `branchline worker` processes do the pushing.
    run_workers: bool = True
    sync_push_interval: float = 0.5  # seconds between push rounds: a burst's sales share one call
    sync_max_attempts: int = 10  # failed sends before a push is parked for a person to retry
    sync_lease_seconds: float = 60.0  # a claimed push is another worker's to retry after this long
    # The webhook inbox worker (operations/sync/inbox.py) and the orders poll that recovers missed webhooks.
    webhook_inbox_interval: float = 0.5  # seconds between inbox rounds
    webhook_max_attempts: int = 8  # failed tries before a webhook is parked for a person to retry
    webhook_lease_seconds: float = 60.0  # a claimed webhook is another worker's to take after this long
    order_poll_interval: float = 300.0  # seconds between polls for orders updated in Shopify; 0 = never
    drift_check_interval: float = 3600.0  # seconds between drift checks against Shopify; 0 = never
    # FBR / PRA fiscal reporting (operations/fiscal/, docs/fbr.md).
    fbr_url: str = (
        FiscalSettings.fbr_url
    )  # FBR IMS PostData (the sandbox: https://esp.fbr.gov.pk:8244/FBR/v1/api/Live/PostData)
    fbr_pra_url: str = FiscalSettings.pra_url  # PRA EIMS PostData
    fbr_timeout: float = FiscalSettings.timeout
    fbr_interval: float = 0.5  # seconds between the fiscal worker's rounds
    fbr_max_attempts: int = FiscalSettings.max_attempts
    fbr_lease_seconds: float = FiscalSettings.lease_seconds
    fbr_backoff_base: float = FiscalSettings.backoff_base
    fbr_backoff_cap: float = FiscalSettings.backoff_cap
    fbr_ageing_hours: float = FiscalSettings.ageing_hours
    fbr_buyer_threshold: Decimal = FiscalSettings.buyer_threshold
    fbr_above_threshold: AboveThreshold = FiscalSettings.above_threshold
    fbr_repeated_usin: RepeatedUsin = FiscalSettings.repeated_usin
    fbr_pos_fee: Decimal = FiscalSettings.pos_fee
    export_dir: str = ""  # where report exports are written; empty: the system's temporary directory
    export_ttl_seconds: float = 3600.0  # an export's file is deleted this long after it was made
    export_link_seconds: float = 300.0  # a download link works this long
    export_sweep_interval: float = 300.0  # seconds between sweeps of expired export files
    # Payment gateway names (comma-separated, case-insensitive) that make an online order cash on delivery.
    cod_gateways: str = "Cash on Delivery (COD),cash_on_delivery,COD"
    max_query_depth: int = 12
    max_query_tokens: int = 4000
    max_aliases: int = 30
    # GraphQL edge limits
    # Fields an operation may select, each fragment counted every time it is spread (schema/limits.py).
    max_query_cost: int = 3000
    # Characters in any one text of a request, literal or variable (schema/text_limits.py).
    max_text_length: int = 10_000
    # HTTP and WebSocket edge limits
    # Bytes in a request body (413 beyond, server/limits.py) and in a WebSocket message (closed 1009).
    max_request_bytes: int = 1024 * 1024
    # Shopify's webhooks may be larger (orders with hundreds of lines): docs/webhooks.md.
    max_webhook_bytes: int = 5 * 1024 * 1024
    # Bytes one socket may owe a peer that is not reading, and seconds it may stay that far behind
    # before it is closed as a slow consumer, 4801 (server/websocket_protocol.py).
    ws_outbound_buffer_bytes: int = 256 * 1024
    ws_send_timeout: float = 10.0
    # Operations at once on one WebSocket (subscriptions, and queries and mutations sent over it).
    ws_max_subscriptions: int = 20
    # Open WebSockets per sign-in session, counted in each server process (subscriptions/sessions.py).
    ws_max_sockets_per_session: int = 10


@lru_cache
def get_settings() -> Settings:
    return Settings()


def domain_settings(settings: Settings) -> DomainSettings:
    """What operations need of these settings, as the one object installed for them."""
    return DomainSettings(
        policy=SalesPolicy(
            retailer_name=settings.retailer_name,
            prices_include_tax=settings.prices_include_tax,
            discount_approval_percent=settings.discount_approval_percent,
            refund_approval_amount=settings.refund_approval_amount,
            adjustment_approval_units=settings.adjustment_approval_units,
        ),
        pins=PinRules(approver_digits=settings.approver_pin_digits),
        passwords=PasswordHashing(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        keys=SecretKeys(
            settings.secret_key, tuple(k.strip() for k in settings.previous_secret_keys.split(",") if k.strip())
        ),
        loyalty=LoyaltySettings(
            points_per_100_pkr=settings.loyalty_points_per_100_pkr,
            point_value=settings.loyalty_point_value,
            expiry_days=settings.loyalty_expiry_days,
        ),
        orders=OnlineOrders(cod_gateways=frozenset(settings.cod_gateways.split(","))),
        shopify=ShopifySettings(
            public_url=settings.public_url,
            base_url=settings.shopify_base_url,
            attempts=settings.shopify_attempts,
            backoff_base=settings.shopify_backoff_base,
            backoff_cap=settings.shopify_backoff_cap,
        ),
        push=PushSettings(max_attempts=settings.sync_max_attempts, lease_seconds=settings.sync_lease_seconds),
        fiscal=FiscalSettings(
            fbr_url=settings.fbr_url,
            pra_url=settings.fbr_pra_url,
            timeout=settings.fbr_timeout,
            max_attempts=settings.fbr_max_attempts,
            lease_seconds=settings.fbr_lease_seconds,
            backoff_base=settings.fbr_backoff_base,
            backoff_cap=settings.fbr_backoff_cap,
            ageing_hours=settings.fbr_ageing_hours,
            buyer_threshold=settings.fbr_buyer_threshold,
            above_threshold=settings.fbr_above_threshold,
            repeated_usin=settings.fbr_repeated_usin,
            pos_fee=settings.fbr_pos_fee,
        ),
        inbox=InboxSettings(
            max_attempts=settings.webhook_max_attempts,
            lease_seconds=settings.webhook_lease_seconds,
            handler_timeout=max(1.0, settings.webhook_lease_seconds / 2),
        ),
        reports=ReportSettings(
            export_dir=settings.export_dir,
            export_ttl_seconds=settings.export_ttl_seconds,
            link_seconds=settings.export_link_seconds,
        ),
    )
