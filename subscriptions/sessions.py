"""Open WebSockets by sign-in session, so that ending a session ends its sockets in every process.

A socket is signed in once, by its connection_init. Without this, a logout or a deactivated account
left it open: it kept its subscriptions and ran whatever it sent next. Now:

- each server process keeps its open sockets here, by session and by staff member (`registry`);
- `announce_revoked` (the account operations call it once the rows are changed) closes this
  process's sockets of those sessions or staff at once, and publishes the ids on REVOKED_CHANNEL;
- `watch_revocations` (one bus subscription per server process, started by the lifespan) closes
  the sockets named there, so a logout on one process closes the socket on another;
- a timer per socket closes it when its session expires.

The bus delivers at most once. A GAP on the channel (the Redis backend reconnected) or an overflow
means announcements may have been missed, so every open socket's session is checked again against
the database, by the function the server passes in (this package does not read the database).
Independently, every operation a socket sends re-checks its session first (server/ws_handlers.py),
so a missed announcement never lets an ended session do anything new. Sockets close with
SESSION_ENDED_CLOSE_CODE (4403, graphql-transport-ws's "Forbidden"): clients sign in again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from subscriptions import live
from subscriptions.bus import GAP, Bus, BusClosed, SlowConsumer

log = logging.getLogger(__name__)

REVOKED_CHANNEL = "sessions:revoked"
SESSION_ENDED_CLOSE_CODE = 4403
# graphql-transport-ws's "too many": the graphql-ws client library does not retry on it, which is
# right for a session that already has all the sockets it may have.
TOO_MANY_SOCKETS_CLOSE_CODE = 4429
ENDED = "session ended (signed out or deactivated): sign in again"
EXPIRED = "session expired: sign in again"

Close = Callable[[int, str], Awaitable[None]]
# Given session ids, the ones that are no longer valid (revoked, expired, staff inactive, gone).
FindEnded = Callable[[set[int]], Awaitable[set[int]]]


class TooManySockets(Exception):
    pass


@dataclass(eq=False)  # compared and hashed by identity: two sockets of one session are two entries
class OpenSocket:
    session_id: int
    staff_id: int
    close: Close
    expiry: asyncio.TimerHandle | None = None
    ending: bool = False


class SocketRegistry:
    """This process's open sockets. The per-session limit is per process: sockets on other processes
    are not counted (a shared count would need the database or Redis on every connect)."""

    def __init__(self) -> None:
        self._by_session: dict[int, set[OpenSocket]] = {}
        self._by_staff: dict[int, set[OpenSocket]] = {}
        self._closing: set[asyncio.Task[None]] = set()  # strong references until each close is done

    def open(self, session_id: int, staff_id: int, expires_at: datetime, close: Close, *, limit: int) -> OpenSocket:
        sockets = self._by_session.setdefault(session_id, set())
        if len(sockets) >= limit:
            if not sockets:
                del self._by_session[session_id]
            raise TooManySockets(f"too many connections for this session (at most {limit}): close one first")
        socket = OpenSocket(session_id, staff_id, close)
        sockets.add(socket)
        self._by_staff.setdefault(staff_id, set()).add(socket)
        left = (expires_at - datetime.now(UTC)).total_seconds()
        socket.expiry = asyncio.get_running_loop().call_later(max(left, 0), self._end, socket, EXPIRED)
        return socket

    def forget(self, socket: OpenSocket | None) -> None:
        if socket is None:
            return
        if socket.expiry is not None:
            socket.expiry.cancel()
        for index, key in ((self._by_session, socket.session_id), (self._by_staff, socket.staff_id)):
            sockets = index.get(key)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del index[key]

    def end(self, session_ids: Iterable[int] = (), staff_ids: Iterable[int] = (), reason: str = ENDED) -> int:
        """Closes these sessions' and staff members' sockets; how many were open here."""
        doomed = {s for i in session_ids for s in self._by_session.get(i, ())}
        doomed |= {s for i in staff_ids for s in self._by_staff.get(i, ())}
        for socket in doomed:
            self._end(socket, reason)
        return len(doomed)

    def session_ids(self) -> set[int]:
        return set(self._by_session)

    def _end(self, socket: OpenSocket, reason: str) -> None:
        if socket.ending:
            return
        socket.ending = True
        if socket.expiry is not None:
            socket.expiry.cancel()
        task = asyncio.get_running_loop().create_task(self._close(socket, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, socket: OpenSocket, reason: str) -> None:
        try:
            await socket.close(SESSION_ENDED_CLOSE_CODE, reason)
        except Exception:  # the socket is going anyway; its handler forgets it when it stops
            log.exception("closing a socket of an ended session failed")


registry = SocketRegistry()


async def announce_revoked(session_ids: Iterable[int] = (), staff_ids: Iterable[int] = ()) -> None:
    """Close every socket of these sessions, and of these staff members, in every server process.

    Call it after the change (revoked_at, active) is written: a socket that reconnects at once must
    find the session ended. Without a bus (CLI commands) only this process is told, which has no
    sockets; servers then refuse the sockets' next operation and close them at the next re-check.
    """
    sessions = sorted({int(i) for i in session_ids})
    staff = sorted({int(i) for i in staff_ids})
    if not sessions and not staff:
        return
    registry.end(sessions, staff)  # this process's at once, whatever the bus does
    bus = live.current()
    if bus is None:
        return
    try:
        await bus.publish(REVOKED_CHANNEL, orjson.dumps({"sessions": sessions, "staff": staff}).decode())
    except Exception:  # the rows are changed; other processes find out at their next re-check
        log.exception("could not announce ended sessions %s and staff %s", sessions, staff)


async def watch_revocations(bus: Bus, find_ended: FindEnded, retry_after: float = 1.0) -> None:
    """Runs for the life of the server: closes this process's sockets of sessions ended anywhere."""
    while True:
        try:
            async with bus.subscribe([REVOKED_CHANNEL]) as subscription:
                # Subscribed first, then checked: an ending between the two is caught by one or the other.
                await _recheck(find_ended)
                async for event in subscription:
                    if event.message == GAP:
                        await _recheck(find_ended)
                    else:
                        _apply(event.message)
        except BusClosed:
            return  # the server is stopping
        except SlowConsumer:
            log.warning("the session revocation queue overflowed: checking every open socket again")
        except Exception:
            log.exception("watching for ended sessions failed: subscribing again")
            await asyncio.sleep(retry_after)


async def _recheck(find_ended: FindEnded) -> None:
    open_sessions = registry.session_ids()
    if not open_sessions:
        return
    ended = await find_ended(open_sessions)
    if ended:
        log.info("closing the sockets of %d ended sessions found on a re-check", len(ended))
        registry.end(ended)


def _apply(message: str) -> None:
    try:
        body = orjson.loads(message)
        sessions = [int(i) for i in body.get("sessions", ())]
        staff = [int(i) for i in body.get("staff", ())]
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        log.warning("ignored a malformed session revocation: %.200r", message)
        return
    registry.end(sessions, staff)
