"""Per-request context: who is calling, and request-scoped DataLoaders."""

from dataclasses import dataclass, field
from typing import Any

from resolvers.loaders import Loaders


@dataclass
class Context:
    request: Any = None
    response: Any = None
    # Until staff sign-in lands (counter billing issue) every caller acts as "api".
    actor: str = "api"
    connection_params: dict | None = None
    loaders: Loaders = field(default_factory=Loaders)
