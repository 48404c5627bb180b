"""`python -m fbr.simulator [--port 8524] [--pos-id 123456] [--state FILE]`."""

import sys

from .server import run

sys.exit(run())
