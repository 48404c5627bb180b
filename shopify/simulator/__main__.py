"""`python -m shopify.simulator [--port 8100] [--seed FILE]`."""

import sys

from .server import run

sys.exit(run())
