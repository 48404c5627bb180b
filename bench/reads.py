"""Benchmark: the reads dashboards hammer, over real HTTP, against the same reads as raw SQL in the same run.

    python bench/reads.py [--seconds 4] [--clients 8] [--variants 2000] [--branches 5] [--database-url postgres://...]

Two reads, each against its hand-written twin on a plain asyncpg pool:

- `levels`: a page of a branch's stock, `stockLevels(branchId, first: 100, after: …)` with each level's variant SKU
  (a random page of the branch's `--variants` levels per request);
- `variant`: one variant's stock across the branches, `node(id) { ... on Variant { stock { … } } }` (a random
  variant per request).

It starts the server (`python -m server.cli serve`) as a subprocess on PostgreSQL and sends the queries from
`--clients` keep-alive httpx clients, signed in as the owner (who sees every branch); the raw side runs the same
SELECTs on an asyncpg pool of as many connections and serialises the rows to JSON. The four sides run in
alternating segments (ABBA). Prints ONE JSON line on stdout (progress and the server's log go to stderr). It
DROPS and re-creates the database named in `--database-url` (default `branchline_bench_reads`); the name must
contain "bench". Goal (issue 18): each HTTP read ≥ 0.3 of its raw SQL twin.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import orjson

from models.database import open_database
from models.staff import Role
from models.stock import StockLevel
from operations.directory import NewBranch, NewStaff, NewVariant, create_branch, create_staff, login
from operations.kernel import SYSTEM
from operations.stock import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock
from schema.ids import global_id
from schema.pagination import encode_cursor

if not __package__:  # run as `python bench/reads.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.checkout import CpuMeter, free_port, start_server, stop_server
from bench.common import (
    Measured,
    add_rounds_argument,
    alternating,
    bench_parser,
    closed_loop,
    create_variants,
    log,
    paired_ratio_median,
    parse_args,
    parse_url,
    per_op_ms,
    ratio,
    recreate_database,
    run,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench_reads"
PAGE = 100
PASSWORD = "bench-password-not-secret"

Op = Callable[[int, random.Random], Awaitable[int]]  # (client index, rng) -> rows read


@dataclass(frozen=True)
class Seeded:
    branch_id: int
    branch_gid: str
    level_ids: list[int]  # the measured branch's levels, ascending (the pages' keys)
    variant_ids: list[int]
    token: str


async def seed(variant_count: int, branch_count: int) -> Seeded:
    """Branches, variants and opening stock at every branch through the domain operations; an owner signed in."""
    variant_ids = await create_variants(
        variant_count, lambda sku, i: NewVariant(sku=sku, price=Decimal("100.00"), title=f"Size {i}")
    )
    branches = []
    for b in range(branch_count):
        branch, _ = await create_branch(SYSTEM, NewBranch(code=f"B{b + 1}", name=f"Branch {b + 1}"))
        branches.append(branch)
        rng = random.Random(b)
        for start in range(0, len(variant_ids), 500):
            chunk = variant_ids[start : start + 500]
            await adjust_stock(
                Adjustment(
                    branch.id,
                    AdjustmentReason.OPENING_STOCK,
                    [AdjustmentLine(v, quantity=rng.randint(1, 50)) for v in chunk],
                    idempotency_key=f"bench:opening:{branch.id}:{start}",
                    actor=SYSTEM,
                )
            )
    await create_staff(SYSTEM, NewStaff("owner@bench.example", "Owner", Role.OWNER, PASSWORD, "40718263", []))
    signed_in = await login("owner@bench.example", PASSWORD)
    measured = branches[0]
    level_ids = await StockLevel.filter(branch_id=measured.id).order_by("id").values_list("id", flat=True)
    return Seeded(measured.id, str(global_id("Branch", measured.id)), list(level_ids), variant_ids, signed_in.token)


def page_after(seeded: Seeded, rng: random.Random) -> int | None:
    """A random page's `after` key: None for the first, else the last level id of the page before."""
    pages = -(-len(seeded.level_ids) // PAGE)
    k = rng.randrange(pages)
    return seeded.level_ids[k * PAGE - 1] if k else None


# --- over HTTP --------------------------------------------------------------------------------

LEVELS = (
    "query Levels($branch: ID!, $first: Int!, $after: String) {"
    " stockLevels(branchId: $branch, first: $first, after: $after) {"
    " edges { node { id onHand reserved available inTransit damaged reorderPoint version updatedAt"
    " variant { id sku } } } pageInfo { endCursor hasNextPage } } }"
)
VARIANT = (
    "query VariantStock($id: ID!) { node(id: $id) { ... on Variant { id sku"
    " stock { id branch { id code } onHand reserved available inTransit damaged updatedAt } } } }"
)


class ReadFailed(Exception):
    pass


async def _post(client: httpx.AsyncClient, query: str, variables: dict) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        raise ReadFailed(f"HTTP {response.status_code}: {response.text[:300]}")
    answer = response.json()
    if answer.get("errors"):
        raise ReadFailed(f"GraphQL error: {answer['errors'][0].get('message')}")
    return answer["data"]


def http_levels(clients: list[httpx.AsyncClient], seeded: Seeded) -> Op:
    async def op(w: int, rng: random.Random) -> int:
        after = page_after(seeded, rng)
        variables = {"branch": seeded.branch_gid, "first": PAGE, "after": encode_cursor(after) if after else None}
        edges = (await _post(clients[w], LEVELS, variables))["stockLevels"]["edges"]
        if not edges:
            raise ReadFailed("an empty page (never here)")
        return len(edges)

    return op


def http_variant(clients: list[httpx.AsyncClient], seeded: Seeded, branches: int) -> Op:
    async def op(w: int, rng: random.Random) -> int:
        gid = str(global_id("Variant", rng.choice(seeded.variant_ids)))
        stock = (await _post(clients[w], VARIANT, {"id": gid}))["node"]["stock"]
        if len(stock) != branches:
            raise ReadFailed(f"{len(stock)} levels, expected {branches}")
        return len(stock)

    return op


# --- the same reads as raw SQL ----------------------------------------------------------------

# The branch check the resolver makes, then the page in key order with one more row (has a next page?).
RAW_BRANCH = "SELECT EXISTS (SELECT 1 FROM branch WHERE id = $1)"
RAW_LEVELS = (
    "SELECT l.id, l.on_hand, l.reserved, l.in_transit, l.damaged, l.reorder_point, l.version, l.updated_at,"
    " v.id AS variant_id, v.sku FROM stock_level l JOIN variant v ON v.id = l.variant_id"
    " WHERE l.branch_id = $1 AND ($2::int IS NULL OR l.id > $2) ORDER BY l.id LIMIT $3"
)
RAW_VARIANT = (
    "SELECT v.id, v.sku, l.id AS level_id, l.on_hand, l.reserved, l.in_transit, l.damaged, l.updated_at,"
    " b.id AS branch_id, b.code FROM variant v JOIN stock_level l ON l.variant_id = v.id"
    " JOIN branch b ON b.id = l.branch_id WHERE v.id = $1 ORDER BY l.branch_id"
)


def raw_levels(pool: asyncpg.Pool, seeded: Seeded) -> Op:
    async def op(w: int, rng: random.Random) -> int:
        after = page_after(seeded, rng)
        async with pool.acquire() as conn:
            if not await conn.fetchval(RAW_BRANCH, seeded.branch_id):
                raise ReadFailed("no branch (never here)")
            rows = await conn.fetch(RAW_LEVELS, seeded.branch_id, after, PAGE + 1)
        page = rows[:PAGE]
        edges = [
            {
                "node": {
                    "id": r["id"],
                    "onHand": r["on_hand"],
                    "reserved": r["reserved"],
                    "available": r["on_hand"] - r["reserved"],
                    "inTransit": r["in_transit"],
                    "damaged": r["damaged"],
                    "reorderPoint": r["reorder_point"],
                    "version": r["version"],
                    "updatedAt": r["updated_at"].isoformat(),
                    "variant": {"id": r["variant_id"], "sku": r["sku"]},
                }
            }
            for r in page
        ]
        body = {"edges": edges, "pageInfo": {"endCursor": page[-1]["id"], "hasNextPage": len(rows) > PAGE}}
        orjson.dumps({"data": {"stockLevels": body}})
        return len(edges)

    return op


def raw_variant(pool: asyncpg.Pool, seeded: Seeded, branches: int) -> Op:
    async def op(w: int, rng: random.Random) -> int:
        async with pool.acquire() as conn:
            rows = await conn.fetch(RAW_VARIANT, rng.choice(seeded.variant_ids))
        if len(rows) != branches:
            raise ReadFailed(f"{len(rows)} levels, expected {branches}")
        stock = [
            {
                "id": r["level_id"],
                "branch": {"id": r["branch_id"], "code": r["code"]},
                "onHand": r["on_hand"],
                "reserved": r["reserved"],
                "available": r["on_hand"] - r["reserved"],
                "inTransit": r["in_transit"],
                "damaged": r["damaged"],
                "updatedAt": r["updated_at"].isoformat(),
            }
            for r in rows
        ]
        orjson.dumps({"data": {"node": {"id": rows[0]["id"], "sku": rows[0]["sku"], "stock": stock}}})
        return len(stock)

    return op


# --- load and figures -------------------------------------------------------------------------


@dataclass
class Result(Measured):
    error_chars = 300
    cpu_requests: int = 0
    server_cpu: float | None = 0.0

    def summary(self, with_server: bool) -> dict:
        cpu = {"server_cpu_ms_per_request": per_op_ms(self.server_cpu, self.cpu_requests)} if with_server else {}
        return self.figures("request", cpu)


async def run_segment(op: Op, clients: int, seconds: float, seed: int, meter: CpuMeter, into: Result) -> None:
    before = len(into.latencies)
    cpu_before = meter.read()[1]
    deadline = time.perf_counter() + seconds
    completed = await closed_loop(clients, seed, deadline, lambda w, rng: op(w, rng), into)
    cpu_after = meter.read()[1]
    into.add_segment(len(into.latencies) - before, seconds)
    into.cpu_requests += completed
    if into.server_cpu is not None and cpu_before is not None and cpu_after is not None:
        into.server_cpu += cpu_after - cpu_before
    else:
        into.server_cpu = None


async def bench(args: argparse.Namespace) -> dict:
    target = parse_url(args.database_url)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    log(f"recreating database {target.database}")
    await recreate_database(target)
    async with open_database(args.database_url):
        log(f"seeding: {args.variants} variants stocked at {args.branches} branches")
        seeded = await seed(args.variants, args.branches)
    port = args.port or free_port()
    log(f"starting the server on port {port}")
    server = await start_server(args.database_url, port, args.server_profile)
    clients: list[httpx.AsyncClient] = []
    pool = None
    try:
        clients = [
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {seeded.token}"},
                timeout=30,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            for _ in range(args.clients)
        ]
        pool = await target.create_pool(min_size=args.clients, max_size=args.clients)
        meter = CpuMeter([server.pid])
        sides = {
            "http_levels": http_levels(clients, seeded),
            "raw_levels": raw_levels(pool, seeded),
            "http_variant": http_variant(clients, seeded, args.branches),
            "raw_variant": raw_variant(pool, seeded, args.branches),
        }
        results = {side: Result() for side in sides}
        if args.warmup > 0:
            log(f"warm-up {args.warmup}s per side")
            for side, op in sides.items():
                warm = Result()
                await run_segment(op, args.clients, args.warmup, 0, meter, warm)
                results[side].errors += warm.errors
                results[side].first_error = results[side].first_error or warm.first_error
        segment = args.seconds / args.rounds
        for r in range(args.rounds):
            for side in alternating(r, list(sides)):
                into = results[side]
                await run_segment(sides[side], args.clients, segment, r + 1, meter, into)
                log(f"round {r + 1}/{args.rounds} {side:<13} {into.segments[-1]:8.1f} requests/s")
    finally:
        for client in clients:
            await client.aclose()
        if pool is not None:
            await pool.close()
        log("stopping the server")
        stop_server(server, profiled=bool(args.server_profile))

    out: dict = {"bench": "reads", "database": "postgresql", "clients": args.clients, "seconds": args.seconds}
    errors = 0
    for read in ("levels", "variant"):
        http = results[f"http_{read}"].summary(with_server=True)
        raw = results[f"raw_{read}"].summary(with_server=False)
        errors += http["errors"] + raw["errors"]
        out[read] = {
            "http": http,
            "raw_sql": raw,
            "ratio": round(ratio(http["requests_per_s"], raw["requests_per_s"]), 3),
            "paired_ratio_median": paired_ratio_median(http["segments_requests_per_s"], raw["segments_requests_per_s"]),
        }
    out |= {
        "ok": errors == 0,
        "page": PAGE,
        "variants": args.variants,
        "branches": args.branches,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "loop": args.loop_name,
        "cpus": os.cpu_count(),
        "load_avg_1m_at_start": round(load_before, 2) if load_before is not None else None,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per side (default 4)")
    add_rounds_argument(parser, per="side")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per side (default 1)")
    parser.add_argument("--variants", type=int, default=2000, help="variants stocked at every branch (default 2000)")
    parser.add_argument("--branches", type=int, default=5, help="branches (default 5)")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument(
        "--server-profile", metavar="FILE", help="run the server under cProfile and write its stats to FILE"
    )
    args = parse_args(parser, argv)
    if args.clients < 1 or args.variants < 1 or args.branches < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients, --variants and --branches must be >= 1, --seconds > 0, --warmup >= 0")
    out = run(bench, args, parser)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
