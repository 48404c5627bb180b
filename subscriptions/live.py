"""The process's bus, set by the server's lifespan, and publishing of committed events."""

import logging
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from subscriptions.bus import Bus

log = logging.getLogger(__name__)

_bus: "Bus | None" = None


def install(bus: "Bus | None") -> None:
    global _bus
    _bus = bus


def current() -> "Bus | None":
    return _bus


async def publish_many(events: list[tuple[str, dict[str, Any]]]) -> None:
    """One message per channel carrying that channel's events in order (a JSON array)."""
    if _bus is None or not events:
        return  # CLI commands and migrations run without a bus: nobody is listening
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for channel, event in events:
        by_channel.setdefault(channel, []).append(event)
    for channel, batch in by_channel.items():
        try:
            await _bus.publish(channel, orjson.dumps(batch).decode())
        except Exception:  # the change is committed; subscribers backfill from the ledger
            log.exception("could not publish %d committed events on %s", len(batch), channel)
