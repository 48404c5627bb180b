"""FiscalClient against the simulator over real HTTP: answers, refusals, every fault, both repeated-USIN
behaviours. Timeouts are short and holds are released at teardown; assertions are on outcomes only."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import socket

import httpx
import pytest

from fbr.client import FiscalAnswer, FiscalClient, FiscalDuplicate, FiscalRefused, FiscalUnreachable
from fbr.invoice import Authority, Buyer, InvoiceType, to_post_data
from fbr.simulator import SimAuthority, serve_simulator

from .conftest import POS_ID, SHORT_TIMEOUT

pytestmark = pytest.mark.asyncio(loop_scope="module")

NUMBER = re.compile(rf"{POS_ID}\d{{8}}\d{{6}}")


async def eventually(condition, within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_valid_invoice_gets_a_fiscal_number(sim, make_invoice):
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        answer = await client.post_invoice(body)
    assert isinstance(answer, FiscalAnswer)
    assert NUMBER.fullmatch(answer.invoice_number) and len(answer.invoice_number) <= 30
    assert (answer.code, answer.response, answer.status) == (
        "100",
        "Fiscal Invoice Number generated successfully.",
        200,
    )
    assert answer.invoice_number in answer.raw
    held = await sim.invoices("S-000123")
    assert len(held) == 1 and held[0]["invoice_number"] == answer.invoice_number
    assert held[0]["payload"] == body and held[0]["pos_id"] == POS_ID


async def test_numbers_differ_per_invoice_and_can_take_the_sro_1006_shape(sim, make_invoice):
    async with sim.client() as client:
        a = await client.post_invoice(to_post_data(make_invoice("S-1")))
        b = await client.post_invoice(to_post_data(make_invoice("S-2")))
        await sim.configure(number_style="sro1006", test_suffix=True)
        c = await client.post_invoice(to_post_data(make_invoice("S-3")))
    assert a.invoice_number != b.invoice_number
    assert re.fullmatch(rf"{POS_ID}-\d{{12}}-0003\*test\*", c.invoice_number)


async def test_the_older_answer_shape_with_numbers_is_read_without_loss(sim, make_invoice):
    sim.authority.register(900005)  # its 20-digit numbers exceed 64 bits
    await sim.configure(legacy_answers=True)
    async with sim.client() as client:
        answer = await client.post_invoice(to_post_data(make_invoice(pos_id=900005)))
    raw = json.loads(answer.raw)
    assert raw["Code"] == 100 and raw["FBRInvoiceNumber"] > 2**64
    assert answer.code == "100" and answer.invoice_number == str(raw["FBRInvoiceNumber"])
    assert answer.invoice_number == sim.authority.invoices_for("S-000123")[0].invoice_number


async def test_repeated_usin_same_number_mode_answers_the_first_number_and_holds_one_invoice(sim, make_invoice):
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        first = await client.post_invoice(body)
        again = await client.post_invoice(body)
    assert again.invoice_number == first.invoice_number
    [held] = await sim.invoices("S-000123")
    assert (held["answers"], held["repeats"]) == (2, 1)


async def test_repeated_usin_refuse_mode_is_a_duplicate_refusal(sim, make_invoice):
    await sim.configure(duplicate_mode="refuse")
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        first = await client.post_invoice(body)
        with pytest.raises(FiscalDuplicate) as caught:
            await client.post_invoice(body)
    assert caught.value.code == "103" and "already received" in caught.value.message
    assert isinstance(caught.value, FiscalRefused)
    [held] = await sim.invoices("S-000123")
    assert held["invoice_number"] == first.invoice_number and held["repeats"] == 1


async def test_concurrent_posts_of_one_usin_record_one_invoice(sim, make_invoice):
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        answers = await asyncio.gather(*(client.post_invoice(body) for _ in range(6)))
    assert len({a.invoice_number for a in answers}) == 1
    assert len(await sim.invoices("S-000123")) == 1


async def test_invalid_data_is_refused_with_code_102_and_nothing_recorded(sim, make_invoice):
    body = to_post_data(make_invoice())
    body["TotalSaleValue"] = 1400.0
    body["Items"][0]["PCTCode"] = "6109.10"
    async with sim.client() as client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(body)
    refusal = caught.value
    assert refusal.refusal_code == "102" and refusal.status == 200
    assert "Items[0].PCTCode must be 8 digits without a dot" in refusal.errors
    assert "TotalSaleValue is not the sum of the items' SaleValue" in refusal.errors
    assert await sim.invoices("S-000123") == []


async def test_types_are_checked_strictly_unless_set_lenient(sim, make_invoice):
    body = to_post_data(make_invoice())
    body["TotalBillAmount"] = "1770"
    body["Items"][0]["Quantity"] = "1"
    async with sim.client() as client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(body)
        assert caught.value.refusal_code == "102"
        assert "TotalBillAmount must be a number, not a string" in caught.value.errors
        await sim.configure(strict_types=False)
        answer = await client.post_invoice(body)  # the sandbox has been seen taking strings
    assert answer.code == "100"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"PaymentMode": 7}, "PaymentMode must be 1 to 6"),
        ({"InvoiceType": 4}, "InvoiceType must be 1 (new), 2 (debit) or 3 (credit)"),
        ({"DateTime": "01/06/2025 14:30"}, "DateTime must be yyyy-MM-dd HH:mm:ss"),
        ({"BuyerCNIC": "35202-1234567-1"}, "BuyerCNIC must be 13 digits without dashes"),
        ({"Items": []}, "Items must be a list of at least one item"),
        ({"USIN": ""}, "USIN is required"),
        ({"POSID": "123456"}, "POSID must be a number, not a string"),
    ],
)
async def test_field_checks(sim, make_invoice, change, error):
    body = to_post_data(make_invoice()) | change
    async with sim.client() as client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(body)
    assert error in caught.value.errors


async def test_a_body_that_is_not_json_is_refused(sim):
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            sim.authority.post_url(),
            content=b"USIN=1",
            headers={"Authorization": f"Bearer {sim.authority.token()}"},
        )
    assert resp.status_code == 200 and resp.json()["Code"] == "102"
    assert resp.json()["InvoiceNumber"] == "Not Available"


async def test_an_unknown_posid_is_refused(sim, make_invoice):
    async with sim.client() as client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(to_post_data(make_invoice(pos_id=654321)))
    assert caught.value.refusal_code == "102"
    assert caught.value.errors == ("POSID 654321 is not registered for FBR sandbox",)


async def test_a_credit_note_for_an_unknown_original_is_refused_only_when_set(sim, make_invoice):
    credit = to_post_data(make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin="S-404"))
    async with sim.client() as client:
        await sim.configure(check_ref_usin_known=True)
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(credit)
        assert caught.value.errors == ("RefUSIN S-404 was never received",)
        await client.post_invoice(to_post_data(make_invoice("S-404")))
        assert (await client.post_invoice(credit)).code == "100"


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [("", 401, "900902"), ("not-a-token", 401, "900901"), ("sim-fbr-production-token", 403, "900908")],
)
async def test_gateway_refuses_bad_tokens_and_never_echoes_them(sim, make_invoice, caplog, token, status, code):
    caplog.set_level(logging.DEBUG, logger="fbr.client")
    client = sim.client(token=token)
    async with client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(to_post_data(make_invoice()))
    refusal = caught.value
    assert (refusal.refusal_code, refusal.status) == (code, status)
    assert await sim.invoices("S-000123") == []
    if token:
        seen = [refusal.message, refusal.raw or "", repr(refusal), repr(client), caplog.text]
        assert not any(token in text for text in seen)


async def test_the_token_is_in_no_answer_log_or_repr(sim, make_invoice, caplog):
    caplog.set_level(logging.DEBUG, logger="fbr.client")
    token = sim.authority.token()
    client = sim.client()
    async with client:
        answer = await client.post_invoice(to_post_data(make_invoice()))
    assert token not in repr(client) and token not in answer.raw and token not in caplog.text


async def test_a_5xx_is_unreachable_nothing_recorded_and_the_retry_succeeds(sim, make_invoice):
    await sim.faults({"fail_next": {"n": 1, "status": 503}})
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(body)
        assert (caught.value.reason, caught.value.status, caught.value.maybe_recorded) == ("HTTP_503", 503, True)
        assert await sim.invoices("S-000123") == []
        assert (await client.post_invoice(body)).code == "100"


async def test_down_for_a_stretch_then_slow(sim, make_invoice):
    body = to_post_data(make_invoice())
    await sim.faults({"set_down": True})
    async with sim.client() as client:
        for _ in range(3):
            with pytest.raises(FiscalUnreachable) as caught:
                await client.post_invoice(body)
            assert caught.value.reason == "HTTP_503"
        await sim.faults({"set_down": False, "set_latency": 0.05})
        answer = await client.post_invoice(body)
    assert answer.code == "100" and len(await sim.invoices("S-000123")) == 1


async def test_a_hang_times_out_and_nothing_is_recorded(sim, make_invoice):
    await sim.faults({"hang_next": {"n": 1, "seconds": 30}})
    async with sim.client(timeout=SHORT_TIMEOUT) as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(to_post_data(make_invoice()))
    assert (caught.value.reason, caught.value.maybe_recorded) == ("TIMEOUT", True)
    assert await sim.invoices("S-000123") == []


async def test_a_slow_answer_within_the_timeout_is_a_success(sim, make_invoice):
    await sim.faults({"slow_next": {"n": 1, "seconds": 0.05}})
    async with sim.client() as client:
        assert (await client.post_invoice(to_post_data(make_invoice()))).code == "100"


@pytest.mark.parametrize("mode", ["same_number", "refuse"])
async def test_too_slow_is_a_timeout_but_recorded_and_the_retry_is_safe(sim, make_invoice, mode):
    await sim.configure(duplicate_mode=mode)
    await sim.faults({"slow_next": {"n": 1, "seconds": SHORT_TIMEOUT * 2}})
    body = to_post_data(make_invoice())
    async with sim.client(timeout=SHORT_TIMEOUT) as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(body)
        assert caught.value.reason == "TIMEOUT"
    await eventually(lambda: sim.authority.invoices_for("S-000123"))
    await assert_retry_is_safe(sim, body, mode)


async def assert_retry_is_safe(sim, body: dict, mode: str) -> None:
    """The invoice is held once; a retry with the same USIN gets its number or a duplicate refusal."""
    [held] = sim.authority.invoices_for(body["USIN"])
    async with sim.client() as client:
        if mode == "same_number":
            assert (await client.post_invoice(body)).invoice_number == held.invoice_number
        else:
            with pytest.raises(FiscalDuplicate):
                await client.post_invoice(body)
    assert len(sim.authority.invoices_for(body["USIN"])) == 1


@pytest.mark.parametrize("how", ["garbage", "html", "empty", "no_code", "not_available", "array"])
async def test_malformed_answers_are_unreachable(sim, make_invoice, how):
    await sim.faults({"malformed_next": {"n": 1, "how": how}})
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(body)
    assert caught.value.reason == "MALFORMED" and caught.value.maybe_recorded
    await assert_retry_is_safe(sim, body, "same_number")


async def test_a_malformed_answer_without_recording(sim, make_invoice):
    await sim.faults({"malformed_next": {"n": 1, "how": "html", "record": False}})
    async with sim.client() as client:
        with pytest.raises(FiscalUnreachable):
            await client.post_invoice(to_post_data(make_invoice()))
    assert sim.authority.invoices_for("S-000123") == []


@pytest.mark.parametrize("mode", ["same_number", "refuse"])
async def test_recorded_then_connection_dropped(sim, make_invoice, mode):
    await sim.configure(duplicate_mode=mode)
    await sim.faults({"lose_answer_next": {"n": 1, "how": "drop"}})
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(body)
    assert (caught.value.reason, caught.value.maybe_recorded) == ("DROPPED", True)
    await assert_retry_is_safe(sim, body, mode)


@pytest.mark.parametrize("mode", ["same_number", "refuse"])
async def test_recorded_then_answer_held_until_the_client_gives_up(sim, make_invoice, mode):
    await sim.configure(duplicate_mode=mode)
    await sim.faults({"lose_answer_next": {"n": 1, "how": "hang", "seconds": 30}})
    body = to_post_data(make_invoice())
    async with sim.client(timeout=SHORT_TIMEOUT) as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(body)
    assert caught.value.reason == "TIMEOUT"
    await assert_retry_is_safe(sim, body, mode)


async def test_connection_refused_was_never_sent(make_invoice):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    async with FiscalClient(f"http://127.0.0.1:{port}/imsp/v1/api/Live/PostData", "t", timeout=1) as client:
        with pytest.raises(FiscalUnreachable) as caught:
            await client.post_invoice(to_post_data(make_invoice()))
    assert (caught.value.reason, caught.value.maybe_recorded) == ("CONNECT", False)


async def test_a_shared_http_client_is_used_and_left_open(sim, make_invoice):
    async with httpx.AsyncClient() as http:
        client = FiscalClient(sim.authority.post_url(), sim.authority.token(), timeout=2, http=http)
        assert (await client.post_invoice(to_post_data(make_invoice()))).code == "100"
        await client.aclose()
        assert not http.is_closed


async def test_the_local_component_takes_no_token_and_answers_its_health_check(sim, make_invoice):
    async with FiscalClient(sim.authority.local_url, "", timeout=2) as client:
        answer = await client.post_invoice(to_post_data(make_invoice()))
    assert answer.code == "100"
    [held] = sim.authority.invoices_for("S-000123")
    assert (held.authority, held.environment) == ("fbr", "sandbox")
    resp = await sim.control.get("/api/IMSFiscal/Get")
    assert resp.json() == ["Service is responding"]


async def test_pra_route_and_its_field(sim, make_invoice):
    invoice = dataclasses.replace(make_invoice(authority=Authority.PRA), buyer=Buyer(name="Ali", ntn="1234567-8"))
    async with sim.client("pra") as client:
        answer = await client.post_invoice(to_post_data(invoice))
    [held] = sim.authority.invoices_for("S-000123")
    assert held.authority == "pra" and held.payload["BuyerPNTN"] == "1234567-8" and answer.code == "100"
    async with sim.client("fbr", token=sim.authority.token("pra")) as client:
        with pytest.raises(FiscalRefused) as caught:
            await client.post_invoice(to_post_data(invoice))
    assert caught.value.refusal_code == "900908"


async def test_get_on_post_data_is_the_gateway_no_matching_resource(sim):
    resp = await sim.control.get("/FBR/v1/api/Live/PostData")
    assert resp.status_code == 405
    assert resp.json()["fault"]["description"] == "No matching resource found for given API Request"


async def test_inspection_lists_invoices_and_calls(sim, make_invoice):
    await sim.faults({"fail_next": 1})
    body = to_post_data(make_invoice())
    async with sim.client() as client:
        with pytest.raises(FiscalUnreachable):
            await client.post_invoice(body)
        await client.post_invoice(body)
        await client.post_invoice(to_post_data(make_invoice("S-2")))
    every = (await sim.control.get("/_sim/invoices", params={"payload": "0"})).json()
    assert {i["usin"] for i in every} == {"S-000123", "S-2"} and "payload" not in every[0]
    calls = (await sim.control.get("/_sim/calls", params={"usin": "S-000123"})).json()
    assert [c["outcome"] for c in calls] == ["recorded"]
    everything = (await sim.control.get("/_sim/calls")).json()
    assert [c["outcome"] for c in everything] == ["fault:fail", "recorded", "recorded"]
    state = (await sim.control.get("/_sim/state")).json()
    assert state["invoices"] == 2 and state["config"]["duplicate_mode"] == "same_number"
    bad = await sim.control.post("/_sim/faults", json={"explode": 1})
    assert bad.status_code == 400
    assert (await sim.control.post("/_sim/reset")).json() == {"ok": True}
    assert sim.authority.invoices == {}


async def test_register_over_http_and_state_survives_a_restart(tmp_path, make_invoice):
    first = SimAuthority()
    async with serve_simulator(first) as url, httpx.AsyncClient(base_url=url) as control:
        await control.post("/_sim/register", json={"pos_id": 222333, "environment": "production"})
        async with FiscalClient(first.post_url("fbr", "production"), first.token("fbr", "production"), timeout=2) as c:
            answer = await c.post_invoice(to_post_data(make_invoice(pos_id=222333)))
    first.dump(tmp_path / "sim.json")
    second = SimAuthority()
    second.load(tmp_path / "sim.json")
    async with serve_simulator(second):
        async with FiscalClient(
            second.post_url("fbr", "production"), second.token("fbr", "production"), timeout=2
        ) as c:
            again = await c.post_invoice(to_post_data(make_invoice(pos_id=222333)))
            other = await c.post_invoice(to_post_data(make_invoice("S-9", pos_id=222333)))
    assert again.invoice_number == answer.invoice_number
    assert other.invoice_number.endswith("000002")
