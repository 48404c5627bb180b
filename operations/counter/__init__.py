"""The counter: checkout, pricing, receipts, drafts, offline uploads, returns, exchanges, registers and their
reports.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.counter.checkouts import Checkout, CheckoutLine, Payment, checkout, receipt_of
from operations.counter.drafts import Draft, place_draft, release_expired_holds, save_draft, void_sale
from operations.counter.exchanges import ExchangeRequest, create_exchange
from operations.counter.fiscal_outbox import CREDIT_NOTE_TOPIC as FISCAL_CREDIT_NOTE_TOPIC
from operations.counter.fiscal_outbox import INVOICE_TOPIC as FISCAL_INVOICE_TOPIC
from operations.counter.offline import OfflineSale, sync_offline_sales
from operations.counter.pricing import PriceLine, TenderType, price_sale
from operations.counter.pricing import Tender as PricedTender
from operations.counter.pricing import settle as settle_tenders
from operations.counter.receipts import render_thermal
from operations.counter.register_reports import RegisterReport, register_report
from operations.counter.registers import close_register, current_register, end_shift, open_register, record_cash
from operations.counter.reprints import reprint_receipt
from operations.counter.returns import ReturnItem, ReturnRequest, create_return

__all__ = [
    "FISCAL_CREDIT_NOTE_TOPIC",
    "FISCAL_INVOICE_TOPIC",
    "Checkout",
    "CheckoutLine",
    "Draft",
    "ExchangeRequest",
    "OfflineSale",
    "Payment",
    "PriceLine",
    "PricedTender",
    "RegisterReport",
    "ReturnItem",
    "ReturnRequest",
    "TenderType",
    "checkout",
    "close_register",
    "create_exchange",
    "create_return",
    "current_register",
    "end_shift",
    "open_register",
    "place_draft",
    "price_sale",
    "receipt_of",
    "record_cash",
    "register_report",
    "release_expired_holds",
    "render_thermal",
    "reprint_receipt",
    "save_draft",
    "settle_tenders",
    "sync_offline_sales",
    "void_sale",
]
