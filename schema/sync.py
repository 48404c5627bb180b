"""GraphQL types for what waits on Shopify or is stuck: pushes, order actions, webhooks, and retrying them."""

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from schema.errors import ErrorCode, UserError
from schema.ids import global_id
from schema.inputs import KEY_DESCRIPTION
from schema.pagination import check_first, decode_cursor, encode_cursor, page_of
from schema.shopify import ImportJob, ShopifyConnection

if TYPE_CHECKING:
    from operations.sync import StuckWebhook

WebhookExceptionStatus = strawberry.enum(
    Enum("WebhookExceptionStatus", {"EXCEPTION": "exception", "PARKED": "parked"}),
    description="EXCEPTION: bad input, never retried by itself (fix the cause, then retryWebhooks). PARKED: kept "
    "failing for a passing reason (Shopify unreachable...).",
)


@strawberry.type(description="A stock change Shopify has not accepted after repeated tries, kept until retried.")
class ParkedSyncRow:
    key: str = strawberry.field(description="What the change is, e.g. movement:123 (a stock movement).")
    last_error: str | None = strawberry.field(description="Why the last try failed, in Shopify's words.")
    attempts: int
    created_at: datetime


@strawberry.type(description="Something Branchline must tell Shopify about an order that kept failing or was refused.")
class ParkedOrderAction:
    key: str = strawberry.field(
        description="What it is: order_action:fulfill:<fulfillment>, order_action:move:<order>:<n> or "
        "order_action:cancel:<order>."
    )
    last_error: str | None = strawberry.field(description="Why the last try failed, in Shopify's words.")
    attempts: int


@strawberry.type(description="Telling Shopify about orders: fulfillments made here, orders moved or cancelled.")
class OrderActionStatus:
    pending: int = strawberry.field(default=0, description="Waiting to be sent (due, backing off, or being sent).")
    parked: int = strawberry.field(default=0, description="Kept failing or refused by Shopify: see parkedRows.")
    last_done_at: datetime | None = strawberry.field(default=None, description="When Shopify last took one.")

    @strawberry.field(description="The oldest parked order actions first.")
    async def parked_rows(self, first: int, after: str | None = None) -> relay.Connection[ParkedOrderAction]:
        from operations.sync import parked_order_actions

        check_first(first)
        after_id = decode_cursor(after)
        return page_of(
            await parked_order_actions(first + 1, after_id),
            first=first,
            after_key=after_id,
            to_node=lambda r: ParkedOrderAction(key=r["key"], last_error=r["last_error"], attempts=r["attempts"]),
            cursor=lambda r: encode_cursor(r["id"]),
        )


@strawberry.type(description="A catalog edit or a customer made here that Shopify kept refusing, kept until retried.")
class ParkedShopWrite:
    key: str = strawberry.field(description="What it is: catalog-edit:<uuid> or customer-create:<customer>.")
    last_error: str | None = strawberry.field(description="Why the last try failed, in Shopify's words.")
    attempts: int


@strawberry.type(description="Catalog edits or customers made in Branchline that Shopify must be told.")
class ShopWriteStatus:
    topic: strawberry.Private[str]
    pending: int = strawberry.field(default=0, description="Waiting to be sent (due, backing off, or being sent).")
    parked: int = strawberry.field(default=0, description="Kept failing or refused by Shopify: see parkedRows.")
    last_done_at: datetime | None = strawberry.field(default=None, description="When Shopify last took one.")

    @strawberry.field(description="The oldest parked ones first.")
    async def parked_rows(self, first: int, after: str | None = None) -> relay.Connection[ParkedShopWrite]:
        from operations.sync import parked_shop_writes

        check_first(first)
        after_id = decode_cursor(after)
        return page_of(
            await parked_shop_writes(self.topic, first + 1, after_id),
            first=first,
            after_key=after_id,
            to_node=lambda r: ParkedShopWrite(key=r["key"], last_error=r["last_error"], attempts=r["attempts"]),
            cursor=lambda r: encode_cursor(r["id"]),
        )


@strawberry.type(description="Webhooks from Shopify: stored on arrival, then handled in the order received.")
class WebhookInboxStatus:
    pending: int = strawberry.field(default=0, description="Stored, not handled yet (due, being handled, retrying).")
    exceptions: int = strawberry.field(
        default=0,
        description="Could not be taken in as sent (unknown variant, unmapped location...): see webhookExceptions.",
    )
    parked: int = strawberry.field(default=0, description="Kept failing for a passing reason: see webhookExceptions.")
    oldest_pending_at: datetime | None = strawberry.field(default=None, description="When the oldest waiting arrived.")
    lag_seconds: float = strawberry.field(default=0.0, description="Age of the oldest waiting webhook; 0 if none.")


@strawberry.type(description="A webhook from Shopify that waits for a person: fix the cause, then retryWebhooks.")
class WebhookException:
    id: strawberry.ID = strawberry.field(description="Give it to retryWebhooks.")
    topic: str = strawberry.field(description="e.g. orders/create, fulfillments/create.")
    webhook_id: str = strawberry.field(description="Shopify's X-Shopify-Webhook-Id.")
    status: WebhookExceptionStatus  # type: ignore[valid-type]
    error_code: ErrorCode | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it is an exception, e.g. UNKNOWN_VARIANT, UNKNOWN_LOCATION, MALFORMED_WEBHOOK; null when "
        "parked."
    )
    message: str | None = strawberry.field(description="What went wrong.")
    attempts: int
    retryable: bool = strawberry.field(description="False when the body could not be read: nothing to hand over.")
    received_at: datetime
    processed_at: datetime | None = strawberry.field(description="When it was given up on.")

    @classmethod
    def from_row(cls, r: "StuckWebhook") -> "WebhookException":
        return cls(
            id=global_id("WebhookInbox", r.id),
            topic=r.topic,
            webhook_id=r.webhook_id,
            status=WebhookExceptionStatus(r.status),
            error_code=ErrorCode(r.error_code) if r.error_code else None,
            message=r.message,
            attempts=r.attempts,
            retryable=r.retryable,
            received_at=r.received_at,
            processed_at=r.processed_at,
        )


@strawberry.type(description="How Branchline and Shopify stand: all that waits on Shopify or is stuck, on one screen.")
class SyncStatus:
    connection: ShopifyConnection | None
    last_import: ImportJob | None
    pending: int = strawberry.field(
        default=0, description="Stock changes not yet pushed to Shopify (due, backing off, or being pushed)."
    )
    parked: int = strawberry.field(default=0, description="Stock changes that kept failing: see parkedRows.")
    last_pushed_at: datetime | None = strawberry.field(default=None, description="When Shopify last took a push.")
    lag_seconds: float = strawberry.field(default=0.0, description="Age of the oldest pending change; 0 if none.")
    order_actions: OrderActionStatus = strawberry.field(
        default_factory=OrderActionStatus, description="Fulfillments, moves and cancellations Shopify must be told."
    )
    webhooks: WebhookInboxStatus = strawberry.field(
        default_factory=WebhookInboxStatus, description="Webhooks from Shopify waiting to be handled, or stuck."
    )
    catalog_edits: ShopWriteStatus = strawberry.field(
        default_factory=lambda: ShopWriteStatus(topic=""),
        description="Price, title, SKU and barcode edits of Shopify products (productVariantsBulkUpdate, "
        "productUpdate).",
    )
    customers: ShopWriteStatus = strawberry.field(
        default_factory=lambda: ShopWriteStatus(topic=""),
        description="Customers made at the counter, for Shopify (customerCreate, or linked to Shopify's own).",
    )
    needs_attention: int = strawberry.field(
        default=0,
        description="What waits for a person: parked stock changes, order actions, catalog edits and customers "
        "(retryParkedSync), webhook exceptions and parked webhooks (webhookExceptions, retryWebhooks).",
    )

    @strawberry.field(description="The oldest parked changes first.")
    async def parked_rows(self, first: int, after: str | None = None) -> relay.Connection[ParkedSyncRow]:
        from operations.sync import parked_rows

        check_first(first)
        after_id = decode_cursor(after)
        return page_of(
            await parked_rows(first + 1, after_id),
            first=first,
            after_key=after_id,
            to_node=lambda r: ParkedSyncRow(
                key=r.key, last_error=r.last_error, attempts=r.attempts, created_at=r.created_at
            ),
            cursor=lambda r: encode_cursor(r.id),
        )


@strawberry.type
class RetryParkedSyncPayload:
    retried: int = strawberry.field(
        default=0, description="Parked stock changes, order actions, catalog edits and customers put back in queue."
    )
    retried_order_actions: int = strawberry.field(default=0, description="Of them, order actions.")
    retried_catalog_edits: int = strawberry.field(default=0, description="Of them, catalog edits.")
    retried_customers: int = strawberry.field(default=0, description="Of them, customers.")
    status: SyncStatus | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RetryWebhooksPayload:
    retried: int = strawberry.field(default=0, description="Webhooks put back in the queue, due now.")
    status: SyncStatus | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Webhooks to put back in the queue.")
class RetryWebhooksInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Left out: every exception and parked webhook."
    )


@strawberry.input(description="Every parked stock change, order action, catalog edit and customer back in the queue.")
class RetryParkedSyncInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
