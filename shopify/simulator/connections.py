"""Relay-style pagination and Shopify's search syntax (`updated_at:>'2026-…' status:open`) over lists."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLResolveInfo

from .ids import parse_time

MAX_PAGE = 250

_TERM = re.compile(r"""(-?)([A-Za-z_]+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)|(\S+)""")


def _cursor(sort_value: Any, item_id: Any) -> str:
    if isinstance(sort_value, datetime):
        sort_value = sort_value.isoformat()
    return base64.b64encode(orjson.dumps({"last_id": item_id, "last_value": sort_value})).decode()


def _decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        data = orjson.loads(base64.b64decode(cursor))
        return data["last_value"], data["last_id"]
    except Exception as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc


def _ident(item: Any) -> Any:
    """Tie-breaker and cursor id: the numeric id, or the compound key for InventoryLevel."""
    if hasattr(item, "item_id") and hasattr(item, "location_id") and not hasattr(item, "id"):
        return f"{item.location_id}:{item.item_id}"
    return item.id


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None:
        return ""
    return value


def paginate(
    items: list,
    args: dict,
    info: GraphQLResolveInfo,
    sort: Callable[[Any], Any] | None = None,
) -> dict:
    """A connection dict (edges/nodes/pageInfo) over `items`, honouring first/after/last/before/reverse.

    In a bulk operation every connection returns all nodes (Shopify walks the pages itself); the root
    connection is fed to the runner in windows so a 100k-row export never sits in one result.
    """
    sort = sort or (lambda x: x.id)
    keyed = sorted(((_comparable(sort(x)), _ident(x), x) for x in items), key=lambda t: (t[0], t[1]))
    if args.get("reverse"):
        keyed.reverse()
    bulk = getattr(info.context, "bulk", None)
    if bulk is not None:
        if info.path.prev is None:
            keyed = keyed[bulk.offset : bulk.offset + bulk.limit]
        return _page(keyed, False, False)
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and (value > MAX_PAGE or value < 0):
            raise GraphQLError(
                f"The '{name}' argument must be between 0 and {MAX_PAGE}.", extensions={"code": "BAD_REQUEST"}
            )
    start, end = 0, len(keyed)
    reverse = bool(args.get("reverse"))

    def position(cursor: str) -> int:
        value, item_id = _decode_cursor(cursor)
        marker = (value, item_id)
        for n, (v, i, _) in enumerate(keyed):
            if (v, i) == marker:
                return n
        # The item is gone: find where it would sit.
        for n, (v, i, _) in enumerate(keyed):
            if ((v, i) > marker) != reverse:
                return n - 0.5
        return len(keyed) - 0.5

    if args.get("after"):
        start = int(position(args["after"]) + 1)
    if args.get("before"):
        end = int(position(args["before"]) + 0.5)
    window = keyed[start:end]
    has_next = has_prev = False
    if first is not None:
        has_next = len(window) > first
        window = window[:first]
        has_prev = start > 0
    if last is not None:
        has_prev = len(window) > last or (first is None and start > 0)
        window = window[-last:] if last else []
        has_next = has_next or end < len(keyed)
    return _page(window, has_next, has_prev)


def _page(window: list, has_next: bool, has_prev: bool) -> dict:
    edges = [{"cursor": _cursor(v, i), "node": x} for v, i, x in window]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# ---------------------------------------------------------------------------------------------- search
Getter = Callable[[Any], Any]


def search(items: list, query: str | None, fields: dict[str, Getter], text: Getter | None = None) -> list:
    """Filter by Shopify search syntax. Terms are ANDed; top-level ` OR ` splits alternatives.

    Unknown fields are ignored, as Shopify ignores them (it only adds a search warning).
    """
    if not query or not query.strip():
        return list(items)
    groups = [g for g in re.split(r"\s+OR\s+", query.strip()) if g]
    parsed = [_parse(g) for g in groups]
    return [x for x in items if any(all(_match(x, t, fields, text) for t in terms) for terms in parsed)]


def _parse(group: str) -> list[tuple]:
    terms = []
    for m in _TERM.finditer(group):
        if m.group(5):
            word = m.group(5)
            if word.upper() in ("AND", "NOT"):
                continue
            terms.append((False, None, "", word.strip("'\"")))
        else:
            terms.append((m.group(1) == "-", m.group(2).lower(), m.group(3) or "", m.group(4).strip("'\"")))
    return terms


def _match(item: Any, term: tuple, fields: dict[str, Getter], text: Getter | None) -> bool:
    negate, name, op, raw = term
    if name is None:
        ok = text is None or raw.lower() in (text(item) or "").lower()
        return ok != negate
    getter = fields.get(name)
    if getter is None:
        return True
    value = getter(item)
    if isinstance(value, datetime):
        value = value.replace(microsecond=0)  # Shopify compares at second precision
        try:
            other: Any = parse_time(raw)
        except ValueError:
            return True
    elif isinstance(value, bool):
        other = raw.lower() == "true"
    elif isinstance(value, int):
        try:
            other = int(raw)
        except ValueError:
            return False
    else:
        value, other = ("" if value is None else str(value)).lower(), raw.lower()
        if not op and other.endswith("*"):
            return value.startswith(other[:-1]) != negate
    if value is None:
        return negate
    result = {
        "": value == other,
        ">": value > other,
        ">=": value >= other,
        "<": value < other,
        "<=": value <= other,
    }[op]
    return result != negate
