"""The attack suite runs against real servers (`branchline serve` over real HTTP and WebSocket), on
whichever backends the run uses (SQLite + memory, or PostgreSQL + Redis)."""

from tests.e2e.conftest import Server, free_port, owner_token, running_server, server  # noqa: F401
