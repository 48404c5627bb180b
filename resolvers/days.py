"""What the list queries share for finding things: query arguments' IDs, and a `from`/`to` filter over
local calendar days (each branch's own time zone, operations/directory/branches.py `local_days_at`)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from tortoise.expressions import Q

from operations.directory import local_days_at
from operations.kernel import OperationError
from schema import ids
from schema.errors import BadRequest


def query_id(value: str, type_name: str, field: str) -> int:
    """A query has no payload: a bad ID is a GraphQL error the client can read."""
    try:
        return ids.decode(value, type_name, field)
    except OperationError as error:
        raise BadRequest(str(error), field=field) from None


async def within_days(
    queryset: Any,
    first: date | None,
    last: date | None,
    *,
    branch_ids: Iterable[int] | None,
    at: str,
    branch: str = "branch_id",
) -> Any:
    """Rows whose `at` falls on the local days `first` to `last` (both included; either may be left open) at
    their branch (`branch`: the field naming it), among `branch_ids` (None: every branch): a sale at 23:30 in
    Karachi is on that Karachi day, though it is 18:30 UTC."""
    if first is None and last is None:
        return queryset
    if first is not None and last is not None and first > last:
        raise BadRequest("from is after to", field="to")
    spans = await local_days_at(branch_ids, first, last)
    if not spans:
        return queryset.filter(id__in=[])
    where = Q()
    for i, span in enumerate(spans):
        one = Q(**{f"{branch}__in": list(span.branch_ids)})
        if span.start is not None:
            one &= Q(**{f"{at}__gte": span.start})
        if span.end is not None:
            one &= Q(**{f"{at}__lt": span.end})
        where = one if i == 0 else where | one
    return queryset.filter(where)
