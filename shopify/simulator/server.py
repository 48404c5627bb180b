"""Running the simulator for real: an in-loop uvicorn server for tests, and the `branchline shopify-sim` CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from .app import create_simulator_app
from .store import SimShop


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve any ASGI app with uvicorn inside the current event loop; yields "http://host:port"."""
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says it is TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1, access_log=False)
    server = uvicorn.Server(config)
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


@contextlib.asynccontextmanager
async def serve_simulator(shop: SimShop, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run the simulator on a free port for the duration of the block; sets shop.public_url."""
    app = create_simulator_app(shop)
    async with serve_app(app, host, port) as url:
        shop.public_url = url
        try:
            yield url
        finally:
            shop.public_url = None


def _banner(shop: SimShop, url: str) -> str:
    return (
        f"Shopify simulator for {shop.domain} at {url}\n"
        f"  GraphQL:  POST {url}/admin/api/2026-10/graphql.json  (send Host: {shop.domain})\n"
        f"  Token:    X-Shopify-Access-Token: {shop.access_token}\n"
        f"  Secret:   {shop.client_secret} (webhook HMAC)\n"
        f"  Controls: {url}/_sim/state\n"
        f"  {len(shop.locations)} locations, {len(shop.products)} products, {len(shop.variants)} variants"
    )


async def _serve_forever(shop: SimShop, host: str, port: int) -> None:
    async with serve_simulator(shop, host, port) as url:
        print(_banner(shop, url), flush=True)
        await asyncio.Event().wait()


def cli_main(port: int, host: str = "127.0.0.1", seed_file: str | None = None) -> int:
    """Entry point for `branchline shopify-sim --port N [--seed FILE]`: serve until interrupted."""
    shop = SimShop()
    if seed_file:
        shop.load(seed_file)
    else:
        shop.seed_demo()
    try:
        asyncio.run(_serve_forever(shop, host, port))
    except KeyboardInterrupt:
        pass
    finally:
        shop.close()
    return 0


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shopify-sim", description="Local Shopify Admin GraphQL API simulator")
    parser.add_argument("--port", type=int, default=8100)  # as `branchline shopify-sim` (server/cli.py)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", dest="seed_file", default=None, help="JSON file written by SimShop.dump()")
    args = parser.parse_args(argv)
    return cli_main(args.port, args.host, args.seed_file)


if __name__ == "__main__":
    sys.exit(run())
