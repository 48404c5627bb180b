"""Shopify orders in one internal shape, whichever way they arrive.

A webhook carries the REST shape (numeric ids plus `admin_graphql_api_id`, times with the shop's
UTC offset); `ensure_order` and the poll read the GraphQL shape (GIDs, connections). Both become an
`IncomingOrder`. The REST body does not say where Shopify assigned the order: that comes from its
fulfillment orders (`Placement`), read over GraphQL. A body missing what an order must carry is
refused with MALFORMED_WEBHOOK before anything is written.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from operations.kernel import ErrorCode, OperationError, current_settings


def is_cod(gateways: list[str]) -> bool:
    """Paid by one of the gateway names that mean cash on delivery (setting BRANCHLINE_COD_GATEWAYS)."""
    cod_gateways = current_settings().orders.cod_gateways
    return any(g.strip().lower() in cod_gateways for g in gateways)


@dataclass(frozen=True)
class IncomingLine:
    shopify_line_item_id: str  # gid://shopify/LineItem/…
    variant_gid: str | None  # None for a custom line (no product behind it)
    sku: str | None
    title: str
    quantity: int  # Shopify's current quantity: after edits, removals and refunds
    unit_price: Decimal


@dataclass(frozen=True)
class IncomingOrder:
    shopify_order_id: str
    name: str
    updated_at: datetime
    created_at: datetime | None
    cancelled_at: datetime | None
    financial_status: str
    gateways: list[str]
    currency: str
    total: Decimal
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    shipping_address: dict
    lines: list[IncomingLine]
    # False when Shopify has more lines than were read (a GraphQL page): a line not read is unknown, not removed.
    lines_complete: bool = True
    shopify_customer_id: str | None = None  # the Shopify customer's GID, when the order names one

    @property
    def is_cod(self) -> bool:
        return is_cod(self.gateways)


@dataclass(frozen=True)
class Placement:
    """Where Shopify holds the order now, from its fulfillment orders."""

    location_gid: str | None  # the location holding most of the units still to ship
    tracked: dict[str, bool] = field(default_factory=dict)  # line item gid -> inventory tracked
    fulfillment_orders: list[dict] = field(default_factory=list)  # {"id", "status", "locationId", "lines"}


def _malformed(message: str, field_name: str | None = None) -> OperationError:
    return OperationError.single(ErrorCode.MALFORMED_WEBHOOK, message, field_name)


def _time(value: Any, name: str, *, required: bool = False) -> datetime | None:
    if value is None or value == "":
        if required:
            raise _malformed(f"the order has no {name}", name)
        return None
    if not isinstance(value, str):
        raise _malformed(f"{name} is not a timestamp", name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _malformed(f"{name} is not a timestamp: {value[:40]!r}", name) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _money(value: Any, name: str) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _malformed(f"{name} is not an amount: {str(value)[:40]!r}", name) from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise _malformed(f"{name} is out of range", name)
    return amount.quantize(Decimal("0.01"))


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise _malformed(f"{name} must be a whole number of units", name)
    return value


def gid(kind: str, value: Any) -> str | None:
    """A GID from a REST numeric id (or a GID already); None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("gid://"):
        return value
    if (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit()):
        return f"gid://shopify/{kind}/{value}"
    raise _malformed(f"not a Shopify {kind} id: {str(value)[:60]!r}")


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _customer_gid(customer: dict | None) -> str | None:
    """The customer's GID: GraphQL's `id`, a webhook's `admin_graphql_api_id` (or its numeric `id`)."""
    if not isinstance(customer, dict):
        return None
    value = customer.get("admin_graphql_api_id") or customer.get("id")
    if isinstance(value, str) and value.startswith("gid://shopify/Customer/"):
        return value[:80]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return f"gid://shopify/Customer/{value}"
    return None


def _customer_name(customer: dict | None) -> str:
    if not isinstance(customer, dict):
        return ""
    first = customer.get("first_name") or customer.get("firstName") or ""
    last = customer.get("last_name") or customer.get("lastName") or ""
    return f"{first} {last}".strip()[:255]


def from_webhook(payload: Any) -> IncomingOrder:
    """The REST order body of an orders/* webhook."""
    if not isinstance(payload, dict):
        raise _malformed("the webhook body is not a JSON object")
    order_gid = payload.get("admin_graphql_api_id") or gid("Order", payload.get("id"))
    if not isinstance(order_gid, str) or not order_gid.startswith("gid://shopify/Order/"):
        raise _malformed("the order has no id", "id")
    items = payload.get("line_items")
    if not isinstance(items, list):
        raise _malformed("the order has no line_items", "line_items")
    lines = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _malformed(f"line {i} is not an object", f"line_items.{i}")
        line_gid = item.get("admin_graphql_api_id") or gid("LineItem", item.get("id"))
        if not line_gid:
            raise _malformed(f"line {i} has no id", f"line_items.{i}.id")
        quantity = item.get("current_quantity", item.get("quantity"))
        lines.append(
            IncomingLine(
                shopify_line_item_id=line_gid,
                variant_gid=gid("ProductVariant", item.get("variant_id")),
                sku=_text(item.get("sku"), 100) or None,
                title=_text(item.get("name") or item.get("title"), 255),
                quantity=_count(quantity, f"line_items.{i}.current_quantity"),
                unit_price=_money(item.get("price"), f"line_items.{i}.price"),
            )
        )
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else None
    gateways = payload.get("payment_gateway_names") or []
    if not isinstance(gateways, list) or not all(isinstance(g, str) for g in gateways):
        raise _malformed("payment_gateway_names is not a list of names", "payment_gateway_names")
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        raise _malformed("the order has no name", "name")
    address = payload.get("shipping_address")
    return IncomingOrder(
        shopify_order_id=order_gid,
        name=name[:40],
        updated_at=_time(payload.get("updated_at"), "updated_at", required=True),
        created_at=_time(payload.get("created_at"), "created_at"),
        cancelled_at=_time(payload.get("cancelled_at"), "cancelled_at"),
        financial_status=_text(payload.get("financial_status"), 30).lower() or "pending",
        gateways=[g[:80] for g in gateways],
        currency=_text(payload.get("currency"), 3) or "PKR",
        total=_money(payload.get("total_price"), "total_price"),
        customer_name=_customer_name(customer),
        customer_phone=(_text(customer.get("phone"), 40) or None) if customer else None,
        customer_email=(_text(customer.get("email"), 255) or None) if customer else None,
        shipping_address=address if isinstance(address, dict) else {},
        lines=lines,
        shopify_customer_id=_customer_gid(customer),
    )


def _nodes(connection: Any) -> list[dict]:
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return connection["nodes"]
    return [e["node"] for e in connection.get("edges") or [] if isinstance(e, dict) and e.get("node")]


def from_graphql(node: Any) -> tuple[IncomingOrder, Placement]:
    """An order as `ORDER_FIELDS` in shopify/documents.py reads it, with its placement."""
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        raise _malformed("Shopify returned no order")
    lines = []
    for i, item in enumerate(_nodes(node.get("lineItems"))):
        price = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
        lines.append(
            IncomingLine(
                shopify_line_item_id=item["id"],
                variant_gid=(item.get("variant") or {}).get("id"),
                sku=_text(item.get("sku"), 100) or None,
                title=_text(item.get("name") or item.get("title"), 255),
                quantity=_count(item.get("currentQuantity"), f"lineItems.{i}.currentQuantity"),
                unit_price=_money(price, f"lineItems.{i}.price"),
            )
        )
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else None
    total = ((node.get("currentTotalPriceSet") or node.get("totalPriceSet") or {}).get("shopMoney") or {}).get("amount")
    incoming = IncomingOrder(
        shopify_order_id=node["id"],
        name=_text(node.get("name"), 40) or node["id"].rsplit("/", 1)[-1],
        updated_at=_time(node.get("updatedAt"), "updatedAt", required=True),
        created_at=_time(node.get("createdAt"), "createdAt"),
        cancelled_at=_time(node.get("cancelledAt"), "cancelledAt"),
        financial_status=_text(node.get("displayFinancialStatus"), 30).lower() or "pending",
        gateways=[g[:80] for g in node.get("paymentGatewayNames") or [] if isinstance(g, str)],
        currency=_text(node.get("currencyCode"), 3) or "PKR",
        total=_money(total, "totalPriceSet"),
        customer_name=_customer_name(customer),
        customer_phone=(_text(customer.get("phone"), 40) or None) if customer else None,
        customer_email=(_text(customer.get("email"), 255) or None) if customer else None,
        shipping_address={},
        lines=lines,
        lines_complete=not ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage", False),
        shopify_customer_id=_customer_gid(customer),
    )
    return incoming, placement_of(node)


OPEN_FULFILLMENT_ORDER = ("OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD")


def placement_of(node: dict) -> Placement:
    """The location holding most of the units still to ship (the first one on a tie), and which
    line items Shopify tracks stock for (an untracked item is never committed, so never reserved)."""
    tracked: dict[str, bool] = {}
    fulfillment_orders: list[dict] = []
    remaining: dict[str, int] = {}
    first_location = None
    for fo in _nodes(node.get("fulfillmentOrders")):
        location = (((fo.get("assignedLocation") or {}).get("location")) or {}).get("id")
        first_location = first_location or location
        fo_lines = []
        for fli in _nodes(fo.get("lineItems")):
            line_gid = (fli.get("lineItem") or {}).get("id")
            item = ((fli.get("variant") or {}).get("inventoryItem")) or {}
            if line_gid:
                tracked[line_gid] = tracked.get(line_gid, False) or bool(item.get("tracked", True))
            fo_lines.append({"id": fli.get("id"), "lineItemId": line_gid, "remaining": fli.get("remainingQuantity", 0)})
            if location and fo.get("status") in OPEN_FULFILLMENT_ORDER:
                remaining[location] = remaining.get(location, 0) + (fli.get("remainingQuantity") or 0)
        fulfillment_orders.append(
            {"id": fo.get("id"), "status": fo.get("status"), "locationId": location, "lines": fo_lines}
        )
    best = max(remaining, key=lambda loc: remaining[loc], default=None) if any(remaining.values()) else None
    return Placement(best or first_location, tracked, fulfillment_orders)
