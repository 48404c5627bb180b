"""GraphiQL is served by Branchline itself and renders with no internet; the SDL is at /graphql/schema.graphql.

GraphiQL stays a development setting (BRANCHLINE_DEBUG): without it there is no page and no assets, and the SDL
needs a signed-in staff member."""

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import running_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def dev_server(database_url, broadcast_url):
    with running_server(database_url, broadcast_url, debug="true") as server:
        yield server


def test_the_sdl_needs_a_session_outside_development(server, owner_token):
    assert httpx.get(f"{server.url}/graphql/schema.graphql").status_code == 401
    answer = httpx.get(f"{server.url}/graphql/schema.graphql", headers={"Authorization": f"Bearer {owner_token}"})
    assert answer.status_code == 200
    assert answer.text.strip() == (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8").strip()
    # No GraphiQL, and none of its assets, outside development.
    assert httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}).status_code != 200
    assert httpx.get(f"{server.url}/graphql/graphiql/graphiql.min.js").status_code == 404


def test_in_development_the_page_and_its_assets_come_from_branchline(dev_server):
    assert httpx.get(f"{dev_server.url}/graphql/schema.graphql").status_code == 200
    page = httpx.get(f"{dev_server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "unpkg.com" not in page.text and "cdn" not in page.text.lower()
    for name in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"):
        asset = httpx.get(f"{dev_server.url}/graphql/graphiql/{name}")
        assert asset.status_code == 200 and len(asset.content) > 1000, name
    assert httpx.get(f"{dev_server.url}/graphql/graphiql/..%2Fgraphiql.py").status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run does)")
def test_graphiql_renders_in_a_browser_with_the_network_blocked(dev_server, tmp_path):
    # Every host name fails to resolve and everything but loopback (which Chromium never proxies) goes to a dead
    # proxy: only Branchline answers.
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{dev_server.url}/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "graphiql-container" in dom, dom[:2000]
    assert "Loading GraphiQL" not in dom
    assert "graphiql-query-editor" in dom  # the editor is there, not just a shell
