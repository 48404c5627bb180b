"""A local stand-in for FBR's and PRA's IMS PostData services (and the local fiscal component), over real
HTTP, for tests and the demo. See docs/fbr.md ("The authority's interface")."""

from .app import create_simulator_app
from .config import LOCAL_HEALTH, LOCAL_POST, ROUTES, DuplicateMode, NumberStyle, SimConfig, path_for
from .faults import Faults
from .server import cli_main, run, serve_app, serve_simulator
from .store import SimAuthority, SimInvoice

__all__ = [
    "LOCAL_HEALTH",
    "LOCAL_POST",
    "ROUTES",
    "DuplicateMode",
    "Faults",
    "NumberStyle",
    "SimAuthority",
    "SimConfig",
    "SimInvoice",
    "cli_main",
    "create_simulator_app",
    "path_for",
    "run",
    "serve_app",
    "serve_simulator",
]
