"""How the client reads answers the simulator does not give (gateway throttling, odd statuses, answer
variants), from a scripted server over real HTTP."""

from __future__ import annotations

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fbr.client import FiscalClient, FiscalRefused, FiscalUnreachable
from fbr.simulator import serve_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

BODY = {"POSID": 123456, "USIN": "S-1"}


class Script:
    status: int = 200
    body: bytes = b""
    seen_headers: dict | None = None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scripted():
    script = Script()

    async def answer(request: Request) -> Response:
        script.seen_headers = dict(request.headers)
        return Response(script.body, status_code=script.status, media_type="application/json")

    app = Starlette(routes=[Route("/PostData", answer, methods=["POST"])])
    async with serve_app(app) as url:
        yield script, f"{url}/PostData"


async def post(scripted, status: int, body: str, token: str = "tok-secret"):
    script, url = scripted
    script.status, script.body = status, body.encode()
    async with FiscalClient(url, token, timeout=2) as client:
        return await client.post_invoice(BODY)


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, '{"fault":{"code":900802,"message":"Message throttled out"}}', "THROTTLED"),
        (503, '{"fault":{"code":101503,"message":"Runtime Error"}}', "HTTP_503"),
        (408, "", "HTTP_408"),
        (200, '{"Code": "100", "InvoiceNumber": ""}', "MALFORMED"),
        (200, '{"Code": "100", "InvoiceNumber": "' + "9" * 31 + '"}', "MALFORMED"),
        (200, '{"InvoiceNumber": "123"}', "MALFORMED"),
        (200, "null", "MALFORMED"),
    ],
)
async def test_try_later(scripted, status, body, reason):
    with pytest.raises(FiscalUnreachable) as caught:
        await post(scripted, status, body)
    assert caught.value.reason == reason and caught.value.maybe_recorded


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, "Unauthorized", "HTTP_401"),
        (403, '{"fault":{"code":900910,"message":"The access token does not allow you to access"}}', "900910"),
        (400, '{"Code": "102", "Response": "Invalid data received", "InvoiceNumber": "Not Available"}', "102"),
        (301, "", "HTTP_301"),
        (200, '{"Code": 105, "Response": "Something else", "Errors": [{"field": "X"}]}', "105"),
    ],
)
async def test_refusals(scripted, status, body, code):
    with pytest.raises(FiscalRefused) as caught:
        await post(scripted, status, body)
    assert caught.value.code == code and caught.value.status == status


async def test_success_variants_and_what_was_sent(scripted):
    answer = await post(scripted, 201, '{"invoiceNumber": "110014ABC*test*", "code": 100, "Errors": ["warn"]}')
    assert (answer.invoice_number, answer.code, answer.status, answer.errors) == (
        "110014ABC*test*",
        "100",
        201,
        ("warn",),
    )
    headers = scripted[0].seen_headers
    assert headers["authorization"] == "Bearer tok-secret" and headers["content-type"] == "application/json"
    await post(scripted, 200, '{"Code": "100", "InvoiceNumber": "1"}', token="")
    assert "authorization" not in scripted[0].seen_headers  # the local component takes no token


async def test_an_echoed_token_is_scrubbed(scripted):
    with pytest.raises(FiscalRefused) as caught:
        await post(scripted, 200, '{"Code": "102", "Response": "bad token tok-secret", "Errors": ["tok-secret"]}')
    refusal = caught.value
    assert "tok-secret" not in refusal.message + (refusal.raw or "") + "".join(refusal.errors)
