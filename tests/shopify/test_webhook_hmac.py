"""Webhook signature checks: pure cases, then a real delivery from the simulator."""

import base64
import hashlib
import hmac

import pytest

from shopify.webhooks import verify_webhook, webhook_hmac

BODY = b'{"inventory_item_id":50001,"location_id":70001,"available":8,"updated_at":"2026-11-26T10:00:00Z"}'
SECRET = "sim-client-secret"


def test_webhook_hmac_is_base64_hmac_sha256_of_the_raw_body():
    expected = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    assert webhook_hmac(BODY, SECRET) == expected


def test_verify_accepts_the_right_signature():
    assert verify_webhook(BODY, webhook_hmac(BODY, SECRET), [SECRET])


@pytest.mark.parametrize(
    "tampered",
    [BODY.replace(b"8", b"9"), BODY + b" ", BODY[:-1], b"", BODY.replace(b":", b": ")],
)
def test_verify_rejects_a_tampered_body(tampered):
    assert not verify_webhook(tampered, webhook_hmac(BODY, SECRET), [SECRET])


def test_verify_rejects_the_wrong_secret():
    assert not verify_webhook(BODY, webhook_hmac(BODY, "other-secret"), [SECRET])


@pytest.mark.parametrize("header", [None, "", "   ", "not base64!!", "c2hvcnQ=", webhook_hmac(BODY, SECRET)[:-4]])
def test_verify_rejects_missing_or_garbled_headers(header):
    assert not verify_webhook(BODY, header, [SECRET])


def test_verify_with_no_or_empty_secrets_never_passes():
    assert not verify_webhook(BODY, webhook_hmac(BODY, ""), [])
    assert not verify_webhook(BODY, webhook_hmac(BODY, ""), [""])


def test_a_bare_string_of_secrets_is_refused():
    # "abc" would otherwise be tried as the secrets "a", "b", "c".
    with pytest.raises(TypeError):
        verify_webhook(BODY, webhook_hmac(BODY, "s"), "secret")


def test_rotation_accepts_old_and_new_secret():
    old, new = "old-secret", "new-secret"
    assert verify_webhook(BODY, webhook_hmac(BODY, old), [new, old])
    assert verify_webhook(BODY, webhook_hmac(BODY, new), [new, old])
    assert not verify_webhook(BODY, webhook_hmac(BODY, "retired"), [new, old])


# -- real deliveries from the simulator ----------------------------------------------------------------


def _change_stock(shop, by: int) -> None:
    level = next(iter(shop.levels.values()))
    shop.set_quantity(level.item_id, level.location_id, level.get("available") + by)  # fires the webhook


async def test_simulator_delivery_verifies_with_the_client_secret(sim, webhook_receiver):
    shop = sim.shop
    shop.subscribe("inventory_levels/update", webhook_receiver.url)
    _change_stock(shop, 3)
    (got,) = await webhook_receiver.wait_for(1, topic="inventory_levels/update")

    header = got.headers.get("x-shopify-hmac-sha256")
    assert header and got.headers.get("x-shopify-shop-domain") == shop.domain
    assert verify_webhook(got.body, header, [shop.client_secret])
    assert webhook_hmac(got.body, shop.client_secret) == header
    # Tampering, re-serialising or the wrong secret all fail.
    assert not verify_webhook(got.body + b"\n", header, [shop.client_secret])
    assert not verify_webhook(got.body.replace(b":", b": ", 1), header, [shop.client_secret])
    assert not verify_webhook(got.body, header, ["not-the-secret"])
    assert not verify_webhook(got.body, None, [shop.client_secret])


async def test_simulator_deliveries_across_a_secret_rotation(sim, webhook_receiver):
    shop = sim.shop
    old = shop.client_secret
    shop.subscribe("inventory_levels/update", webhook_receiver.url)
    _change_stock(shop, 1)
    await webhook_receiver.wait_for(1, topic="inventory_levels/update")
    shop.client_secret = new = "rotated-client-secret"
    _change_stock(shop, 1)
    first, second = await webhook_receiver.wait_for(2, topic="inventory_levels/update")

    def ok(delivery, secrets):
        return verify_webhook(delivery.body, delivery.headers["x-shopify-hmac-sha256"], secrets)

    # While both secrets are configured, deliveries signed with either verify.
    assert ok(first, [new, old]) and ok(second, [new, old])
    # Each delivery only matches the secret it was signed with.
    assert ok(first, [old]) and not ok(first, [new])
    assert ok(second, [new]) and not ok(second, [old])
