"""Per-request context: who is calling, and request-scoped DataLoaders."""

from dataclasses import dataclass, field
from typing import Any

from operations.kernel.access import ANONYMOUS, Actor
from resolvers.loaders import Loaders


@dataclass
class Context:
    request: Any = None
    response: Any = None
    actor: Actor = ANONYMOUS
    connection_params: dict | None = None
    loaders: Loaders = field(default_factory=Loaders)
