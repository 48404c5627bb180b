"""Transfers between branches: requests and the steps that move the stock."""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.transfers.movement import (
    DispatchLine,
    LineRef,
    Receipt,
    ReceiveLine,
    close_transfer,
    dispatch_transfer,
    receive_transfer,
    return_discrepancy_to_stock,
)
from operations.transfers.requests import (
    IN_TRANSIT,
    NewTransfer,
    RequestLine,
    approve_transfer,
    cancel_transfer,
    create_transfer,
    submit_transfer,
)

__all__ = [
    "IN_TRANSIT",
    "DispatchLine",
    "LineRef",
    "NewTransfer",
    "Receipt",
    "ReceiveLine",
    "RequestLine",
    "approve_transfer",
    "cancel_transfer",
    "close_transfer",
    "create_transfer",
    "dispatch_transfer",
    "receive_transfer",
    "return_discrepancy_to_stock",
    "submit_transfer",
]
