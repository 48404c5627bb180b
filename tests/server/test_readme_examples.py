"""The README tells the truth: every ```graphql block of README.md, in order, run as written against a
fresh `branchline serve --demo` over real HTTP (subscriptions over a real graphql-transport-ws
WebSocket), each checked for errors and for doing what the text around it says.

What a reader fills in is filled in here, and only that: the token from `login` / `counterLogin` in
the Authorization header (or `{"authToken": ...}` in connection_init), `<job id>` from the answer
before, and `<simulator>` from the demo's log (the export's download link is followed through
exportProgress, which the README describes in words). Each example is taken by `take()` with the
words that identify it, so an example added, dropped or moved in the README fails this test until
it is run here too.
"""

import asyncio
import base64
import io
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openpyxl
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from graphql import OperationDefinitionNode, parse

from server.demo import DEMO_PASSWORD, DEMO_STAFF
from tests.conftest import CHEAP_ARGON2

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.S | re.M)


EXAMPLES = blocks("graphql")
LAHORE = "QnJhbmNoOjE="  # Branch:1, the README's table of the demo's IDs


def test_each_example_is_one_operation_a_reader_can_paste():
    """GraphiQL refuses a document of several anonymous operations: one per block."""
    assert len(EXAMPLES) >= 10
    for example in EXAMPLES:
        definitions = parse(example).definitions
        assert len(definitions) == 1 and isinstance(definitions[0], OperationDefinitionNode), example


def test_the_sign_in_table_is_the_demos():
    rows = re.findall(r"^\| (\S+@zari\.demo(?:, \S+@zari\.demo)*) \| [^|]+ \| ([^|]+) \|", README, re.M)
    listed = {}
    for emails, pins in rows:
        for email, pin in zip(emails.split(", "), pins.strip().split(", "), strict=True):
            listed[email] = None if pin == "–" else pin
    assert listed == {email: pin for email, _, _, _, pin in DEMO_STAFF}
    assert f"password is `{DEMO_PASSWORD}`" in README


def test_the_id_table_decodes_to_what_it_says():
    for global_id, plain in re.findall(r"^\| `([A-Za-z0-9=]+)` \| `(\w+:\d+)` \|", README, re.M):
        assert base64.b64decode(global_id).decode() == plain


# ---- the demo server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "demo.log"
        # As a reader runs it: no BRANCHLINE_* settings of the test run (no database URL, no secret
        # key), in an empty directory, so the SQLite file and branchline-demo-shop.json are fresh.
        # Only password hashing is made cheap (tests/conftest.py), which changes no answer.
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")}
        env.update(CHEAP_ARGON2, PYTHONPATH=str(ROOT))
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(self.port)],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_healthy()
        found = re.search(r"demo Shopify \(simulator\) for \S+ at (http://\S+)", self.log.read_text())
        assert found, self.log.read_text()
        self.simulator = found.group(1)

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the demo did not become healthy:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def websocket(self, token: str) -> Client:
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{self.port}/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # the README: pin the modern protocol
            init_payload={"authToken": token},
        )
        return Client(transport=transport, execute_timeout=30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = Demo(tmp_path_factory.mktemp("demo"))
    try:
        yield server
    finally:
        server.stop()


# ---- running examples ------------------------------------------------------------------------


class Examples:
    """The README's examples in order; each is taken once, by words it must contain."""

    def __init__(self):
        self.left = list(EXAMPLES)

    def take(self, *words: str) -> str:
        assert self.left, f"the README has no more examples; expected one with {words}"
        example = self.left.pop(0)
        assert all(w in example for w in words), f"expected an example with {words}, the README has:\n{example}"
        return example


async def run(http: httpx.AsyncClient, example: str, token: str | None = None) -> dict:
    """POST the example as GraphiQL does; no GraphQL errors and no payload `errors`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": example}, headers=headers)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    for field, payload in body["data"].items():
        assert not (isinstance(payload, dict) and payload.get("errors")), (field, payload)
    return body["data"]


class Subscription:
    """A subscription running on a WebSocket session; its events (or its failure) queue up."""

    def __init__(self, session, example: str):
        self.events: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._listen(session, example))

    async def _listen(self, session, example: str) -> None:
        try:
            async for event in session.subscribe(GraphQLRequest(example)):
                await self.events.put(event)
        except Exception as error:  # handed to the test by next()
            await self.events.put(error)

    async def next(self, seconds: float = 20) -> dict:
        event = await asyncio.wait_for(self.events.get(), seconds)
        if isinstance(event, Exception):
            raise event
        return event

    async def heard(self, provoke) -> "Subscription":
        """Readiness without a fixed sleep (the server subscribes to the bus when the operation arrives;
        nothing says when it has): `await provoke()` makes a stock change this subscription should hear
        and returns its sequence. It is repeated until an event arrives; then the events of the later
        provocations are read off, up to the last one's (a branch's events come in order)."""
        for attempt in itertools.count():
            last = await provoke()
            try:
                event = await self.next(seconds=min(0.25 * 2**attempt, 5))
                break
            except TimeoutError:
                assert attempt < 8, "the subscription heard nothing"
        while event["stockChanged"]["sequence"] != last:
            event = await self.next()
        return self

    def stop(self) -> None:
        self.task.cancel()


NUDGE = """mutation($input: AdjustStockInput!) {
  adjustStock(input: $input) { movements { sequence } errors { code message } } }"""
_nudges = itertools.count(1)


def nudge(http: httpx.AsyncClient, token: str):
    """A provocation for Lahore's live subscription that leaves its stock as it was: one unit of the
    README's lawn in and out again (a correction each). Returns the sequence of the second."""

    async def in_and_out() -> int:
        sequence = 0
        for quantity in (1, -1):
            lines = [{"variant": {"sku": "LAWN-0101-TEAL"}, "quantity": quantity}]
            key = f"nudge-{next(_nudges)}"
            body = {"branchId": LAHORE, "reason": "CORRECTION", "lines": lines, "idempotencyKey": key}
            headers = {"Authorization": f"Bearer {token}"}
            response = await http.post("/graphql", json={"query": NUDGE, "variables": {"input": body}}, headers=headers)
            result = response.json()["data"]["adjustStock"]
            assert result["errors"] == [], result
            sequence = result["movements"][-1]["sequence"]
        return sequence

    return in_and_out


async def stock_events(live: Subscription, n: int) -> list[dict]:
    return [(await live.next())["stockChanged"] for _ in range(n)]


async def test_every_readme_example_runs_on_the_demo_as_written(demo):
    examples = Examples()
    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as http:
        # Sign in: "put {"Authorization": "Bearer <token>"}" in the headers, or authToken on a WebSocket.
        login = await run(http, examples.take("login(", "owner@zari.demo"))
        owner = login["login"]["token"]
        await the_id_table_is_the_demos(http, owner)

        async with demo.websocket(owner) as ws:
            stock = await run(http, examples.take("query Stock", LAHORE), owner)
            assert len(stock["stockLevels"]["edges"]) == 5 and stock["stockLevels"]["pageInfo"]["hasNextPage"]

            # "Open a second GraphiQL tab ... start this subscription", then the damaged units.
            live = await Subscription(ws, examples.take("subscription Live", LAHORE)).heard(nudge(http, owner))
            damaged_example = examples.take("mutation Damaged", LAHORE)
            damaged = await run(http, damaged_example, owner)
            movements = damaged["adjustStock"]["movements"]
            assert sum(m["delta"] for m in movements if m["bucket"] == "ON_HAND") == -2
            events = await stock_events(live, len(movements))
            assert {(e["sku"], e["delta"], e["reason"]) for e in events} >= {("LAWN-0101-TEAL", -2, "damaged")}
            # "Send it twice: the second answer is the first one again and nothing changes."
            assert await run(http, damaged_example, owner) == damaged

            # At the counter: Ayesha's PIN, her token in place of the owner's.
            counter_login = await run(http, examples.take("counterLogin(", "Q291bnRlcjox", '"4826"'))
            cashier = counter_login["counterLogin"]["token"]
            opened = await run(http, examples.take("openRegister(", "Q291bnRlcjox"), cashier)
            assert opened["openRegister"]["register"]["status"] == "OPEN"
            sold = await run(http, examples.take("checkout(", "Q291bnRlcjox"), cashier)
            sale = sold["checkout"]["sale"]
            assert (sale["total"]["amount"], sale["changeDue"]["amount"]) == ("9480.00", "520.00")
            assert "Zari & Co." in sale["receiptText"]
            # "The Live tab shows its two lines leave Lahore's stock" (and nothing of the repeated damage).
            events = await stock_events(live, 2)
            assert sorted((e["sku"], e["delta"], e["reason"]) for e in events) == [
                ("KRT-0101-S-INDIGO", -1, "sale"),
                ("LAWN-0101-TEAL", -1, "sale"),
            ]

            # The back office: which branch has it, a customer made at the counter and found again, Lahore's staff.
            where = await run(http, examples.take("query WhichBranch", "LAWN-0101-TEAL"), owner)
            [teal] = [e["node"] for e in where["variants"]["edges"]]
            codes = {level["branch"]["code"] for level in teal["stock"]}
            assert codes == {"LHR-GUL", "KHI-DOL", "ISB-CEN"}, teal
            assert all(lv["available"] == lv["onHand"] - lv["reserved"] for lv in teal["stock"])
            made = await run(http, examples.take("mutation NewCustomer", "0333 777 1234"), cashier)
            assert made["createCustomer"]["customer"]["phone"] == "+923337771234"
            found = await run(http, examples.take("query FindCustomer", "0333-7771234"), cashier)
            assert [e["node"] for e in found["customers"]["edges"]] == [
                {"firstName": "Hina", "lastName": "Raza", "phone": "+923337771234"}
            ]
            team = await run(http, examples.take("query LahoreStaff", LAHORE), owner)
            emails = {e["node"]["email"] for e in team["staffMembers"]["edges"]}
            assert {"manager.lhr@zari.demo", "ayesha.lhr@zari.demo", "usman.lhr@zari.demo"} <= emails, emails
            assert live.events.empty(), "the back office's requests moved no stock"

            # Reports: today's takings by branch and tender, Lahore's stock value, and an export downloaded.
            takings = await run(http, examples.take("query SalesToday", "period: TODAY"), owner)
            report = takings["salesReport"]
            assert {(r["branch"]["code"], r["tenderType"], r["total"]["amount"]) for r in report["rows"]} == {
                ("LHR-GUL", "CARD", "5000.00"),
                ("LHR-GUL", "CASH", "4480.00"),
            }
            assert (report["totals"]["total"]["amount"], report["totals"]["salesCount"]) == ("9480.00", 1)
            worth = await run(http, examples.take("query StockValue", LAHORE), owner)
            assert sum(row["units"] for row in worth["stockValueReport"]) > 0
            export_id = (await run(http, examples.take("mutation ExportSales"), owner))["exportReport"]["export"]["id"]
            # The README says: ask exportProgress(id:) with that id for status, rows and the download link.
            progress_query = f'{{ exportProgress(id: "{export_id}") {{ status rowsWritten downloadUrl }} }}'
            for _ in range(200):
                export = (await run(http, progress_query, owner))["exportProgress"]
                if export["status"] != "RUNNING":
                    break
                await asyncio.sleep(0.05)
            assert (export["status"], export["rowsWritten"]) == ("DONE", 1), export
            sheet = openpyxl.load_workbook(io.BytesIO((await http.get(export["downloadUrl"])).content)).active
            header, row = list(sheet.iter_rows(values_only=True))
            assert dict(zip(header, row, strict=True))["Total"] == 9480

            # Shopify: connecting again to the demo's shop, a re-run import that changes no stock.
            connected = await run(http, examples.take("connectShopify(", "zari-demo.myshopify.com"), owner)
            assert connected["connectShopify"]["connection"]["shopName"] == "Zari & Co."
            started = await run(http, examples.take("startShopifyImport("), owner)
            job_id = started["startShopifyImport"]["job"]["id"]
            progress_example = examples.take("importProgress(", "<job id>")
            progress = Subscription(ws, progress_example.replace("<job id>", job_id))
            status = None
            while status not in ("COMPLETED", "FAILED"):
                status = (await progress.next(seconds=60))["importProgress"]["status"]
            assert status == "COMPLETED"
            # A marker after it: Lahore's events come in order, so a change the import made would come first.
            marker = await nudge(http, owner)()
            assert (await live.next())["stockChanged"]["sequence"] == marker - 1, "the re-run import changed stock"
            assert (await live.next())["stockChanged"]["sequence"] == marker

            # Online orders: the subscription first, then the order placed in the demo's simulator.
            order_events = Subscription(ws, examples.take("orderEvents(", LAHORE))
            # Readiness without a fixed sleep: the README's order is placed again only if nothing was
            # announced for a while (the subscription had not started); any copy's event will do.
            for attempt in itertools.count():
                await place_the_readmes_order(demo.simulator)
                try:
                    arrived = (await order_events.next(seconds=3 * 2**attempt))["orderEvents"]
                    break
                except TimeoutError:
                    assert attempt < 3, "orderEvents announced nothing"
            orders_example = examples.take("orders(", LAHORE)
            for _ in range(50):
                listed = await run(http, orders_example, owner)
                [order] = [e["node"] for e in listed["orders"]["edges"] if e["node"]["id"] == arrived["order"]["id"]]
                if order["lines"][0]["reserved"] == 1:
                    break
                await asyncio.sleep(0.2)
            assert order["codStatus"] is not None and order["exceptionCode"] is None
            assert [(line["sku"], line["quantity"], line["reserved"]) for line in order["lines"]] == [
                ("LAWN-0101-TEAL", 1, 1)
            ]
            for subscription in (live, progress, order_events):
                subscription.stop()

    assert examples.left == [], "README examples this test does not run yet"


async def the_id_table_is_the_demos(http: httpx.AsyncClient, token: str) -> None:
    """The README's table of the demo's IDs, checked against the demo (not a README example)."""
    rows = re.findall(r"^\| `([A-Za-z0-9=]+)` \| `(Branch|Counter):\d+` \| ([^|]+) \|", README, re.M)
    assert len(rows) == 4
    for global_id, kind, described in rows:
        fields = "code name" if kind == "Branch" else "code branch { code }"
        query = f'{{ node(id: "{global_id}") {{ ... on {kind} {{ {fields} }} }} }}'
        node = (await run(http, query, token))["node"]
        said = f"{node['code']}, {node['name']}" if kind == "Branch" else f"{node['branch']['code']} {node['code']}"
        assert described.startswith(said), (global_id, node, described)
    counters = await run(http, "{ branches(first: 10) { edges { node { code counters { id } } } } }", token)
    numbers = {
        e["node"]["code"]: [int(base64.b64decode(c["id"]).decode().split(":")[1]) for c in e["node"]["counters"]]
        for e in counters["branches"]["edges"]
    }
    assert numbers == {"LHR-GUL": [1, 2, 3], "KHI-DOL": [4, 5, 6], "ISB-CEN": [7, 8]}
    # "`variants(first: 1, sku: ...) { ... }` looks one up": the inline example, as a query.
    lookup = re.search(r"`(variants\(first: 1, sku: \"[\w-]+\"\).*?)`", README)
    found = (await run(http, "{ " + lookup.group(1) + " }", token))["variants"]["edges"]
    assert [base64.b64decode(e["node"]["id"]).decode().split(":")[0] for e in found] == ["Variant"]


async def place_the_readmes_order(simulator: str) -> None:
    """The README's curl: its path and body, at the simulator's logged URL in place of `<simulator>`."""
    [curl] = [b for b in blocks("sh") if "_sim/orders" in b]
    path = re.search(r"<simulator>(\S+)", curl).group(1)
    body = json.loads(re.search(r"-d '(.*?)'", curl, re.S).group(1))
    async with httpx.AsyncClient(timeout=10) as sim:
        response = await sim.post(simulator + path, json=body)
    assert response.status_code == 200, response.text
