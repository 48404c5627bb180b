"""GraphQL enums that mirror a model's enum: the members' names go out, their stored values stay inside."""

from enum import Enum
from typing import Any

import strawberry


def mirrored(source: type[Enum], name: str, description: str | None = None) -> Any:
    """A GraphQL enum named `name` with `source`'s members (NAME = the value the database stores), so the
    API's enum and the model's never drift apart."""
    return strawberry.enum(Enum(name, {m.name: m.value for m in source}), name=name, description=description)
