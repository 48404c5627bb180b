"""Benchmark: live `stockChanged` fan-out over two server processes and a Redis bus, against a bare broadcast.

    python bench/fanout.py [--subscribers 500] [--changes 30] [--rate 20] [--redis-url redis://127.0.0.1:6379/0]
                           [--database-url postgres://...]

Two sides, one after the other, with the same client harness (N WebSocket clients in this process, spread
evenly over two server processes, each speaking `graphql-transport-ws`: `connection_init` with the token,
one `subscribe`, then recording the arrival time of every message):

- `branchline`: two `python -m server.cli serve` processes on PostgreSQL with `BRANCHLINE_BROADCAST_URL` on
  Redis; every client subscribes to `stockChanged` for the branch; this process commits `--changes` stock
  adjustments at `--rate` per second with `adjustStock` over HTTP, alternating between the two servers, so
  half of the events cross Redis from the other process. Latency: the event's `occurredAt` to its arrival.
- `bare_broadcast`: two minimal `websockets` servers (this file with `--relay-port`), each relaying one Redis
  pub/sub channel to all its sockets with `websockets.broadcast`; this process publishes the same message
  (the same bytes as a server's `next` message, sequence and time filled in) at the same rate. Latency:
  the published `occurredAt` to arrival.

Before measuring, each side sends warm-up changes until every client has received one (a subscription has
no acknowledgement in the protocol), so the measured stream starts with every client live. Reports p50/p99,
delivered/expected, whether every client's sequences are gap-free (consecutive, no repeats, in order), the
p99 ratio (goal <= 2), and memory per subscriber (the servers' VmRSS after subscribing minus before, / N).
Prints ONE JSON line on stdout; progress and the servers' logs go to stderr. It DROPS and re-creates the
database named in `--database-url` (default `branchline_bench_fanout`; the name must contain "bench").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import orjson

from models.database import open_database
from models.staff import Role
from operations.directory import NewBranch, NewStaff, NewVariant, create_branch, create_staff, login
from operations.kernel import SYSTEM, DomainSettings, SecretKeys, generate_secret, install_settings
from operations.stock import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from schema.ids import global_id

if not __package__:  # run as `python bench/fanout.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_parser,
    create_variants,
    log,
    next_key,
    parse_args,
    parse_url,
    percentile,
    recreate_database,
    run,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()  # the relays run this file
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench_fanout"
PASSWORD = "bench-password-not-secret"
SOCKETS_PER_SESSION = 10  # ws_max_sockets_per_session's default: one sign-in per 10 clients
CHANNEL = "bench:fanout:bare"
SUBPROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = (
    "subscription Live($branchIds: [ID!]) { stockChanged(branchIds: $branchIds) { branchId variantId movementId"
    " sku bucket delta reason sequence onHand reserved available inTransit damaged occurredAt } }"
)
ADJUST = (
    "mutation Adjust($input: AdjustStockInput!) { adjustStock(input: $input) {"
    " movements { sequence } errors { code message } } }"
)

SECRET_KEY = generate_secret()  # the servers' and this process's (which signs the staff in)
install_settings(DomainSettings(keys=SecretKeys(SECRET_KEY)))


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used (/proc/<pid>/stat utime and stime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / ticks


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def wait_listening(process: subprocess.Popen, port: int, what: str, health: bool) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{what} exited with code {process.returncode} before it was ready")
            try:
                if health:
                    if (await client.get("/health")).status_code == 200:
                        return
                else:  # a real handshake: a bare TCP probe makes the relay log a failed one
                    from websockets.asyncio.client import connect

                    async with connect(f"ws://127.0.0.1:{port}/", subprotocols=[SUBPROTOCOL]):
                        return
            except (httpx.HTTPError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} was not ready within 120 s")
            await asyncio.sleep(0.1)


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=sys.stderr, stderr=sys.stderr)


def stop(processes: list[subprocess.Popen], how: signal.Signals = signal.SIGTERM) -> None:
    """SIGINT lets a server under cProfile write its stats (uvicorn ends SIGTERM by re-raising it)."""
    for p in processes:
        if p.poll() is None:
            p.send_signal(how)
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def start_servers(
    database_url: str, redis_url: str, profile: str | None
) -> tuple[list[subprocess.Popen], list[int]]:
    ports = [free_port(), free_port()]
    env = {
        "BRANCHLINE_DATABASE_URL": database_url,
        "BRANCHLINE_BROADCAST_URL": redis_url,
        "BRANCHLINE_SECRET_KEY": SECRET_KEY,
        "BRANCHLINE_RUN_WORKERS": "false",  # nothing to push; the servers do only what is measured
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--log-level", "warning", "--port"]
    servers = []
    for i, port in enumerate(ports):
        # The first server under cProfile with --server-profile: it writes its stats when SIGINT ends it.
        prefix = ["-m", "cProfile", "-o", profile] if profile and i == 0 else []
        servers.append(start([command[0], *prefix, *command[1:], str(port)], env))
    try:
        for server, port in zip(servers, ports, strict=True):
            await wait_listening(server, port, "the server", health=True)
    except BaseException:
        stop(servers)
        raise
    return servers, ports


async def start_relays(redis_url: str) -> tuple[list[subprocess.Popen], list[int]]:
    ports = [free_port(), free_port()]
    relays = [
        start(
            [sys.executable, str(SCRIPT), "--relay-port", str(port), "--redis-url", redis_url],
            {"PYTHONPATH": str(ROOT)},
        )
        for port in ports
    ]
    try:
        for relay, port in zip(relays, ports, strict=True):
            await wait_listening(relay, port, "the relay", health=False)
    except BaseException:
        stop(relays)
        raise
    return relays, ports


# --- the bare broadcast: one per process, run as `fanout.py --relay-port P` -------------------------


async def relay(port: int, redis_url: str) -> None:
    """Accepts graphql-transport-ws sockets (ack on init, anything else ignored) and relays the channel to all."""
    import redis.asyncio as redis
    from websockets.asyncio.server import broadcast, serve

    live: set = set()

    async def handler(ws) -> None:
        async for message in ws:
            kind = orjson.loads(message).get("type")
            if kind == "connection_init":
                await ws.send('{"type":"connection_ack"}')
            elif kind == "subscribe":
                live.add(ws)
        live.discard(ws)

    bus = redis.from_url(redis_url)
    pubsub = bus.pubsub()
    await pubsub.subscribe(CHANNEL)
    async with serve(handler, "127.0.0.1", port, subprotocols=[SUBPROTOCOL], ping_interval=None, max_size=None):
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(live, message["data"].decode())


# --- the client harness (the same for both sides) ---------------------------------------------------


class Client:
    """One subscriber: a socket, the arrival time and raw text of every message after the subscription."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        self.ws = None
        self.task: asyncio.Task | None = None
        self.closed_with: str | None = None

    async def open(self, uri: str, token: str, branch_gid: str) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(uri, subprotocols=[SUBPROTOCOL], ping_interval=None, max_size=None, open_timeout=60)
        await self.ws.send(orjson.dumps({"type": "connection_init", "payload": {"authToken": token}}).decode())
        ack = orjson.loads(await self.ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        subscribe = {"query": SUBSCRIPTION, "variables": {"branchIds": [branch_gid]}}
        await self.ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": subscribe}).decode())
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws, received = self.ws, self.received
        try:
            async for message in ws:
                arrived = time.time()
                if '"ping"' in message[:40]:
                    await ws.send('{"type":"pong"}')
                    continue
                received.append((arrived, message))
        except Exception as error:
            self.closed_with = f"{type(error).__name__}: {error}"

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


def parsed(message: str) -> tuple[int, float] | None:
    """(sequence, occurredAt as epoch seconds) of a `next` message, None for anything else."""
    body = orjson.loads(message)
    if body.get("type") != "next":
        return None
    change = body["payload"]["data"]["stockChanged"]
    return change["sequence"], datetime.fromisoformat(change["occurredAt"]).timestamp()


async def open_clients(uris: list[str], tokens: list[str], branch_gid: str, count: int) -> list[Client]:
    clients = [Client() for _ in range(count)]
    # Client i goes to process i % 2 with sign-in i // 10: no session holds more than 10 sockets in all.
    for start_at in range(0, count, 50):  # 50 handshakes at a time: a burst of 500 would measure the accept queue
        batch = range(start_at, min(count, start_at + 50))
        await asyncio.gather(
            *(clients[i].open(uris[i % len(uris)], tokens[i // SOCKETS_PER_SESSION], branch_gid) for i in batch)
        )
    return clients


async def wait_until(condition, within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def drive(clients: list[Client], commit, changes: int, rate: float) -> list[int]:
    """Warm-up commits until every client has an event, then `changes` commits at `rate`/s, then the drain.

    `commit()` returns the sequence it committed. Returns the measured sequences.
    """
    warm = 0
    while not all(c.received for c in clients):
        if warm >= 100:
            raise SystemExit(f"after 100 warm-up changes {sum(not c.received for c in clients)} clients had none")
        await commit()
        warm += 1
        await wait_until(lambda: all(c.received for c in clients), 0.5)
    log(f"  every client live after {warm} warm-up change(s)")
    began = time.perf_counter()
    tasks = []
    for i in range(changes):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(commit()))
    sequences = sorted(await asyncio.gather(*tasks))
    last = sequences[-1]

    # Each side delivers in order (the server per branch; the bare side publishes under a lock), so a client
    # whose latest message is the last change has had its chance at all of them (figures() counts what came).
    # Only the latest message is parsed: re-parsing everything every 50 ms would delay the arrivals it times.
    def drained() -> bool:
        return all(c.received and (p := parsed(c.received[-1][1])) and p[0] >= last for c in clients)

    if not await wait_until(drained, 15):
        log("  some clients still lacked the last change after 15 s")
    return sequences


def figures(
    clients: list[Client], sequences: list[int], rss_before: list[int], rss_after: list[int], cpu: float
) -> dict:
    """Latency over the measured changes at every client; `cpu`: the two processes' CPU seconds over the stream."""
    measured = set(sequences)
    latencies: list[float] = []
    delivered = 0
    gap_free = 0
    for client in clients:
        seen = [p for _, m in client.received if (p := parsed(m))]
        seqs = [s for s, _ in seen]
        if seqs == list(range(seqs[0], seqs[0] + len(seqs))):
            gap_free += 1
        for (arrived, _), (seq, occurred) in zip(((a, m) for a, m in client.received if parsed(m)), seen, strict=True):
            if seq in measured:
                delivered += 1
                latencies.append(arrived - occurred)
    latencies.sort()
    n = len(clients)
    grown = sum(rss_after) - sum(rss_before)
    out = {
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
        "delivered": delivered,
        "expected": len(sequences) * n,
        "gap_free_subscribers": gap_free,
        "subscribers": n,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "kib_per_subscriber": round(grown / n, 1) if n else None,
        # Over the measured stream, its drain and the warm-up (commits included on the branchline side).
        "process_cpu_s": round(cpu, 2),
        "cpu_us_per_delivery": round(cpu / delivered * 1e6, 1) if delivered else None,
    }
    closed = [c.closed_with for c in clients if c.closed_with]
    if closed:
        out["closed_early"] = len(closed)
        out["first_close"] = closed[0]
    return out


# --- the two sides ------------------------------------------------------------------------------


async def branchline_side(args: argparse.Namespace) -> dict:
    target = parse_url(args.database_url)
    log(f"recreating database {target.database}")
    await recreate_database(target)
    async with open_database(args.database_url):
        branch, _ = await create_branch(SYSTEM, NewBranch(code="BENCH", name="Benchmark branch"))
        (variant_id,) = await create_variants(
            1, lambda sku, i: NewVariant(sku=sku, price=Decimal("100.00"), title="One size")
        )
        await adjust_stock(
            Adjustment(
                branch.id,
                AdjustmentReason.OPENING_STOCK,
                [AdjustmentLine(variant_id, quantity=1000)],
                idempotency_key="bench:opening",
                actor=SYSTEM,
            )
        )
        email = "owner@bench.example"
        await create_staff(SYSTEM, NewStaff(email, "Bench owner", Role.OWNER, PASSWORD, "100000", []))
        sessions = -(-args.subscribers // SOCKETS_PER_SESSION)
        tokens = [(await login(email, PASSWORD)).token for _ in range(sessions)]
        log(f"seeded: 1 branch, 1 variant, {sessions} sessions")
    branch_gid, variant_gid = str(global_id("Branch", branch.id)), str(global_id("Variant", variant_id))

    log("starting two servers")
    servers, ports = await start_servers(args.database_url, args.redis_url, args.server_profile)
    clients: list[Client] = []
    try:
        https = [
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30
            )
            for port in ports
        ]
        turn = 0

        async def commit() -> int:
            nonlocal turn
            turn += 1
            line = {"variant": {"id": variant_gid}, "quantity": 1 if turn % 2 else -1}
            body = {
                "query": ADJUST,
                "variables": {
                    "input": {
                        "branchId": branch_gid,
                        "reason": "CORRECTION",
                        "lines": [line],
                        "idempotencyKey": next_key("fanout"),
                    }
                },
            }
            answer = (await https[turn % 2].post("/graphql", json=body)).json()
            result = (answer.get("data") or {}).get("adjustStock")
            if not result or result["errors"]:
                raise SystemExit(f"adjustStock failed: {answer.get('errors') or result['errors']}")
            return result["movements"][0]["sequence"]

        await commit()  # both servers warm (first request, first publish) before measuring memory
        await commit()
        rss_before = [rss_kib(s.pid) for s in servers]
        log(f"opening {args.subscribers} subscribers over two servers")
        clients = await open_clients(
            [f"ws://127.0.0.1:{port}/graphql" for port in ports], tokens, branch_gid, args.subscribers
        )
        cpu_before = cpu_seconds([s.pid for s in servers])
        sequences = await drive(clients, commit, args.changes, args.rate)
        cpu = cpu_seconds([s.pid for s in servers]) - cpu_before
        rss_after = [rss_kib(s.pid) for s in servers]
        template = next(m for _, m in clients[0].received if parsed(m))
        for client in https:
            await client.aclose()
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        log("stopping the servers")
        stop(servers, signal.SIGINT if args.server_profile else signal.SIGTERM)
    return figures(clients, sequences, rss_before, rss_after, cpu) | {"_template": template}


async def bare_side(args: argparse.Namespace, template: str) -> dict:
    import redis.asyncio as redis

    log("starting two bare relays")
    relays, ports = await start_relays(args.redis_url)
    bus = redis.from_url(args.redis_url)
    clients: list[Client] = []
    body = orjson.loads(template)
    sequence = 0

    in_order = asyncio.Lock()  # the pool would publish overlapping commits on different connections, out of order

    async def commit() -> int:
        nonlocal sequence
        async with in_order:
            sequence += 1
            change = body["payload"]["data"]["stockChanged"]
            change["sequence"] = sequence
            change["occurredAt"] = datetime.now(UTC).isoformat()
            await bus.publish(CHANNEL, orjson.dumps(body))
            return sequence

    try:
        rss_before = [rss_kib(r.pid) for r in relays]
        log(f"opening {args.subscribers} subscribers over two relays")
        clients = await open_clients(
            [f"ws://127.0.0.1:{port}/" for port in ports], ["unused"] * args.subscribers, "unused", args.subscribers
        )
        cpu_before = cpu_seconds([r.pid for r in relays])
        sequences = await drive(clients, commit, args.changes, args.rate)
        cpu = cpu_seconds([r.pid for r in relays]) - cpu_before
        rss_after = [rss_kib(r.pid) for r in relays]
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        await bus.aclose()
        log("stopping the relays")
        stop(relays)
    return figures(clients, sequences, rss_before, rss_after, cpu)


async def bench(args: argparse.Namespace) -> dict:
    load_before = os.getloadavg()[0]
    started = datetime.now(UTC)
    live = await branchline_side(args)
    template = live.pop("_template")
    log(f"branchline: p50 {live['p50_ms']} ms, p99 {live['p99_ms']} ms, {live['delivered']}/{live['expected']}")
    bare = await bare_side(args, template)
    log(f"bare: p50 {bare['p50_ms']} ms, p99 {bare['p99_ms']} ms, {bare['delivered']}/{bare['expected']}")
    p99_ratio = round(live["p99_ms"] / bare["p99_ms"], 2) if bare["p99_ms"] else None
    complete = all(
        s["delivered"] == s["expected"] and s["gap_free_subscribers"] == s["subscribers"] for s in (live, bare)
    )
    return {
        "bench": "fanout",
        "database": "postgresql",
        "bus": "redis",
        "processes": 2,
        "subscribers": args.subscribers,
        "changes": args.changes,
        "rate_per_s": args.rate,
        "payload_bytes": len(template.encode()),
        "branchline": live,
        "bare_broadcast": bare,
        "p99_ratio": p99_ratio,
        "p50_ratio": round(live["p50_ms"] / bare["p50_ms"], 2) if bare["p50_ms"] else None,
        "goal_p99_ratio_le_2": p99_ratio is not None and p99_ratio <= 2,
        "ok": complete,
        "loop": args.loop_name,
        "cpus": os.cpu_count(),
        "load_avg_1m_at_start": round(load_before, 2),
        "started_at": started.isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--relay-port" in argv:  # a child: the bare broadcast's server
        relay_parser = argparse.ArgumentParser()
        relay_parser.add_argument("--relay-port", type=int, required=True)
        relay_parser.add_argument("--redis-url", required=True)
        relay_args = relay_parser.parse_args(argv)
        try:
            import uvloop

            uvloop.run(relay(relay_args.relay_port, relay_args.redis_url))
        except ImportError:
            asyncio.run(relay(relay_args.relay_port, relay_args.redis_url))
        return 0
    parser = bench_parser(__doc__, DEFAULT_URL)
    parser.add_argument("--subscribers", type=int, default=500, help="WebSocket subscribers in all (default 500)")
    parser.add_argument("--changes", type=int, default=30, help="measured stock changes (default 30)")
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second (default 20)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="the bus both sides use (pub/sub only)")
    parser.add_argument("--server-profile", metavar="FILE", help="run the first server under cProfile, stats to FILE")
    parser.set_defaults(rounds=0)  # parse_args defaults --rounds from --seconds, which this benchmark lacks
    args = parse_args(parser, argv)
    if args.subscribers < 1 or args.changes < 1 or args.rate <= 0:
        parser.error("--subscribers and --changes must be >= 1, --rate > 0")
    if args.server_profile:  # the server runs in the project root, not necessarily here
        args.server_profile = os.path.abspath(args.server_profile)
    out = run(bench, args, parser)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
