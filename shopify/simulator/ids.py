"""Shopify global ids (GIDs), timestamps and API-version parsing shared by every simulator module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from graphql import GraphQLError

# Orders, line items, customers, refunds, fulfillments and inventory items get ids above 2**53 like the real
# platform, so a client that parses webhook JSON numbers as doubles corrupts them and a test can see it.
BIG_ID_START = 820982911946154508
# Products, variants, locations and the rest use 13/14-digit ids (below 2**53), as real shops do.
SMALL_ID_START = 7_310_000_000_000

# REST-shaped webhook payloads use the shop's time zone; the demo shop is in Pakistan.
SHOP_TZ = timezone(timedelta(hours=5))

_GID_RE = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(\?.*)?$")
_VERSION_RE = re.compile(r"^(\d{4})-(01|04|07|10)$")
OLDEST_VERSION = (2025, 10)


@dataclass(frozen=True)
class Gid:
    type: str
    id: int
    query: str = ""


def gid(type_name: str, num: int) -> str:
    return f"gid://shopify/{type_name}/{num}"


def level_gid(location_id: int, item_id: int) -> str:
    """InventoryLevel's compound id: the location number, then the item as a query parameter."""
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"


def parse_gid(value: object) -> Gid | None:
    if not isinstance(value, str):
        return None
    m = _GID_RE.match(value)
    if not m:
        return None
    return Gid(m.group(1), int(m.group(2)), (m.group(3) or "")[1:])


def expect_gid(value: object, type_name: str) -> int:
    """Numeric id of a GID of `type_name`; a malformed id or one of another type is a GraphQL error, as on Shopify."""
    parsed = parse_gid(value)
    if parsed is None or parsed.type != type_name or parsed.query:
        raise GraphQLError(f"Invalid id: {value}", extensions={"code": "INVALID_ID"})
    return parsed.id


def maybe_gid(value: object, type_name: str) -> int | None:
    """Like expect_gid, but None instead of an error (used where Shopify answers with a userError)."""
    parsed = parse_gid(value)
    if parsed is None or parsed.type != type_name or parsed.query:
        return None
    return parsed.id


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    """GraphQL DateTime: UTC, second precision, trailing Z (what the Admin API returns)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rest_time(dt: datetime | None) -> str | None:
    """REST/webhook timestamps carry the shop's UTC offset, e.g. 2026-11-26T15:00:00+05:00."""
    if dt is None:
        return None
    return dt.astimezone(SHOP_TZ).replace(microsecond=0).isoformat()


def parse_time(value: str) -> datetime:
    value = value.strip().strip("'\"")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def parse_version(version: str) -> tuple[int, int] | None:
    """(year, month) for a supported stable version string, else None (the endpoint answers 404)."""
    m = _VERSION_RE.match(version)
    if not m:
        return None
    parsed = (int(m.group(1)), int(m.group(2)))
    return parsed if parsed >= OLDEST_VERSION else None
