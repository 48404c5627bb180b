"""Connecting Branchline to its Shopify shop, once, and the client every Shopify call goes through.

Connecting proves the token against the shop before anything is stored, keeps the access token
and client secret encrypted (operations/kernel/secrets.py), registers the webhook subscriptions the sync
needs, and records the API version it speaks. One deployment serves one shop (docs/architecture.md, Who may do what).
"""

import logging
from datetime import UTC, datetime

from models.shopify import ConnectionStatus, ShopifyConnection
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    SecretUnreadable,
    current_settings,
    decrypt_secret,
    encrypt_secret,
    record_audit,
    reencrypt_secret,
    replay,
    require,
    run_once,
    token_digest,
    transaction,
)
from shopify import documents
from shopify.client import API_VERSION, ShopifyClient, validate_shop_domain
from shopify.errors import ShopifyAuthError, ShopifyError, ShopifyInputError, ShopifyNotFound, ShopifyUserErrors

log = logging.getLogger(__name__)

# What the sync listens to (Shopify's Admin API documentation); the handlers come with the sync.
WEBHOOK_TOPICS = [
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "FULFILLMENTS_CREATE",
    "FULFILLMENTS_UPDATE",
    "REFUNDS_CREATE",
    "INVENTORY_LEVELS_UPDATE",
    "PRODUCTS_CREATE",
    "PRODUCTS_UPDATE",
    "LOCATIONS_CREATE",
    "LOCATIONS_UPDATE",
    "BULK_OPERATIONS_FINISH",
    "APP_UNINSTALLED",
]
WEBHOOK_PATH = "/webhooks/shopify"


def webhook_uri() -> str:
    return current_settings().shopify.public_url + WEBHOOK_PATH


async def current_connection() -> ShopifyConnection | None:
    return await ShopifyConnection.filter(status=ConnectionStatus.CONNECTED).first()


async def client_for(connection: ShopifyConnection) -> ShopifyClient:
    """A client speaking as the stored connection (tokens decrypted only here, in memory)."""
    reach = current_settings().shopify
    return ShopifyClient(
        connection.shop_domain,
        decrypt_secret(connection.access_token_encrypted),
        # A configured stand-in (the demo's simulator moves port on each start) wins over the stored one.
        base_url=reach.base_url or connection.base_url,
        api_version=connection.api_version,
        timeout=reach.timeout,
        max_attempts=reach.attempts,
        backoff_base=reach.backoff_base,
        backoff_cap=reach.backoff_cap,
    )


async def webhook_secrets() -> list[str]:
    connection = await current_connection()
    return [decrypt_secret(connection.client_secret_encrypted)] if connection else []


async def reencrypt_stored_secrets() -> int:
    """After a server secret rotation: rewrite the stored Shopify secrets under the current one."""
    rewritten = 0
    for connection in await ShopifyConnection.all():
        changes = {
            name: reencrypt_secret(getattr(connection, name))
            for name in ("access_token_encrypted", "client_secret_encrypted")
            if getattr(connection, name)
        }
        if changes:
            await ShopifyConnection.filter(id=connection.id).update(**changes)
            rewritten += 1
    return rewritten


async def _load(pk: int) -> ShopifyConnection:
    return await ShopifyConnection.get(id=pk)


async def connect_shopify(
    actor: Actor, shop_domain: str, access_token: str, client_secret: str, idempotency_key: str | None = None
) -> ShopifyConnection:
    """A repeat under the same key returns the connection made the first time, asking Shopify nothing."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    problems = Problems()
    try:
        domain = validate_shop_domain(shop_domain)
    except ShopifyInputError as error:
        problems.add(ErrorCode.INVALID, str(error), "shopDomain")
        domain = ""
    if not access_token.strip() or len(access_token) > 255:
        problems.add(ErrorCode.INVALID, "accessToken must be 1–255 characters", "accessToken")
    if not client_secret.strip() or len(client_secret) > 255:
        problems.add(ErrorCode.INVALID, "clientSecret must be 1–255 characters", "clientSecret")
    problems.raise_if_any()
    # The secrets only as digests: the fingerprint tells requests apart, it keeps nothing readable.
    request = {
        "shopDomain": domain,
        "accessToken": token_digest(access_token.strip()),
        "clientSecret": token_digest(client_secret.strip()),
    }
    if (earlier := await replay("connectShopify", idempotency_key, request, _load)) is not None:
        return earlier
    existing = await current_connection()
    if existing is not None and existing.shop_domain != domain:
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"Branchline is connected to {existing.shop_domain}; disconnect it before connecting another shop",
            "shopDomain",
        )

    reach = current_settings().shopify
    client = ShopifyClient(
        domain,
        access_token.strip(),
        base_url=reach.base_url,
        timeout=reach.timeout,
        max_attempts=reach.attempts,
        backoff_base=reach.backoff_base,
        backoff_cap=reach.backoff_cap,
    )
    async with client:
        shop = await _verify(client)
        subscriptions = await _subscribe(client)

    async def store() -> ShopifyConnection:
        connection = await ShopifyConnection.get_or_none(shop_domain=domain)
        fields = {
            "shop_name": shop.get("name") or "",
            "currency": (shop.get("currencyCode") or "PKR")[:3],
            "api_version": API_VERSION,
            "base_url": reach.base_url,
            "access_token_encrypted": encrypt_secret(access_token.strip()),
            "client_secret_encrypted": encrypt_secret(client_secret.strip()),
            "status": ConnectionStatus.CONNECTED,
            "webhook_subscriptions": subscriptions,
            "disconnected_at": None,
        }
        if connection is None:
            connection = await ShopifyConnection.create(shop_domain=domain, **fields)
        else:
            await connection.update_from_dict(fields).save()
        await record_audit(actor, "shopify.connected", target=("shop", domain), api_version=API_VERSION)
        return connection

    async with transaction() as tx:
        connection, _ = await run_once(tx, "connectShopify", idempotency_key, request, store, _load)
    return connection


async def _verify(client: ShopifyClient) -> dict:
    try:
        data = await client.query(documents.SHOP)
    except ShopifyAuthError:
        raise OperationError.single(
            ErrorCode.INVALID_CREDENTIALS, "Shopify refused this access token for this shop", "accessToken"
        ) from None
    except ShopifyNotFound:
        raise OperationError.single(ErrorCode.NOT_FOUND, "Shopify has no shop at this domain", "shopDomain") from None
    except ShopifyError as error:
        raise OperationError.single(ErrorCode.SHOPIFY_UNAVAILABLE, f"Shopify could not be reached: {error}") from None
    return data["shop"]


async def _subscribe(client: ShopifyClient) -> dict[str, str]:
    """Create the webhook subscriptions that are missing for our address; returns topic -> GID."""
    uri = webhook_uri()
    try:
        data = await client.query(documents.WEBHOOK_SUBSCRIPTIONS)
        have = {
            e["node"]["topic"]: e["node"]["id"]
            for e in data["webhookSubscriptions"]["edges"]
            if e["node"].get("uri") == uri
        }
        for topic in WEBHOOK_TOPICS:
            if topic in have:
                continue
            result = await client.mutate(
                documents.SUBSCRIBE_WEBHOOK, {"topic": topic, "sub": {"uri": uri, "format": "JSON"}}
            )
            created = result["webhookSubscriptionCreate"]
            if created["userErrors"]:
                raise OperationError.single(
                    ErrorCode.INVALID,
                    f"Shopify refused the {topic} webhook: {created['userErrors'][0]['message']}",
                )
            have[topic] = created["webhookSubscription"]["id"]
    except ShopifyUserErrors as error:
        raise OperationError.single(ErrorCode.INVALID, f"Shopify refused a webhook subscription: {error}") from None
    except ShopifyError as error:
        raise OperationError.single(ErrorCode.SHOPIFY_UNAVAILABLE, f"Shopify could not be reached: {error}") from None
    return {topic: have[topic] for topic in WEBHOOK_TOPICS}


async def disconnect_shopify(actor: Actor, idempotency_key: str | None = None) -> ShopifyConnection:
    """Stop talking to Shopify: remove our webhooks (best effort) and forget the tokens. A repeat under the
    same key returns the connection it disconnected, and disconnects nothing again."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    if (earlier := await replay("disconnectShopify", idempotency_key, {}, _load)) is not None:
        return earlier
    connection = await current_connection()
    if connection is None:
        raise OperationError.single(ErrorCode.NOT_CONNECTED, "Shopify is not connected")
    try:
        async with await client_for(connection) as client:
            for subscription_id in (connection.webhook_subscriptions or {}).values():
                await client.mutate(documents.UNSUBSCRIBE_WEBHOOK, {"id": subscription_id})
    except (ShopifyError, SecretUnreadable) as error:
        # Shopify removes subscriptions that keep failing, and the tokens are wiped below anyway.
        log.warning("could not remove Shopify webhook subscriptions while disconnecting: %s", error)

    async def forget() -> ShopifyConnection:
        connection.status = ConnectionStatus.DISCONNECTED
        connection.disconnected_at = datetime.now(UTC)
        connection.access_token_encrypted = ""
        connection.client_secret_encrypted = ""
        connection.webhook_subscriptions = {}
        await connection.save()
        await record_audit(actor, "shopify.disconnected", target=("shop", connection.shop_domain))
        return connection

    async with transaction() as tx:
        connection, _ = await run_once(tx, "disconnectShopify", idempotency_key, {}, forget, _load)
    return connection
