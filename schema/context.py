"""Per-request context: who is calling, and the request's DataLoaders (schema/loaders.py)."""

from dataclasses import dataclass, field
from typing import Any

from operations.kernel import ANONYMOUS, Actor
from schema.loaders import Loaders


@dataclass
class Context:
    request: Any = None
    response: Any = None
    actor: Actor = ANONYMOUS
    connection_params: dict | None = None
    loaders: Loaders = field(default_factory=Loaders)

    @classmethod
    def of(cls, request: Any, response: Any) -> "Context":
        """An HTTP request's context lives as long as the request: its loaders cache what it read. A
        WebSocket's lives as long as the socket, so its loaders keep nothing (schema/loaders.py)."""
        socket = request is not None and request.scope["type"] == "websocket"
        return cls(request=request, response=response, loaders=Loaders(cache=not socket))
