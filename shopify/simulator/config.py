"""Knobs for behaviour the reference marks UNCERTAIN or that tests need small (delays, retry schedule)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Mutations that take `@idempotent(key:)`; from 2026-04 the directive is required on them at runtime.
IDEMPOTENT_MUTATIONS = frozenset(
    {
        "inventoryAdjustQuantities",
        "inventorySetQuantities",
        "inventoryMoveQuantities",
        "inventoryActivate",
        "refundCreate",
    }
)


@dataclass
class SimConfig:
    # Bulk operations: CREATED→RUNNING delay, pause between root pages, page size, URL lifetime (7 days real).
    bulk_start_delay: float = 0.02
    bulk_page_delay: float = 0.0
    bulk_page_size: int = 500
    bulk_url_ttl: float = 7 * 24 * 3600.0
    bulk_shuffle_seed: int = 7
    # None = by version: 5 running ops from 2026-01, earlier one QUERY op at a time.
    bulk_concurrency_limit: int | None = None

    # Webhooks: Shopify waits 5 s and retries 8 times over 4 h; the schedule here is scaled down.
    webhook_timeout: float = 5.0
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4)
    # Consecutive failed attempts after which an API-created subscription is deleted (1 try + 8 retries).
    webhook_remove_after: int = 9
    # UNCERTAIN whether X-Shopify-Webhook-Id changes on a retry; default keeps it.
    webhook_new_id_on_retry: bool = False
    webhook_api_version: str = "2026-10"
    # Shopify fires inventory_levels/update when `available` changes for any reason (orders, API, admin).
    inventory_webhooks: bool = True
    reorder_window: float = 0.15
    reorder_batch: int = 20

    # Quantity names accepted by inventoryAdjustQuantities (UNCERTAIN beyond the CData list).
    adjust_names: tuple[str, ...] = ("available", "damaged", "quality_control", "reserved", "safety_stock", "incoming")
    idempotent_mutations: frozenset[str] = field(default_factory=lambda: IDEMPOTENT_MUTATIONS)
    idempotent_required_from: tuple[int, int] = (2026, 4)
    cas_required_from: tuple[int, int] = (2026, 4)
    max_input_size: int = 250

    # Cost model and throttling.
    max_query_cost: int = 1000
    # Most reports say a throttled GraphQL call is HTTP 200; some saw 429.
    throttled_http_status: int = 200

    # Orders: the display name of Shopify's built-in COD manual payment method (UNCERTAIN exact string).
    cod_gateway: str = "Cash on Delivery (COD)"
