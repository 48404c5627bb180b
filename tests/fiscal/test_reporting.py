"""Fiscal reporting against the FBR simulator over real HTTP: the sale never waits, each document gets exactly
one fiscal number at the authority, credit notes name their original, and what a person must see is flagged."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fbr.simulator import DuplicateMode
from models.customers import Customer
from models.fiscal import FiscalAuthority, FiscalCredential, FiscalDocument, FiscalKind, FiscalStatus
from models.outbox import OutboxRow
from models.sales import Sale, TenderType
from models.staff import AuditEntry
from operations.counter import checkouts as sales
from operations.counter import drafts, exchanges, offline, returns
from operations.counter.receipts import render_thermal
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.fiscal import drain_fiscal, fiscal_figures, report_due
from operations.fiscal.registration import set_counter_fiscal_registration, token_for
from operations.kernel import AboveThreshold, RepeatedUsin
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from tests.fiscal.conftest import POS_IDS

D = Decimal


async def sell(shop, n_kurta=1, key="sale-1", counter=None, customer_id=None, tenders=None):
    total = D("1180.00") * n_kurta
    request = sales.Checkout(
        (counter or shop.counter).id,
        [sales.CheckoutLine(VariantRef(id=shop.kurta.id), n_kurta)],
        tenders or [sales.Payment(TenderType.CASH, total)],
        key,
        customer_id=customer_id,
    )
    sale, _ = await sales.checkout(shop.cashier, request)
    return sale


async def invoice_of(sale) -> FiscalDocument:
    return await FiscalDocument.get(sale_id=sale.id, kind=FiscalKind.INVOICE)


async def receipt(sale, width=80) -> str:
    return render_thermal(await sales.receipt_for(await Sale.get(id=sale.id)), width)


async def test_a_sale_gets_one_fiscal_number_and_the_reprint_shows_it(fshop):
    sale = await sell(fshop)
    doc = await invoice_of(sale)
    assert (doc.status, doc.usin, doc.pos_id, doc.flag) == (FiscalStatus.PENDING, sale.number, "100001", None)
    assert "FBR fiscal number pending" in await receipt(sale, 58)  # printed at once: the sale did not wait
    await drain_fiscal(10)
    doc = await invoice_of(sale)
    held = fshop.sim.invoices(sale.number)
    assert doc.status is FiscalStatus.FISCALISED and len(held) == 1
    assert doc.fiscal_number == held[0].invoice_number == doc.qr_content
    body = held[0].payload
    assert (body["USIN"], body["POSID"], body["InvoiceType"], body["PaymentMode"]) == (sale.number, 100001, 1, 1)
    assert body["TotalBillAmount"] == 1180.0 and body["Items"][0]["PCTCode"] == "62044200"
    assert body["TotalSaleValue"] + body["TotalTaxCharged"] == 1180.0
    for width in (58, 80):
        text = await receipt(sale, width)
        assert doc.fiscal_number in text and "pending" not in text and "POS service fee" in text
        assert max(len(line) for line in text.splitlines()) <= {58: 32, 80: 48}[width]
    assert await OutboxRow.filter(topic="fbr.invoice", status="done").count() == 1


async def test_the_authority_down_the_sale_is_made_and_reported_later(fshop):
    fshop.sim.authority.faults.set_down(True)
    sale = await sell(fshop)
    assert sale.number and (await invoice_of(sale)).status is FiscalStatus.PENDING
    await report_due()
    doc = await invoice_of(sale)
    assert doc.status is FiscalStatus.PENDING and "unreachable" in doc.error
    row = await OutboxRow.get(topic="fbr.invoice")
    assert (row.status, row.attempts) == ("pending", 1)
    figures = await fiscal_figures()
    assert figures.pending == 1 and figures.oldest_pending_at is not None
    fshop.sim.authority.faults.set_down(False)
    await drain_fiscal(10)
    assert (await invoice_of(sale)).status is FiscalStatus.FISCALISED
    assert len(fshop.sim.invoices(sale.number)) == 1


@pytest.mark.parametrize("mode", [DuplicateMode.SAME_NUMBER, DuplicateMode.REFUSE])
async def test_an_answer_lost_after_the_authority_recorded_it_makes_exactly_one_fiscal_invoice(fshop, mode):
    fshop.sim.authority.configure(duplicate_mode=mode)
    fshop.sim.authority.faults.lose_answer_next(1, how="hang", seconds=5)  # recorded, then our timeout
    sale = await sell(fshop)
    await drain_fiscal(10)
    held = fshop.sim.invoices(sale.number)
    assert len(held) == 1 and held[0].repeats == 1 and held[0].differing_repeats == 0  # the same body again
    doc = await invoice_of(sale)
    if mode is DuplicateMode.SAME_NUMBER:
        assert doc.status is FiscalStatus.FISCALISED and doc.fiscal_number == held[0].invoice_number
    else:
        assert doc.status is FiscalStatus.RECORDED and doc.fiscal_number is None
        assert "recorded by the authority" in doc.flag and "103" in doc.error
        assert (await fiscal_figures()).flagged_count == 1
    assert await OutboxRow.filter(status="parked").count() == 0


async def test_a_duplicate_refusal_parks_when_the_setting_says_so(fshop, change_settings):
    change_settings(fiscal={"repeated_usin": RepeatedUsin.PARK})
    fshop.sim.authority.configure(duplicate_mode=DuplicateMode.REFUSE)
    fshop.sim.authority.faults.lose_answer_next(1, how="drop")
    sale = await sell(fshop)
    await drain_fiscal(10)
    assert (await invoice_of(sale)).status is FiscalStatus.REFUSED
    assert (await fiscal_figures()).parked == 1
    assert len(fshop.sim.invoices(sale.number)) == 1


async def test_a_return_is_a_credit_note_naming_the_original_and_waits_for_it(fshop):
    fshop.sim.authority.faults.fail_next(1, status=503)  # the sale's first post fails: its credit note waits
    sale = await sell(fshop, 2)
    doc, _ = await returns.create_return(
        fshop.cashier,
        returns.ReturnRequest(
            sale_id=sale.id,
            counter_id=fshop.counter.id,
            lines=[returns.ReturnItem(1, 1)],
            refunds=[sales.Payment(TenderType.CASH, D("1180.00"))],
            idempotency_key="ret-1",
        ),
    )
    await report_due()
    credit = await FiscalDocument.get(sale_return_id=doc.id)
    assert (
        credit.status is FiscalStatus.PENDING
        and "waiting for" in (await OutboxRow.get(key=f"fbr:{doc.number}")).last_error
    )
    await drain_fiscal(10)
    credit = await FiscalDocument.get(sale_return_id=doc.id)
    assert credit.status is FiscalStatus.FISCALISED and (credit.usin, credit.ref_usin) == (doc.number, sale.number)
    body = fshop.sim.invoices(doc.number)[0].payload
    assert (body["InvoiceType"], body["RefUSIN"], body["TotalBillAmount"]) == (3, sale.number, 1180.0)
    assert {(i["InvoiceType"], i["RefUSIN"], i["Quantity"]) for i in body["Items"]} == {(3, sale.number, 1)}
    # The original was reported first (its number exists before the credit note's).
    assert (await invoice_of(sale)).reported_at <= credit.reported_at


async def test_an_exchange_posts_the_credit_and_the_new_invoice(fshop):
    sale = await sell(fshop, 1)
    doc, _ = await exchanges.create_exchange(
        fshop.cashier,
        exchanges.ExchangeRequest(
            sale_id=sale.id,
            counter_id=fshop.counter.id,
            return_lines=[returns.ReturnItem(1, 1)],
            new_lines=[sales.CheckoutLine(VariantRef(id=fshop.shawl.id), 1)],
            tenders=[sales.Payment(TenderType.CARD, D("1320.00"))],
            idempotency_key="ex-1",
        ),
    )
    await drain_fiscal(10)
    new_sale = await Sale.get(id=doc.exchange_sale_id)
    credit = await FiscalDocument.get(sale_return_id=doc.id)
    new_invoice = await invoice_of(new_sale)
    assert {credit.status, new_invoice.status, (await invoice_of(sale)).status} == {FiscalStatus.FISCALISED}
    assert credit.ref_usin == sale.number
    assert fshop.sim.invoices(new_sale.number)[0].payload["PaymentMode"] == 2  # card
    assert len(fshop.sim.all_invoices()) == 3


async def test_a_voided_sale_is_credited(fshop):
    sale = await sell(fshop, 1)
    await drain_fiscal(10)
    await drafts.void_sale(fshop.manager, sale.id, "902715", "rang up twice", "void-1")
    await drain_fiscal(10)
    credit = await FiscalDocument.get(sale_id=sale.id, kind=FiscalKind.CREDIT_NOTE)
    assert credit.status is FiscalStatus.FISCALISED and credit.usin == f"V-{sale.number}"
    body = fshop.sim.invoices(credit.usin)[0].payload
    assert (body["InvoiceType"], body["RefUSIN"], body["TotalBillAmount"]) == (3, sale.number, 1180.0)


async def test_a_sale_voided_before_its_invoice_went_out_is_still_reported_then_credited(fshop):
    """The rule (docs/fbr.md, "What is reported"): the receipt was printed and handed over at checkout, so the
    invoice was issued; the authority has no cancelling, so it is reported and then credited, never withheld."""
    sale = await sell(fshop, 1)
    assert "FBR fiscal number pending" in await receipt(sale)  # the original receipt, as handed over
    await drafts.void_sale(fshop.manager, sale.id, "902715", "rang up twice", "void-1")
    assert (await invoice_of(sale)).status is FiscalStatus.PENDING  # nothing was sent yet
    await drain_fiscal(10)
    invoice = await invoice_of(sale)
    credit = await FiscalDocument.get(sale_id=sale.id, kind=FiscalKind.CREDIT_NOTE)
    assert (invoice.status, credit.status) == (FiscalStatus.FISCALISED, FiscalStatus.FISCALISED)
    assert credit.reported_at >= invoice.reported_at  # the credit note names an invoice the authority holds
    assert len(fshop.sim.invoices(sale.number)) == 1 and len(fshop.sim.invoices(f"V-{sale.number}")) == 1
    assert fshop.sim.invoices(credit.usin)[0].payload["RefUSIN"] == sale.number


async def test_an_unregistered_counter_sells_and_its_sale_is_not_fiscalised(fshop):
    counter, _ = await create_counter(SYSTEM, NewCounter(fshop.branch.id, "C2", "Counter 2"))
    from operations.counter.registers import open_register

    await open_register(fshop.cashier, counter.id, D("0"), "open-c2")
    sale = await sell(fshop, counter=counter, key="c2-sale")
    doc = await invoice_of(sale)
    assert doc.status is FiscalStatus.NOT_FISCALISED
    assert await OutboxRow.filter(topic="fbr.invoice").count() == 0
    assert "FBR" not in await receipt(sale)
    await drain_fiscal(5)
    assert fshop.sim.all_invoices() == [] and (await fiscal_figures()).branches[0].not_fiscalised == 1


async def test_a_line_without_a_pct_code_still_sells_and_the_invoice_is_flagged(fshop):
    from models.catalog import Variant

    await Variant.filter(id=fshop.kurta.id).update(pct_code=None)
    sale = await sell(fshop)
    doc = await invoice_of(sale)
    assert doc.flag.startswith("no PCT code: ") and fshop.kurta.sku in doc.flag
    await drain_fiscal(10)
    assert (await invoice_of(sale)).status is FiscalStatus.FISCALISED
    assert fshop.sim.invoices(sale.number)[0].payload["Items"][0]["PCTCode"] == "00000000"
    figures = await fiscal_figures()
    assert figures.flagged_count == 1 and figures.flagged[0].usin == sale.number


async def test_above_the_buyer_threshold_a_named_buyer_is_sent_or_the_sale_refused(fshop, change_settings):
    change_settings(fiscal={"buyer_threshold": D("2000")})
    with pytest.raises(OperationError) as caught:
        await sell(fshop, 2, key="big-1")
    assert caught.value.problems[0].code is ErrorCode.BUYER_DETAILS_REQUIRED
    assert await Sale.filter(status="placed").count() == 0
    buyer = await Customer.create(first_name="Ayesha", last_name="Khan", cnic="35202-1234567-1", phone="+923001234567")
    sale = await sell(fshop, 2, key="big-2", customer_id=buyer.id)
    assert (await invoice_of(sale)).flag is None
    await drain_fiscal(10)
    body = fshop.sim.invoices(sale.number)[0].payload
    assert (body["BuyerName"], body["BuyerCNIC"]) == ("Ayesha Khan", "3520212345671")
    # With the setting `flag`, the sale goes through and its invoice is flagged.
    change_settings(fiscal={"above_threshold": AboveThreshold.FLAG})
    flagged = await sell(fshop, 2, key="big-3")
    assert "buyer not named" in (await invoice_of(flagged)).flag
    # Below the threshold nobody is named.
    small = await sell(fshop, 1, key="small", customer_id=buyer.id)
    await drain_fiscal(10)
    assert fshop.sim.invoices(small.number)[0].payload["BuyerCNIC"] == ""


async def test_an_offline_sale_is_reported_with_its_own_time(fshop):
    when = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    [result] = await offline.sync_offline_sales(
        fshop.cashier,
        fshop.counter.id,
        [
            offline.OfflineSale(
                "off-1",
                when,
                [sales.CheckoutLine(VariantRef(id=fshop.kurta.id), 1)],
                [sales.Payment(TenderType.CASH, D("1180.00"))],
            )
        ],
    )
    doc = await invoice_of(result.sale)
    assert doc.issued_at == when
    await drain_fiscal(10)
    local = when.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Karachi")).strftime("%Y-%m-%d %H:%M:%S")
    assert fshop.sim.invoices(result.sale.number)[0].payload["DateTime"] == local


async def test_ageing_invoices_show_in_the_status(fshop, change_settings):
    fshop.sim.authority.faults.set_down(True)
    sale = await sell(fshop)
    await FiscalDocument.filter(sale_id=sale.id).update(issued_at=datetime.now(UTC) - timedelta(hours=25))
    figures = await fiscal_figures()
    assert (figures.pending, figures.ageing) == (1, 1) and figures.oldest_pending_seconds > 24 * 3600
    change_settings(fiscal={"ageing_hours": 48.0})
    assert (await fiscal_figures()).ageing == 0


async def test_the_token_is_encrypted_at_rest_and_never_in_the_audit(fshop):
    token = fshop.sim.authority.token("fbr", "sandbox")
    stored = await FiscalCredential.get(authority="fbr")
    assert token not in stored.token_encrypted and await token_for(stored.authority) == token
    entries = await AuditEntry.filter(action="fiscal.token_set")
    assert entries and all(token not in str(e.__dict__) for e in entries)


async def test_a_malformed_posid_is_refused(fshop):
    for bad in ("12AB56", "0123456", "1234567890123"):
        with pytest.raises(OperationError) as caught:
            await set_counter_fiscal_registration(SYSTEM, fshop.counter.id, bad, True, f"bad-{bad}")
        assert (caught.value.problems[0].code, caught.value.problems[0].field) == (ErrorCode.INVALID, "posId")
    with pytest.raises(OperationError) as caught:
        await set_counter_fiscal_registration(SYSTEM, fshop.counter.id, None, True, "none")
    assert caught.value.problems[0].code is ErrorCode.INVALID
    assert POS_IDS[0] == 100001


async def test_two_workers_at_once_post_each_document_once(fshop):
    sold = [await sell(fshop, 1, key=f"many-{i}") for i in range(6)]
    await asyncio.gather(drain_fiscal(10), drain_fiscal(10), report_due(2))
    for sale in sold:
        [held] = fshop.sim.invoices(sale.number)
        assert held.repeats == 0 and (await invoice_of(sale)).fiscal_number == held.invoice_number


async def test_tokens_survive_a_secret_rotation(fshop, change_settings):
    from operations.fiscal import reencrypt_fiscal_tokens
    from operations.kernel import SecretKeys, current_settings

    token = fshop.sim.authority.token("fbr", "sandbox")
    old = current_settings().keys.secret
    change_settings(keys=SecretKeys("a rotated server secret for the fiscal test", (old,)))
    assert await token_for(FiscalAuthority.FBR) == token  # still read under the previous secret
    assert await reencrypt_fiscal_tokens() == 1
    change_settings(keys=SecretKeys("a rotated server secret for the fiscal test"))
    assert await token_for(FiscalAuthority.FBR) == token


async def test_an_exchange_above_the_threshold_without_a_buyer_is_refused(fshop, change_settings):
    sale = await sell(fshop, 1)
    change_settings(fiscal={"buyer_threshold": D("2000")})
    with pytest.raises(OperationError) as caught:
        await exchanges.create_exchange(
            fshop.cashier,
            exchanges.ExchangeRequest(
                sale_id=sale.id,
                counter_id=fshop.counter.id,
                return_lines=[returns.ReturnItem(1, 1)],
                new_lines=[sales.CheckoutLine(VariantRef(id=fshop.shawl.id), 1)],
                tenders=[sales.Payment(TenderType.CARD, D("1320.00"))],
                idempotency_key="ex-big",
            ),
        )
    assert caught.value.problems[0].code is ErrorCode.BUYER_DETAILS_REQUIRED
    assert await FiscalDocument.filter(kind=FiscalKind.CREDIT_NOTE).count() == 0


async def test_without_a_token_nothing_is_sent_and_no_attempt_is_used_up(fshop):
    await FiscalCredential.all().delete()
    sale = await sell(fshop)
    await report_due()
    row = await OutboxRow.get(key=f"fbr:{sale.number}")
    assert (row.status, row.attempts) == ("pending", 0) and "setFiscalToken" in row.last_error
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)  # looked at again rarely
    assert fshop.sim.all_invoices() == []
