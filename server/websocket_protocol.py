"""uvicorn's websockets-sansio protocol with a bound on what one socket may owe its peer.

uvicorn 0.54 does apply backpressure here (uvicorn/protocols/websockets/websockets_sansio_impl.py):
`send()` first waits for `writable`, which the transport clears once its write buffer passes the
high-water mark. But nothing ever times that wait out. A peer that stops reading parks every task
sending to it for good: the stockChanged stream behind it never reads its bus queue again (so never
learns it overflowed and never closes), and even `websocket.close` waits behind the data the peer
will never read. Meanwhile the kernel holds up to its autotuned send buffer (4 MB here) per socket.

This subclass, chosen in server/cli.py's `uvicorn.run(ws=...)`, takes its limits from the app: uvicorn
builds the protocol, not us, but hands each one the state the app's lifespan yielded, where the app
factory (server/app.py) puts `OutboundLimits` under `LIMITS_STATE_KEY`. It:

- bounds what one socket may hold: half of `ws_outbound_buffer_bytes` as the kernel's send buffer
  (SO_SNDBUF), half as the transport's high-water mark;
- gives a socket that is that far behind `ws_send_timeout` seconds to catch up; then it is closed
  with SLOW_CONSUMER_CLOSE_CODE (4801), the app is told the socket is gone (so its subscriptions
  end and free their queues), and every later send fails as a disconnect;
- never lets a close wait behind unread data: the close frame is queued at once, and a peer that has
  not answered it within uvicorn's close timeout (10 s) is aborted, rather than left holding buffers.

A peer that never reads again never sees the 4801 (it is behind what it did not read); one that
reads on within the close timeout does.
"""

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from subscriptions.bus import SLOW_CONSUMER_CLOSE_CODE

log = logging.getLogger(__name__)

SLOW_CONSUMER_REASON = "slow consumer: reconnect and resume with stockMovements(after:)"


LIMITS_STATE_KEY = "websocket_outbound_limits"


@dataclass(frozen=True)
class OutboundLimits:
    buffer_bytes: int = 256 * 1024
    send_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.buffer_bytes < 1024 or self.send_timeout <= 0:
            raise ValueError("ws_outbound_buffer_bytes must be at least 1024 and ws_send_timeout positive")


class BoundedWebSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # The app's lifespan state (uvicorn's `app_state`); the defaults when the app gave none.
        self.limits = self.app_state.get(LIMITS_STATE_KEY) or OutboundLimits()
        half = self.limits.buffer_bytes // 2
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, half)
            except OSError:  # the transport's bound below still holds
                pass
        transport.set_write_buffer_limits(high=half)

    async def send(self, message: Any) -> None:
        kind = message["type"]
        if not self.handshake_complete or self.initial_response is not None or self.disconnected:
            await super().send(message)  # the handshake, a refusal, or ClientDisconnected: as uvicorn does
            return
        if self.close_sent:
            # Closed here (slow, or the app closed it from another task): the app may not know yet.
            if kind == "websocket.send":
                raise ClientDisconnected()
            return
        if kind == "websocket.close":
            self._close_now(message.get("code", 1000), message.get("reason") or "")
            return
        if not self.writable.is_set():
            try:
                async with asyncio.timeout(self.limits.send_timeout):
                    await self.writable.wait()
            except TimeoutError:
                if not self.close_sent:
                    log.warning(
                        "closing a WebSocket that fell behind (%s): %d bytes unsent for %.1fs (code %d)",
                        ":".join(map(str, self.client)) if self.client else "?",
                        self.transport.get_write_buffer_size(),
                        self.limits.send_timeout,
                        SLOW_CONSUMER_CLOSE_CODE,
                    )
                    self._close_now(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON)
                raise ClientDisconnected() from None
            if self.close_sent or self.disconnected:
                raise ClientDisconnected()
        await super().send(message)

    def _close_now(self, code: int, reason: str) -> None:
        """uvicorn's close, without waiting for `writable` first: the frame goes behind what is queued."""
        if self.transport.is_closing():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:  # keep reading: the peer's answering close frame ends the handshake
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self._give_up)

    def _give_up(self) -> None:
        """The peer never answered the close: drop what it did not read instead of waiting on it."""
        self.close_timer = None
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()
