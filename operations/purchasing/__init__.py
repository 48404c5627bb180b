"""Purchasing: suppliers, purchase orders, goods received, valuation at weighted average cost."""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.purchasing.orders import (
    NewPurchaseOrder,
    OrderLine,
    cancel_purchase_order,
    close_purchase_order,
    create_purchase_order,
    place_purchase_order,
)
from operations.purchasing.receiving import GoodsIn, ReceiptLine, receive_goods
from operations.purchasing.suppliers import NewSupplier, create_supplier
from operations.purchasing.valuation import stock_valuation

__all__ = [
    "GoodsIn",
    "NewPurchaseOrder",
    "NewSupplier",
    "OrderLine",
    "ReceiptLine",
    "cancel_purchase_order",
    "close_purchase_order",
    "create_purchase_order",
    "create_supplier",
    "place_purchase_order",
    "receive_goods",
    "stock_valuation",
]
