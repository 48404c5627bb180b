"""`python -m shopify.simulator --port 8765 [--seed FILE]`."""

import sys

from .server import run

sys.exit(run())
