"""Keyset pagination: `first` required and capped, cursors that survive inserts.

Offsets shift when rows are added during paging (a cashier selling while a dashboard pages);
keyset cursors ("the last id I saw") do not.
"""

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry import relay

from schema.errors import BadRequest

MAX_PAGE = 100
T = TypeVar("T")


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("k:"):
            raise ValueError
        return int(text[2:])
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"invalid cursor {cursor!r}", field="after") from None


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"first must be between 1 and {MAX_PAGE}", field="first")


async def keyset_page(
    queryset: Any,
    *,
    first: int,
    after_key: int | None,
    key: str,
    to_node: Callable[[Any], T],
    cursor: Callable[[Any], str] | None = None,
    descending: bool = False,
) -> relay.Connection[T]:
    """One page ordered by `key` ascending (newest first when `descending`), strictly after `after_key`."""
    check_first(first)
    if after_key is not None:
        queryset = queryset.filter(**{f"{key}__{'lt' if descending else 'gt'}": after_key})
    rows = await queryset.order_by(f"-{key}" if descending else key).limit(first + 1)
    make_cursor = cursor or (lambda row: encode_cursor(getattr(row, key)))
    return page_of(rows, first=first, after_key=after_key, to_node=to_node, cursor=make_cursor)


def page_of(
    rows: list[Any],
    *,
    first: int,
    after_key: int | None,
    to_node: Callable[[Any], T],
    cursor: Callable[[Any], str],
) -> relay.Connection[T]:
    """A page from the rows read after `after_key` in the page's order, up to `first` + 1 of them (the one
    more says whether there is a next page): for lists an operation reads itself, e.g. with raw SQL."""
    has_next = len(rows) > first
    rows = rows[:first]
    edges = [relay.Edge(cursor=cursor(row), node=to_node(row)) for row in rows]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after_key is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
