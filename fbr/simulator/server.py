"""Running the simulator for real: an in-loop uvicorn server for tests and the demo, and a CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from .app import DROPPED_MARKER, create_simulator_app
from .store import SimAuthority


class _QuietDrops(logging.Filter):
    """uvicorn logs an error for every answer the simulator drops on purpose; those are not errors here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROPPED_MARKER


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn inside the current event loop; yields "http://host:port"."""
    # IPPROTO_TCP spelled out so asyncio sets TCP_NODELAY on accepted connections (no delayed-ACK stalls).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1, access_log=False)
    server = uvicorn.Server(config)
    quiet = _QuietDrops()
    logging.getLogger("uvicorn.error").addFilter(quiet)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited before starting")
            await asyncio.sleep(0.005)
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
        logging.getLogger("uvicorn.error").removeFilter(quiet)


@contextlib.asynccontextmanager
async def serve_simulator(authority: SimAuthority, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run the simulator on a free port for the duration of the block; sets authority.public_url (so
    `authority.post_url()` works). Requests held by a hang fault are let go when the block ends."""
    authority.rearm()
    app = create_simulator_app(authority)
    async with serve_app(app, host, port) as url:
        authority.public_url = url
        try:
            yield url
        finally:
            authority.release_hangs()
            authority.public_url = None


def _banner(authority: SimAuthority, url: str) -> str:
    lines = [f"FBR/PRA fiscal simulator at {url}"]
    for a in ("fbr", "pra"):
        for e in ("sandbox", "production"):
            lines.append(f"  {a.upper()} {e:<10} POST {authority.post_url(a, e)}  Bearer {authority.token(a, e)}")
    lines.append(f"  local component POST {authority.local_url} (no token)")
    lines.append(f"  registered POSIDs: {sorted({p[2] for p in authority.pos_ids})}; controls: {url}/_sim/state")
    return "\n".join(lines)


async def _serve_forever(authority: SimAuthority, host: str, port: int) -> None:
    async with serve_simulator(authority, host, port) as url:
        print(_banner(authority, url), flush=True)
        await asyncio.Event().wait()


def cli_main(
    port: int, host: str = "127.0.0.1", state_file: str | None = None, pos_ids: list[int] | None = None
) -> int:
    """Serve until interrupted; with `state_file`, invoices are loaded from and saved to it."""
    authority = SimAuthority()
    for pos_id in pos_ids or ():
        for a in ("fbr", "pra"):
            for e in ("sandbox", "production"):
                authority.register(pos_id, a, e)
    if state_file:
        with contextlib.suppress(FileNotFoundError):
            authority.load(state_file)
    try:
        asyncio.run(_serve_forever(authority, host, port))
    except KeyboardInterrupt:
        pass
    finally:
        if state_file:
            authority.dump(state_file)
    return 0


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fbr-sim", description="Local FBR/PRA IMS (POS fiscal) simulator")
    parser.add_argument("--port", type=int, default=8524)  # the local fiscal component's port
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state", dest="state_file", default=None, help="JSON file to load and save invoices")
    parser.add_argument("--pos-id", dest="pos_ids", type=int, action="append", help="register a POSID everywhere")
    args = parser.parse_args(argv)
    return cli_main(args.port, args.host, args.state_file, args.pos_ids)


if __name__ == "__main__":
    sys.exit(run())
