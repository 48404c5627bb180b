"""Benchmark: concurrent counters checking out 3-line sales over real HTTP against the same transaction as raw SQL.

    python bench/checkout.py [--seconds 5] [--counters 8] [--database-url postgres://...] [--fiscal]
                             [--servers 2 --broadcast-url redis://127.0.0.1:6379/0]

With `--fiscal` a third side runs in the same rounds: the same counters, registered with the tax authority
(each sale also writes its fiscal document and outbox row), and `fiscal_ratio` compares it with `http`.

It starts the server (`python -m server.cli serve`) as a subprocess on PostgreSQL and drives the `checkout`
mutation from one keep-alive httpx client per counter; beside it, in the same run, an asyncpg pool performs the
same transaction's statements directly. With `--servers N` it starts N server processes on the same database, joined
by the Redis bus named in `--broadcast-url`, and the counters' clients are dealt out among them (counter i to server
i mod N), as a load balancer would spread the tills. Prints ONE JSON line on stdout (progress and the server's log go to
stderr). It DROPS and re-creates the database named in `--database-url` (default `branchline_bench_checkout`);
the name must contain "bench". See bench/README.md for what each side does per sale and how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import orjson
from tortoise import connections

from models.database import open_database
from models.staff import Role
from operations.counter import (
    PricedTender,
    PriceLine,
    TenderType,
    open_register,
    price_sale,
    settle_tenders,
)
from operations.directory import (
    NewBranch,
    NewCounter,
    NewStaff,
    NewVariant,
    authenticate,
    create_branch,
    create_counter,
    create_staff,
    login,
)
from operations.kernel import (
    SYSTEM,
    DomainSettings,
    SecretKeys,
    current_settings,
    generate_secret,
    install_settings,
)
from operations.stock import (
    MAX_UNITS_PER_MOVEMENT,
    Adjustment,
    AdjustmentLine,
    AdjustmentReason,
    adjust_stock,
    check_ledger,
)
from schema.ids import global_id

if not __package__:  # run as `python bench/checkout.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RAW_SEQUENCE,
    Measured,
    add_rounds_argument,
    alternating,
    bench_parser,
    closed_loop,
    create_variants,
    insert_movements,
    inventory_delta_payload,
    log,
    movement_values,
    next_key,
    paired_ratio_median,
    parse_args,
    parse_url,
    per_op_ms,
    ratio,
    recreate_database,
    run,
    sale_posting_hash,
    stock_changed_events,
    values_rows,
)

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench_checkout"
PRICE = Decimal("1000.00")  # tax-inclusive shelf price of every variant
TAX_RATE = Decimal("18")
LINES = 3  # distinct variants per sale, 1 unit each
CASH = Decimal("5000.00")  # tendered in cash for a 3,000.00 sale: 2,000.00 change
OPENING_STOCK = MAX_UNITS_PER_MOVEMENT  # per variant: sales never run short
PASSWORD = "bench-password-not-secret"

Op = Callable[[int, list[int], str], Awaitable[str]]  # (counter index, variant ids, idempotency key) -> sale number


# --- setup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterSetup:
    counter_id: int
    staff_id: int
    staff_name: str
    token: str
    counter_gid: str


@dataclass(frozen=True)
class Seeded:
    branch_id: int
    counters: list[CounterSetup]
    variant_ids: list[int]
    variant_gids: dict[int, str]


async def seed(counter_count: int, variant_count: int) -> Seeded:
    """Everything through the domain operations, as an owner and the counters' cashiers would."""
    branch, _ = await create_branch(SYSTEM, NewBranch(code="BENCH", name="Benchmark branch"))
    variant_ids = await create_variants(
        variant_count, lambda sku, i: NewVariant(sku=sku, price=PRICE, tax_rate=TAX_RATE, title=f"Size {i}")
    )
    await adjust_stock(
        Adjustment(
            branch.id,
            AdjustmentReason.OPENING_STOCK,
            [AdjustmentLine(v, quantity=OPENING_STOCK) for v in variant_ids],
            idempotency_key="bench:opening",
            actor=SYSTEM,
        )
    )
    counters = []
    for c in range(counter_count):
        counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, f"C{c + 1}", f"Counter {c + 1}"))
        email = f"cashier{c + 1}@bench.example"
        await create_staff(
            SYSTEM, NewStaff(email, f"Cashier {c + 1}", Role.CASHIER, PASSWORD, f"{1000 + c:04d}", [branch.id])
        )
        signed_in = await login(email, PASSWORD)
        actor = await authenticate(signed_in.token)
        await open_register(actor, counter.id, Decimal("0"), f"bench:open:{counter.id}")
        counters.append(
            CounterSetup(
                counter.id,
                signed_in.staff.id,
                signed_in.staff.name,
                signed_in.token,
                str(global_id("Counter", counter.id)),
            )
        )
    gids = {v: str(global_id("Variant", v)) for v in variant_ids}
    return Seeded(branch.id, counters, variant_ids, gids)


async def registered(pool: asyncpg.Pool, on: bool) -> None:
    """Every counter reports its sales to the tax authority (a POSID each) or none does, for the next segment:
    checkout reads the counter's row per sale."""
    await pool.execute(
        "UPDATE counter SET fiscal_registered = $1, fiscal_pos_id = CASE WHEN $1 THEN (100000 + id)::text END", on
    )


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `serve` refuses to start without a secret of its own; one per run, shared with this process (which makes
# the staff and their PIN digests).
SECRET_KEY = generate_secret()
install_settings(DomainSettings(keys=SecretKeys(SECRET_KEY)))


def launch_server(
    database_url: str, port: int, profile: str | None = None, broadcast_url: str = "memory://"
) -> subprocess.Popen:
    env = os.environ | {
        "BRANCHLINE_DATABASE_URL": database_url,
        "BRANCHLINE_BROADCAST_URL": broadcast_url,
        "BRANCHLINE_SECRET_KEY": SECRET_KEY,
        # The fiscal side measures the sale, not the reporting: the worker's one round at start finds nothing.
        "BRANCHLINE_FBR_INTERVAL": "3600",
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--log-level", "warning"]
    if profile:  # cProfile writes the server's profile when it exits (see stop_server)
        command[1:1] = ["-m", "cProfile", "-o", str(Path(profile).resolve())]
    # The server's own output goes to stderr with the progress: stdout carries only the JSON line.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=sys.stderr, stderr=sys.stderr)


async def start_server(
    database_url: str, port: int, profile: str | None = None, broadcast_url: str = "memory://"
) -> subprocess.Popen:
    """The server as a subprocess (it applies migrations on start), once GET /health answers 200."""
    server = launch_server(database_url, port, profile, broadcast_url)
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with code {server.returncode} before it was ready")
            try:
                if (await client.get("/health")).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop_server(server)
                raise SystemExit("the server did not answer GET /health with 200 within 60 s")
            await asyncio.sleep(0.1)


def stop_server(server: subprocess.Popen, profiled: bool = False) -> None:
    if server.poll() is None:
        # uvicorn re-raises the signal after its graceful shutdown: SIGTERM's default action would
        # end the process before cProfile writes, SIGINT's KeyboardInterrupt lets it write.
        if profiled:
            server.send_signal(signal.SIGINT)
        else:
            server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- (a) over HTTP: the checkout mutation ------------------------------------------------------

CHECKOUT = (
    "mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {"
    " sale { id number total { amount } changeDue { amount } } errors { code message field } } }"
)


class CheckoutFailed(Exception):
    pass


def http_op(clients: list[httpx.AsyncClient], seeded: Seeded) -> Op:
    async def op(counter_index: int, variant_ids: list[int], key: str) -> str:
        counter = seeded.counters[counter_index]
        body = {
            "query": CHECKOUT,
            "variables": {
                "input": {
                    "counterId": counter.counter_gid,
                    "lines": [{"variant": {"id": seeded.variant_gids[v]}, "quantity": 1} for v in variant_ids],
                    "tenders": [{"type": "CASH", "amount": str(CASH)}],
                    "idempotencyKey": key,
                }
            },
        }
        response = await clients[counter_index].post("/graphql", json=body)
        if response.status_code != 200:
            raise CheckoutFailed(f"HTTP {response.status_code}: {response.text[:300]}")
        answer = response.json()
        if answer.get("errors"):
            raise CheckoutFailed(f"GraphQL error: {answer['errors'][0].get('message')}")
        result = answer["data"]["checkout"]
        if result["errors"] or not result["sale"] or not result["sale"]["number"]:
            raise CheckoutFailed(f"checkout refused: {result['errors']}")
        return result["sale"]["number"]

    return op


# --- (b) the same transaction as hand-written SQL on a plain asyncpg pool -----------------------

RAW_VARIANTS = (
    "SELECT v.id, v.sku, v.title, v.price, v.tax_rate, v.pct_code, p.title AS product_title"
    " FROM variant v JOIN product p ON p.id = v.product_id WHERE v.id = ANY($1::int[])"
)
# The register row lock that orders a sale against a concurrent close (operations/counter/registers.py
# `_hold_open`), found by the counter, and the cashier's open shift in it: one statement.
RAW_REGISTER_SHIFT = (
    "WITH held AS (UPDATE register SET status = status WHERE open_counter_id = $1 AND status = 'open' RETURNING id)"
    " SELECT held.id AS register_id, (SELECT s.id FROM shift s WHERE s.register_id = held.id AND s.cashier_id = $2"
    " AND s.ended_at IS NULL ORDER BY s.id LIMIT 1) AS shift_id FROM held"
)
# The counter's next sale number, with the codes the number is made of and the counter's branch.
RAW_SALE_NUMBER = (
    "UPDATE sale_number_sequence s SET last_number = s.last_number + 1 FROM counter c, branch b"
    " WHERE s.counter_id = $1 AND c.id = s.counter_id AND b.id = c.branch_id"
    " RETURNING s.last_number, c.code AS counter_code, b.code AS branch_code, c.branch_id"
)
RAW_SALE_NUMBER_ROW = (
    "INSERT INTO sale_number_sequence (counter_id, last_number) VALUES ($1, 0) ON CONFLICT (counter_id) DO NOTHING"
)
_SALE_COLUMNS = (
    "number, status, is_quote, tax_inclusive, currency, order_discount, subtotal, discount_total, net_total,"
    " tax_total, total, paid, change_due, cash_taken, refunded_total, idempotency_key, request_hash, oversold,"
    " occurred_at, placed_at, created_at, updated_at, branch_id, cashier_id, counter_id, register_id, shift_id"
)
RAW_CLAIM_SALE = (
    f"INSERT INTO sale ({_SALE_COLUMNS}) VALUES"
    " ($1, 'placed', false, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, false,"
    " $14, $14, $14, $14, $15, $16, $17, $18, $19)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_LINE_COLUMNS = (
    "sale_id, line_no, variant_id, sku, description, quantity, unit_price, price_overridden, tax_rate, pct_code,"
    " line_discount, order_discount, net, tax, total, returned_quantity"
)
RAW_TENDER = "INSERT INTO tender (sale_id, type, amount, reference, account) VALUES ($1, $2, $3, NULL, NULL)"
RAW_CLAIM_POSTING = (
    "INSERT INTO stock_posting (idempotency_key, request_hash, reason, reference_type, reference_id, actor,"
    " note, occurred_at, created_at) VALUES ($1, $2, 'sale', 'sale', $3, $4, NULL, $5, $5)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
# As in bench/ledger.py: the ledger's guarded UPDATE with its two reference SELECTs folded in (the
# branch's allow_negative_stock is honoured, the SKU for the live event comes back).
RAW_LEVEL = (
    "UPDATE stock_level l SET on_hand = l.on_hand - $1, version = l.version + 1, updated_at = $2"
    " FROM variant v, branch b"
    " WHERE l.branch_id = $3 AND l.variant_id = $4 AND v.id = l.variant_id AND b.id = l.branch_id"
    " AND (b.allow_negative_stock OR l.on_hand - l.reserved >= $1)"
    " RETURNING l.on_hand, l.reserved, l.in_transit, l.damaged, v.sku"
)
RAW_LINES = f"INSERT INTO sale_line ({_LINE_COLUMNS}) VALUES {values_rows(16, LINES)}"
RAW_MOVEMENTS = insert_movements(LINES, returning="id, sequence")
RAW_OUTBOX = f"INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES {values_rows(6, LINES)}"


class RawFailed(Exception):
    pass


def raw_op(pool: asyncpg.Pool, seeded: Seeded) -> Op:
    async def op(counter_index: int, variant_ids: list[int], key: str) -> str:
        counter = seeded.counters[counter_index]
        now = datetime.now(UTC)
        tendered = [PricedTender(TenderType.CASH, CASH)]
        # What makes a retry "the same request", as the app's fingerprint (sha256 of the sorted request).
        request = {
            "counter_id": counter.counter_id,
            "lines": [{"variant": v, "quantity": 1} for v in variant_ids],
            "payments": [{"type": "cash", "amount": str(CASH)}],
            "idempotency_key": key,
        }
        request_hash = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()
        async with pool.acquire() as conn, conn.transaction():
            by_id = {r["id"]: r for r in await conn.fetch(RAW_VARIANTS, variant_ids)}
            variants = [by_id[v] for v in variant_ids]  # KeyError: unknown variant (never here)
            priced = price_sale(
                [PriceLine(v["price"], 1, v["tax_rate"]) for v in variants],
                tax_inclusive=current_settings().policy.prices_include_tax,
            )
            settlement = settle_tenders(priced.total, tendered)
            held = await conn.fetchrow(RAW_REGISTER_SHIFT, counter.counter_id, counter.staff_id)
            if held is None or held["shift_id"] is None:
                raise RawFailed("register closed or no open shift (never here)")
            numbered = await conn.fetchrow(RAW_SALE_NUMBER, counter.counter_id)
            if numbered is None:  # the counter's first sale: create its sequence row, as the app does
                await conn.execute(RAW_SALE_NUMBER_ROW, counter.counter_id)
                numbered = await conn.fetchrow(RAW_SALE_NUMBER, counter.counter_id)
            branch_id = numbered["branch_id"]
            number = f"{numbered['branch_code']}-{numbered['counter_code']}-{numbered['last_number']:06d}"
            sale_id = await conn.fetchval(
                RAW_CLAIM_SALE,
                number,
                current_settings().policy.prices_include_tax,
                current_settings().policy.currency,
                priced.subtotal,
                priced.discount_total,
                priced.net_total,
                priced.tax_total,
                priced.total,
                settlement.paid,
                settlement.change_due,
                settlement.cash_taken,
                key,
                request_hash,
                now,
                branch_id,
                counter.staff_id,
                counter.counter_id,
                held["register_id"],
                held["shift_id"],
            )
            if sale_id is None:  # a retry of a committed sale: the app returns that sale
                raise RawFailed(f"key {key} already used (the benchmark never replays)")
            line_values: list = []
            for i, (v, p) in enumerate(zip(variants, priced.lines, strict=True)):
                description = f"{v['product_title']} {v['title']}".strip()
                line_values += [sale_id, i + 1, v["id"], v["sku"], description, 1, p.unit_price, False]
                line_values += [v["tax_rate"], v["pct_code"], p.line_discount, p.order_discount]
                line_values += [p.net, p.tax, p.total, 0]
            await conn.execute(RAW_LINES, *line_values)
            await conn.execute(RAW_TENDER, sale_id, "cash", CASH)

            # The ledger's part: claim, guarded levels in variant order, the branch sequence last, movements.
            levels = sorted(variant_ids)
            posting_hash = sale_posting_hash(branch_id, variant_ids, ["sale", str(sale_id)])
            actor = f"staff:{counter.staff_id} ({counter.staff_name})"
            posting_id = await conn.fetchval(
                RAW_CLAIM_POSTING, f"sale:{sale_id}", posting_hash, str(sale_id), actor, now
            )
            if posting_id is None:
                raise RawFailed(f"posting sale:{sale_id} already exists (never here)")
            after = []
            for variant_id in levels:
                row = await conn.fetchrow(RAW_LEVEL, 1, now, branch_id, variant_id)
                if row is None:
                    raise RawFailed(f"variant {variant_id} short (never here)")  # rolls back
                after.append((variant_id, row))
            last = await conn.fetchval(RAW_SEQUENCE, LINES, branch_id)
            first = last - LINES + 1
            movements = movement_values(posting_id, branch_id, after, first, now)
            ids = {r["sequence"]: r["id"] for r in await conn.fetch(RAW_MOVEMENTS, *movements)}
            outbox_values: list = []
            for i, (variant_id, _) in enumerate(after):
                movement_id = ids[first + i]
                payload = inventory_delta_payload(movement_id, branch_id, variant_id)
                outbox_values += ["shopify.inventory_delta", f"movement:{movement_id}", payload, "pending", 0, now]
            await conn.execute(RAW_OUTBOX, *outbox_values)
        # What the app hands to the live bus after commit (the raw side has no bus: built, not sent).
        _events = stock_changed_events(branch_id, after, ids, first, now)
        return number

    return op


# --- CPU accounting (Linux /proc; None elsewhere) ----------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _postgres_cpu() -> float | None:
    """CPU seconds of every process named `postgres` on this machine (other databases' work included)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        total += _proc_cpu(int(entry.name)) or 0.0
    return total


@dataclass
class CpuMeter:
    server_pids: list[int]

    def read(self) -> tuple[float, float | None, float | None]:
        """This process's CPU, the server processes' together, PostgreSQL's."""
        servers = [_proc_cpu(pid) for pid in self.server_pids]
        server = None if None in servers else sum(s for s in servers if s is not None)
        return time.process_time(), server, _postgres_cpu()


# --- load generation --------------------------------------------------------------------------


@dataclass
class Result(Measured):
    error_chars = 500
    cpu_sales: int = 0  # sales completed over the segments, drain included (the CPU figures cover them)
    client_cpu: float = 0.0
    server_cpu: float | None = 0.0
    postgres_cpu: float | None = 0.0

    def summary(self, with_server: bool) -> dict:
        cpu = {"client_cpu_ms_per_sale": per_op_ms(self.client_cpu, self.cpu_sales)}
        if with_server:
            cpu["server_cpu_ms_per_sale"] = per_op_ms(self.server_cpu, self.cpu_sales)
        cpu["postgres_cpu_ms_per_sale"] = per_op_ms(self.postgres_cpu, self.cpu_sales)
        return self.figures("sale", cpu)


def _minus(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


def _add(total: float | None, more: float | None) -> float | None:
    return total + more if total is not None and more is not None else None


async def run_load(
    op: Op,
    name: str,
    seeded: Seeded,
    seconds: float,
    seed: int,
    meter: CpuMeter,
    into: Result | None,
) -> int:
    """Closed loop: one worker per counter, each starting its next sale when the last one returns.

    Only sales that complete inside the window count, over the window's length: the drain of the
    sales still in flight at the deadline is not measured. Returns the number of sales committed
    (drain included); errors are counted in `into`.
    """
    result = into if into is not None else Result()
    before = len(result.latencies)
    cpu_before = meter.read()
    deadline = time.perf_counter() + seconds

    def next_op(w: int, rng: random.Random) -> Awaitable[str]:
        chosen = rng.sample(seeded.variant_ids, LINES)  # distinct variants, random order
        return op(w, chosen, next_key(name))

    completed = await closed_loop(len(seeded.counters), seed, deadline, next_op, result)
    if into is not None:
        cpu_after = meter.read()
        into.add_segment(len(into.latencies) - before, seconds)
        into.cpu_sales += completed
        into.client_cpu += cpu_after[0] - cpu_before[0]
        into.server_cpu = _add(into.server_cpu, _minus(cpu_after[1], cpu_before[1]))
        into.postgres_cpu = _add(into.postgres_cpu, _minus(cpu_after[2], cpu_before[2]))
    return completed


# --- main -------------------------------------------------------------------------------------


async def verify(committed: int, counters: int) -> dict:
    """Every committed sale is in the database whole, numbers per counter are gap-free, the ledger adds up."""
    conn = connections.get("default")
    [sales] = await conn.execute_query_dict(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT number) AS numbers FROM sale WHERE status = 'placed'"
    )
    [parts] = await conn.execute_query_dict(
        "SELECT (SELECT COUNT(*) FROM sale_line) AS lines, (SELECT COUNT(*) FROM tender) AS tenders,"
        " (SELECT COUNT(*) FROM stock_posting WHERE reason = 'sale') AS postings,"
        " (SELECT COUNT(*) FROM stock_movement WHERE reason = 'sale') AS movements,"
        " (SELECT COUNT(*) FROM outbox o JOIN stock_movement m ON o.key = 'movement:' || m.id"
        " WHERE m.reason = 'sale') AS outbox"
    )
    numbering = await conn.execute_query_dict(
        "SELECT s.counter_id, s.last_number, COUNT(x.id) AS sales FROM sale_number_sequence s"
        " LEFT JOIN sale x ON x.counter_id = s.counter_id GROUP BY s.counter_id, s.last_number"
    )
    differences, sequence_problems = await check_ledger()
    n = sales["n"]
    expected = {"lines": LINES * n, "tenders": n, "postings": n, "movements": LINES * n, "outbox": LINES * n}
    rows_match = n == sales["numbers"] and all(parts[k] == v for k, v in expected.items())
    out = {
        "ledger_check": "ok" if not differences and not sequence_problems else "FAILED",
        "sales_in_database": n,
        "sales_match_committed": n == committed,
        "rows_match_sales": rows_match,
        "sale_numbers_gap_free": len(numbering) == counters and all(r["last_number"] == r["sales"] for r in numbering),
    }
    if not rows_match:
        out["rows"] = {"numbers": sales["numbers"], **parts}
    if differences or sequence_problems:
        out["ledger_check_problems"] = {"levels": len(differences), "sequences": len(sequence_problems)}
    return out


async def bench(args: argparse.Namespace) -> dict:
    target = parse_url(args.database_url)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    log(f"recreating database {target.database}")
    await recreate_database(target)
    async with open_database(args.database_url):
        log(f"seeding: 1 branch, {args.counters} counters with a cashier and a register each, {args.variants} variants")
        seeded = await seed(args.counters, args.variants)
        ports = [args.port + i if args.port else free_port() for i in range(args.servers)]
        servers: list[subprocess.Popen] = []
        clients: list[httpx.AsyncClient] = []
        raw_pool = None
        try:
            for i, port in enumerate(ports):
                log(f"starting server {i + 1}/{args.servers} on port {port} (bus {args.broadcast_url})")
                # One at a time: each applies the migrations on start (the first does the work).
                profile = f"{args.server_profile}.{i + 1}" if args.server_profile and args.servers > 1 else None
                servers.append(
                    await start_server(args.database_url, port, profile or args.server_profile, args.broadcast_url)
                )
            clients = [
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{ports[i % args.servers]}",
                    headers={"Authorization": f"Bearer {c.token}"},
                    timeout=30,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                )
                for i, c in enumerate(seeded.counters)
            ]
            raw_pool = await target.create_pool(min_size=args.counters, max_size=args.counters)
            meter = CpuMeter([s.pid for s in servers])
            impls = {"raw_sql": raw_op(raw_pool, seeded), "http": http_op(clients, seeded)}
            if args.fiscal:
                impls["http_fiscal"] = impls["http"]  # the same requests; the counters registered while it runs
            results = {impl: Result() for impl in impls}
            committed = 0  # every successful sale, warm-up and drain included
            if args.warmup > 0:
                log(f"warm-up {args.warmup}s per side")
                for impl, op in impls.items():
                    warm = Result()
                    await registered(raw_pool, impl == "http_fiscal")
                    committed += await run_load(op, f"warmup-{impl}", seeded, args.warmup, 0, meter, warm)
                    results[impl].errors += warm.errors
                    results[impl].first_error = results[impl].first_error or warm.first_error
            segment = args.seconds / args.rounds
            for r in range(args.rounds):
                for impl in alternating(r, list(impls)):
                    into = results[impl]
                    await registered(raw_pool, impl == "http_fiscal")
                    committed += await run_load(impls[impl], impl, seeded, segment, r + 1, meter, into)
                    log(f"round {r + 1}/{args.rounds} {impl:<7} {into.segments[-1]:8.1f} sales/s")
        finally:
            for client in clients:
                await client.aclose()
            if raw_pool is not None:
                await raw_pool.close()
            log("stopping the server(s)")
            for server in servers:
                stop_server(server, profiled=bool(args.server_profile))
        checks = await verify(committed, args.counters)

    http, raw = results["http"].summary(with_server=True), results["raw_sql"].summary(with_server=False)
    errors = http["errors"] + raw["errors"]
    fiscal = {}
    if args.fiscal:
        on = results["http_fiscal"].summary(with_server=True)
        errors += on["errors"]
        fiscal = {
            "http_fiscal": on,
            "fiscal_ratio": round(ratio(on["sales_per_s"], http["sales_per_s"]), 3),
            "fiscal_paired_ratio_median": paired_ratio_median(on["segments_sales_per_s"], http["segments_sales_per_s"]),
        }
    return {
        "bench": "checkout",
        "database": "postgresql",
        "counters": args.counters,
        "servers": args.servers,
        "broadcast": args.broadcast_url.split(":", 1)[0],
        "seconds": args.seconds,
        "http": http,
        "raw_sql": raw,
        "ratio": round(ratio(http["sales_per_s"], raw["sales_per_s"]), 3),
        "paired_ratio_median": paired_ratio_median(http["segments_sales_per_s"], raw["segments_sales_per_s"]),
        **fiscal,
        **checks,
        "ok": errors == 0
        and checks["ledger_check"] == "ok"
        and checks["sales_match_committed"]
        and checks["rows_match_sales"]
        and checks["sale_numbers_gap_free"],
        "lines_per_sale": LINES,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "variants": len(seeded.variant_ids),
        "raw_pool_size": args.counters,
        "loop": args.loop_name,
        "cpus": os.cpu_count(),
        "load_avg_1m_at_start": round(load_before, 2) if load_before is not None else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, DEFAULT_URL)
    parser.add_argument("--counters", type=int, default=8, help="concurrent counters, one client each (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per side (default 5)")
    add_rounds_argument(parser, per="side")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per side (default 1)")
    parser.add_argument("--variants", type=int, default=50, help="variants the sales pick from (default 50)")
    parser.add_argument(
        "--port", type=int, default=0, help="the (first) server's port, the next ones follow (default: free ones)"
    )
    parser.add_argument("--servers", type=int, default=1, help="server processes, the counters dealt out (default 1)")
    parser.add_argument(
        "--broadcast-url",
        default=None,
        help="the servers' live bus (BRANCHLINE_BROADCAST_URL); required with --servers > 1, e.g. redis://…/0;"
        " default memory:// for one",
    )
    parser.add_argument(
        "--fiscal", action="store_true", help="also run the counters registered with the tax authority (fiscal_ratio)"
    )
    parser.add_argument(
        "--server-profile", metavar="FILE", help="run the server under cProfile and write its stats to FILE"
    )
    args = parse_args(parser, argv)
    if args.servers < 1:
        parser.error("--servers must be >= 1")
    if args.broadcast_url is None:
        if args.servers > 1:
            parser.error("--servers > 1 needs --broadcast-url (a redis:// bus the processes share)")
        args.broadcast_url = "memory://"
    if args.counters < 1 or args.rounds < 1 or args.variants < LINES or args.seconds <= 0 or args.warmup < 0:
        parser.error(f"--counters and --rounds must be >= 1, --variants >= {LINES}, --seconds > 0, --warmup >= 0")

    out = run(bench, args, parser)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
