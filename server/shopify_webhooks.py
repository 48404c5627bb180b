"""`POST /webhooks/shopify`: verify, store, answer. Nothing else happens in the request.

Shopify counts anything but a 2xx within 5 seconds as a failure, retries eight times over four
hours, and then deletes the subscription. So the endpoint does the least that is safe:

- reads the raw body (at most `MAX_BODY_BYTES`; more is refused with 413 before it is all read);
- checks `X-Shopify-Hmac-Sha256` over those exact bytes against the connection's client secret in
  constant time (shopify/webhooks.py) → 401 when it does not match, nothing stored;
- stores the delivery in the inbox (one INSERT, deduplicated) and answers 200. The inbox worker
  does the work later. A database failure answers 503, so Shopify delivers it again.

A signed body that is not a JSON object is Shopify's own and cannot get better by being resent: it
is stored as an exception (MALFORMED_WEBHOOK, raw body kept) and acknowledged with 200, rather
than refused into eight retries and a deleted subscription. Unknown topics are acknowledged,
logged and stored as IGNORED. A webhook signed for another shop of the same app (the client
secret is app-wide) is acknowledged and stored as IGNORED: this deployment serves one shop.
"""

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from operations.kernel import SecretUnreadable
from operations.sync import Delivery, current_connection, store_webhook, webhook_secrets
from shopify.webhooks import HMAC_HEADER, verify_webhook

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024  # orders with hundreds of lines stay far below this


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _plain(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def shopify_webhook(request: Request) -> Response:
    try:
        body = await _read_body(request)
    except _TooLarge:
        log.error("refused a webhook larger than %d bytes", MAX_BODY_BYTES)
        return _plain(413, "body too large")
    except ClientDisconnect:
        return Response(status_code=400)

    try:
        secrets = await webhook_secrets()
    except SecretUnreadable:
        # The server's secret key changed: nothing can be verified until it is fixed. 503 keeps
        # Shopify retrying meanwhile instead of counting a refusal.
        log.error("the Shopify client secret cannot be decrypted: webhooks are not verified")
        return _plain(503, "cannot verify webhooks now")
    if not verify_webhook(body, request.headers.get(HMAC_HEADER), secrets):
        log.warning(
            "refused a webhook with a bad or missing signature (topic %r, from %s)",
            request.headers.get("x-shopify-topic"),
            request.client.host if request.client else "?",
        )
        return _plain(401, "invalid signature")

    topic = (request.headers.get("x-shopify-topic") or "").strip()
    if not topic:
        return _plain(400, "X-Shopify-Topic is missing")
    shop_domain = (request.headers.get("x-shopify-shop-domain") or "").strip().lower()
    connection = await current_connection()
    other_shop = connection is not None and shop_domain and shop_domain != connection.shop_domain
    delivery = Delivery(
        topic=topic,
        body=body,
        webhook_id=request.headers.get("x-shopify-webhook-id"),
        event_id=request.headers.get("x-shopify-event-id"),
        shop_domain=shop_domain,
        triggered_at=request.headers.get("x-shopify-triggered-at"),
        ignore_reason=f"for {shop_domain}, not the connected shop {connection.shop_domain}" if other_shop else None,
    )
    try:
        stored = await store_webhook(delivery)
    except Exception:
        log.exception("could not store a %s webhook; Shopify will deliver it again", topic)
        return _plain(503, "not stored; deliver again")
    return JSONResponse({"inbox": stored.id, "duplicate": stored.duplicate, "status": stored.status})
