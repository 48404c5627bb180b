"""An order's history and its live `orderEvents`, written in the transaction that changed the order.

Every step of an online order (intake, update, routing, COD steps, fulfilment, return) leaves one
`OrderHistory` row and one event on the order's branch channel. The event goes out only after the
transaction commits (`Transaction.publish_after_commit`), so a rolled-back step is never announced.
An order waiting for a branch (its Shopify location is not mapped) is announced on channel
`orders:0`, which the online-orders screen of a caller who sees every branch also listens to.
"""

from datetime import UTC, datetime
from typing import Any

from models.orders import Order, OrderEventKind, OrderHistory
from operations.kernel import Transaction
from subscriptions.channels import orders_channel

UNASSIGNED_BRANCH = 0  # channel id for orders that have no branch yet


def channel_of(branch_id: int | None) -> str:
    return orders_channel(branch_id if branch_id is not None else UNASSIGNED_BRANCH)


def event_of(order: Order, kind: str, history_id: int | None, occurred_at: datetime) -> dict[str, Any]:
    """The `orderEvents` payload as published on the bus (plain JSON: it crosses processes)."""
    return {
        "historyId": history_id,
        "orderId": order.id,
        "shopifyOrderId": order.shopify_order_id,
        "name": order.name,
        "kind": kind,
        "branchId": order.branch_id,
        "status": _plain(order.status),
        "codStatus": _plain(order.cod_status),
        "exceptionCode": order.exception_code,
        "occurredAt": occurred_at.isoformat(),
    }


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


async def record(tx: Transaction, order: Order, kind: str, detail: dict | None = None, actor: str = "system") -> None:
    """Append to the order's history and announce it after commit on the order's branch channel.
    `kind` is one of OrderEventKind (clients see it as an enum: an unknown kind is refused here, not there).

    A routing step is also announced to the branch the order left (`detail["fromBranchId"]`), so
    that branch's screen drops the order without reloading."""
    kind = OrderEventKind(kind).value
    now = datetime.now(UTC)
    entry = await OrderHistory.create(
        order_id=order.id, kind=kind, detail=detail or {}, actor=actor[:120], occurred_at=now, using_db=tx.conn
    )
    event = event_of(order, kind, entry.id, now)
    channels = {channel_of(order.branch_id)}
    if detail and "fromBranchId" in detail:
        channels.add(channel_of(detail["fromBranchId"]))
    for channel in sorted(channels):
        tx.publish_after_commit(channel, event)
