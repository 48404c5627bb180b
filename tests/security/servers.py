"""A real server whose log (its stderr) the test reads: the e2e servers let theirs through."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import ROOT, Server, free_port


class LoggedServer(Server):
    def __init__(self, database_url: str, broadcast_url: str, log_file: Path, **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        env = {
            **os.environ,
            "BRANCHLINE_DATABASE_URL": database_url,
            "BRANCHLINE_BROADCAST_URL": broadcast_url,
            "BRANCHLINE_RUN_WORKERS": "false",  # as the e2e servers: no worker on the shared test database
            "BRANCHLINE_SECRET_KEY": TEST_SECRET_KEY,
            "PYTHONUNBUFFERED": "1",  # uvicorn's access log goes to stdout, block-buffered into a file
            **{f"BRANCHLINE_{k.upper()}": v for k, v in settings.items()},
        }
        self._log = log_file.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--log-level", "info"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def log(self) -> str:
        self._log.flush()
        return self.log_file.read_text(errors="replace")

    def stop(self) -> None:
        super().stop()
        self._log.close()


@contextmanager
def logged_server(database_url: str, broadcast_url: str, log_file: Path, **settings: str):
    server = LoggedServer(database_url, broadcast_url, log_file, **settings)
    try:
        yield server
    finally:
        server.stop()
