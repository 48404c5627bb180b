"""Per-execution context handed to every resolver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import SimShop


@dataclass
class BulkWindow:
    """Which slice of the root connection one bulk execution pass returns (nested connections return all)."""

    offset: int
    limit: int


@dataclass
class RequestContext:
    shop: SimShop
    version: tuple[int, int]
    version_str: str
    bulk: BulkWindow | None = None
