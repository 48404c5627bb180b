"""Settings come in once, from the app factory (docs/architecture.md, rule 8): a value given to
`create_app` reaches operations while the app runs, with no configure call anywhere, and nothing in
the application keeps settings in module globals of its own."""

import ast
import dataclasses
import socket
from pathlib import Path
from unittest.mock import MagicMock

import pytest
import uvicorn
from uvicorn.server import ServerState

from models.staff import Role
from operations.directory.staff import NewStaff, create_staff
from operations.kernel import settings
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.settings import DomainSettings
from server.app import create_app
from server.settings import Settings
from server.websocket_protocol import LIMITS_STATE_KEY, BoundedWebSocketProtocol, OutboundLimits

ROOT = Path(__file__).resolve().parents[2]

# The only `global` statements allowed, and why: neither holds a setting of its own.
RUNTIME_STATE = {
    "operations/kernel/settings.py": "the one place the installed settings are held",
    "subscriptions/live.py": "the process's bus, installed by the lifespan or the worker (runtime state)",
}


async def test_a_value_given_to_the_app_factory_reaches_operations_while_the_app_runs(database_url):
    before = settings.current()
    assert before.pins.approver_digits == 6
    app = create_app(
        Settings(
            database_url=database_url,
            broadcast_url="memory://",
            run_workers=False,
            approver_pin_digits=8,
            retailer_name="Settings Test Store",
            ws_outbound_buffer_bytes=4096,
            ws_send_timeout=2.5,
        )
    )
    assert settings.current() is before  # made, not yet running: nothing installed

    async with app.router.lifespan_context(app) as state:
        assert settings.current().policy.retailer_name == "Settings Test Store"
        with pytest.raises(OperationError) as refused:  # six digits were enough before the app started
            await create_staff(SYSTEM, NewStaff("six@settings.pk", "Six", Role.ADMIN, None, "135792"))
        problem = refused.value.problems[0]
        assert (problem.code, problem.field) == (ErrorCode.INVALID, "pin") and "8–8 digits" in problem.message
        made = await create_staff(SYSTEM, NewStaff("eight@settings.pk", "Eight", Role.ADMIN, None, "13579246"))
        assert made.pin_digest

        # The WebSocket limits travel in the lifespan's state to the protocol uvicorn builds per socket.
        assert state[LIMITS_STATE_KEY] == OutboundLimits(4096, 2.5)
        config = uvicorn.Config(app, ws=BoundedWebSocketProtocol)
        config.load()
        protocol = BoundedWebSocketProtocol(config, ServerState(), app_state=dict(state))
        sock = MagicMock()
        transport = MagicMock()
        transport.get_extra_info.side_effect = lambda name, default=None: sock if name == "socket" else default
        protocol.connection_made(transport)
        assert protocol.limits == OutboundLimits(4096, 2.5)
        sock.setsockopt.assert_called_with(socket.SOL_SOCKET, socket.SO_SNDBUF, 2048)
        transport.set_write_buffer_limits.assert_called_with(high=2048)

    assert settings.current() is before  # stopped: the settings it found are back


def test_every_settings_group_is_frozen():
    installed = settings.current()
    for group in dataclasses.fields(DomainSettings):
        value = getattr(installed, group.name)
        name = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, getattr(value, name))
    with pytest.raises(dataclasses.FrozenInstanceError):
        installed.policy = installed.policy  # type: ignore[misc]


def test_no_module_keeps_settings_in_globals_of_its_own():
    """A source scan: `global` only where RUNTIME_STATE says why."""
    found = {}
    for package in ("operations", "server", "subscriptions", "schema", "resolvers", "models"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            names = [name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names]
            if names:
                found[path.relative_to(ROOT).as_posix()] = names
    assert set(found) == set(RUNTIME_STATE), found
