"""A local, in-memory Shopify Admin GraphQL API (2026-10) for tests and demos. See docs/shopify-simulator.md."""

from .app import create_simulator_app
from .server import cli_main, run, serve_app, serve_simulator
from .store import SimShop
from .webhooks import sign

__all__ = ["SimShop", "cli_main", "create_simulator_app", "run", "serve_app", "serve_simulator", "sign"]
