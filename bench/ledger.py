"""Benchmark: concurrent stock deductions through `operations/ledger.py` against the same work as raw asyncpg SQL.

    python bench/ledger.py [--seconds 5] [--concurrency 16] [--database-url postgres://...]

Prints ONE JSON line on stdout (progress goes to stderr). It DROPS and re-creates the database named in
`--database-url` (default `branchline_bench`); the name must contain "bench". See bench/README.md for what
each side does per operation and how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import unquote, urlsplit

import asyncpg
import orjson
from tortoise import connections

from models.database import open_database
from operations import ledger
from operations.access import SYSTEM
from operations.branches import NewBranch, create_branch
from operations.catalog import NewProduct, NewVariant, create_product
from operations.ledger import Movement, Posting
from operations.stock import check_ledger
from operations.transaction import transaction

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench"
TARGET_RATIO = 0.6
OPENING_STOCK = ledger.MAX_UNITS_PER_MOVEMENT  # per variant: deductions never run out
SHAPES = {"single_line": 1, "three_line": 3}

Op = Callable[[int, list[int], str], Awaitable[object]]  # (branch id, variant ids, idempotency key)


# --- setup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str | None
    database: str


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("--database-url must be a postgres:// URL")
    database = parts.path.lstrip("/")
    if "bench" not in database:
        raise SystemExit(f"refusing to drop database {database!r}: its name must contain 'bench'")
    return Target(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        database=database,
    )


async def recreate_database(target: Target) -> None:
    conn = await asyncpg.connect(
        host=target.host, port=target.port, user=target.user, password=target.password, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


async def seed(branch_count: int, variant_count: int) -> tuple[list[int], list[int]]:
    """Branches and variants through operations, opening stock through the ledger."""
    branch_ids = []
    for b in range(branch_count):
        branch, _ = await create_branch(SYSTEM, NewBranch(code=f"BENCH-{b + 1}", name=f"Benchmark branch {b + 1}"))
        branch_ids.append(branch.id)
    variant_ids: list[int] = []
    for start in range(0, variant_count, 100):  # create_product takes at most 100 variants
        count = min(100, variant_count - start)
        product, _ = await create_product(
            SYSTEM,
            NewProduct(
                title=f"Bench product {start // 100 + 1}",
                variants=[NewVariant(sku=f"BENCH-{start + i:05d}", price=Decimal("100.00")) for i in range(count)],
            ),
        )
        variant_ids += [v.id for v in await product.variants.all().order_by("id")]
    for branch_id in branch_ids:
        async with transaction() as tx:
            await ledger.apply(
                tx,
                Posting(idempotency_key=f"bench:opening:{branch_id}", reason="opening_stock"),
                [Movement(branch_id, v, OPENING_STOCK) for v in variant_ids],
            )
    return branch_ids, variant_ids


# --- (a) through the ledger -------------------------------------------------------------------


def ledger_op() -> Op:
    async def op(branch_id: int, variant_ids: list[int], key: str) -> ledger.PostingResult:
        async with transaction() as tx:
            return await ledger.apply(
                tx,
                Posting(idempotency_key=key, reason="sale"),
                [Movement(branch_id, v, -1) for v in variant_ids],
            )

    return op


# --- (b) the same work as hand-written SQL on a plain asyncpg pool ----------------------------

RAW_CLAIM = (
    "INSERT INTO stock_posting (idempotency_key, request_hash, reason, reference_type, reference_id, actor,"
    " note, occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
# One statement does what the ledger does with a guarded UPDATE plus two reference SELECTs: it honours
# the branch's allow_negative_stock and returns the SKU the live event carries. No row: short or missing.
RAW_LEVEL = (
    "UPDATE stock_level l SET on_hand = l.on_hand + $1, reserved = l.reserved + $2,"
    " in_transit = l.in_transit + $3, damaged = l.damaged + $4, version = l.version + 1, updated_at = $5"
    " FROM variant v, branch b"
    " WHERE l.branch_id = $6 AND l.variant_id = $7 AND v.id = l.variant_id AND b.id = l.branch_id"
    " AND (b.allow_negative_stock OR l.on_hand - l.reserved >= $8)"
    " RETURNING l.on_hand, l.reserved, l.in_transit, l.damaged, v.sku"
)
RAW_SEQUENCE = (
    "UPDATE branch_stock_sequence SET last_sequence = last_sequence + $1 WHERE branch_id = $2 RETURNING last_sequence"
)


def _raw_insert_movements(lines: int) -> str:
    rows = ", ".join(
        "(" + ", ".join(f"${13 * i + c}" for c in range(1, 14)) + ")"  # 13 columns per movement
        for i in range(lines)
    )
    return (
        "INSERT INTO stock_movement (posting_id, branch_id, variant_id, sequence, bucket, delta, reason,"
        " shopify_effect, on_hand_after, reserved_after, in_transit_after, damaged_after, occurred_at)"
        f" VALUES {rows} RETURNING id, branch_id, variant_id, sequence"
    )


def _raw_insert_outbox(n: int) -> str:
    rows = ", ".join(f"(${4 * i + 1}, ${4 * i + 2}, ${4 * i + 3}, 'pending', 0, ${4 * i + 4})" for i in range(n))
    return f"INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES {rows}"


class RawShortage(Exception):
    pass


def raw_op(pool: asyncpg.Pool) -> Op:
    inserts = {n: _raw_insert_movements(n) for n in SHAPES.values()}
    outbox_inserts = {n: _raw_insert_outbox(n) for n in SHAPES.values()}

    async def op(branch_id: int, variant_ids: list[int], key: str) -> list[dict]:
        now = datetime.now(UTC)
        lines = sorted(variant_ids)  # lock order: (branch, variant), as the ledger
        # The same request hash the ledger stores (the posting row is identical).
        body = {
            "reason": "sale",
            "reference": [None, None],
            "movements": [[branch_id, v, -1, "on_hand", None, None] for v in variant_ids],
        }
        request_hash = hashlib.sha256(orjson.dumps(body)).hexdigest()
        async with pool.acquire() as conn, conn.transaction():
            posting_id = await conn.fetchval(RAW_CLAIM, key, request_hash, "sale", None, None, "system", None, now, now)
            if posting_id is None:
                raise RuntimeError(f"key {key} already posted (the benchmark never replays)")
            after = []
            for variant_id in lines:
                row = await conn.fetchrow(RAW_LEVEL, -1, 0, 0, 0, now, branch_id, variant_id, 1)
                if row is None:
                    raise RawShortage(variant_id)  # rolls back; not exercised here
                after.append((variant_id, row))
            last = await conn.fetchval(RAW_SEQUENCE, len(lines), branch_id)
            first = last - len(lines) + 1
            values: list = []
            for i, (variant_id, row) in enumerate(after):
                values += [
                    posting_id,
                    branch_id,
                    variant_id,
                    first + i,
                    "on_hand",
                    -1,
                    "sale",
                    "push",
                    row["on_hand"],
                    row["reserved"],
                    row["in_transit"],
                    row["damaged"],
                    now,
                ]
            inserted = await conn.fetch(inserts[len(lines)], *values)
            # The outbox rows for the Shopify sync, one per movement, in the same transaction.
            outbox: list = []
            for r in inserted:
                payload = {
                    "movementId": r["id"],
                    "branchId": branch_id,
                    "variantId": r["variant_id"],
                    "bucket": "on_hand",
                    "delta": -1,
                }
                outbox += ["shopify.inventory_delta", f"movement:{r['id']}", orjson.dumps(payload).decode(), now]
            await conn.execute(outbox_inserts[len(lines)], *outbox)
        # What the ledger hands to the bus after commit (no bus is installed, in either run).
        ids = {r["sequence"]: r["id"] for r in inserted}
        return [
            {
                "movementId": ids[first + i],
                "branchId": branch_id,
                "variantId": variant_id,
                "sku": row["sku"],
                "bucket": "on_hand",
                "delta": -1,
                "reason": "sale",
                "sequence": first + i,
                "onHand": row["on_hand"],
                "reserved": row["reserved"],
                "available": row["on_hand"] - row["reserved"],
                "inTransit": row["in_transit"],
                "damaged": row["damaged"],
                "occurredAt": now.isoformat(),
            }
            for i, (variant_id, row) in enumerate(after)
        ]

    return op


# --- load generation --------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, every completed op
    elapsed: float = 0.0
    errors: int = 0
    first_error: str | None = None
    segments: list[float] = field(default_factory=list)  # ops/s of each measured segment
    cpu: float = 0.0  # this process's CPU seconds over the segments, drain included
    cpu_ops: int = 0  # ops completed over the segments, drain included

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        out = {
            "ops_per_s": round(len(ordered) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": round(_percentile(ordered, 50) * 1000, 3),
            "p99_ms": round(_percentile(ordered, 99) * 1000, 3),
            "ops": len(ordered),
            "errors": self.errors,
            "client_cpu_ms_per_op": round(self.cpu / self.cpu_ops * 1000, 3) if self.cpu_ops else None,
            "segments_ops_per_s": [round(s, 1) for s in self.segments],
        }
        if self.first_error:
            out["first_error"] = self.first_error
        return out


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))  # nearest-rank
    return ordered[int(rank) - 1]


_keys = itertools.count(1)


async def run_load(
    op: Op,
    name: str,
    branch_ids: list[int],
    variant_ids: list[int],
    lines: int,
    concurrency: int,
    seconds: float | None,
    ops: int | None,
    seed: int,
    into: Result | None,
) -> int:
    """Closed loop: `concurrency` workers each issue one op after another until time (or count) is up.

    Timed: only ops that complete inside the window count, over the window's length, so the drain of
    the ops still in flight at the deadline (fewer than `concurrency` running) is not measured.
    Fixed count: every op counts, over the time until the last one completes.
    Returns the number of ops that completed (committed), drain included.
    """
    remaining = itertools.count(1)
    result = into if into is not None else Result()
    before = len(result.latencies)
    completed = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None

    async def worker(w: int) -> None:
        nonlocal completed
        rng = random.Random(seed * 1000 + w)
        while True:
            if deadline is not None:
                if time.perf_counter() >= deadline:
                    return
            elif next(remaining) > ops:
                return
            branch_id = branch_ids[0] if len(branch_ids) == 1 else rng.choice(branch_ids)
            chosen = rng.sample(variant_ids, lines)  # distinct variants, random order
            key = f"bench:{name}:{next(_keys)}"
            began = time.perf_counter()
            try:
                await op(branch_id, chosen, key)
            except Exception as error:
                result.errors += 1
                result.first_error = result.first_error or f"{type(error).__name__}: {error}"
                continue
            ended = time.perf_counter()
            completed += 1
            if deadline is None or ended <= deadline:
                result.latencies.append(ended - began)

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    cpu = time.process_time() - cpu_started
    elapsed = seconds if seconds is not None else time.perf_counter() - started
    if into is not None:
        into.elapsed += elapsed
        into.segments.append((len(into.latencies) - before) / elapsed)
        into.cpu += cpu
        into.cpu_ops += completed
    return completed


# --- main -------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> dict:
    target = parse_url(args.database_url)
    log(f"recreating database {target.database}")
    await recreate_database(target)
    async with open_database(args.database_url):
        branch_ids, variant_ids = await seed(args.branches, args.variants)
        tortoise_client = connections.get("default")
        pool_min, pool_max = tortoise_client.pool_minsize, tortoise_client.pool_maxsize
        raw_pool = await asyncpg.create_pool(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            database=target.database,
            min_size=pool_min,
            max_size=pool_max,
        )
        try:
            impls = {"ledger": ledger_op(), "raw_sql": raw_op(raw_pool)}
            results = {shape: {impl: Result() for impl in impls} for shape in SHAPES}
            common = {"branch_ids": branch_ids, "variant_ids": variant_ids, "concurrency": args.concurrency}
            committed = 0  # every successful op, warm-up included: each left exactly one sale posting
            if args.warmup > 0:
                log(f"warm-up {args.warmup}s per variant")
                for shape, lines in SHAPES.items():
                    for impl, op in impls.items():
                        committed += await run_load(
                            op,
                            f"warmup-{impl}-{shape}",
                            lines=lines,
                            seconds=args.warmup,
                            ops=None,
                            seed=0,
                            into=None,
                            **common,
                        )
            segment = args.seconds / args.rounds if args.ops is None else None
            per_segment_ops = -(-args.ops // args.rounds) if args.ops is not None else None
            for r in range(args.rounds):
                order = ["raw_sql", "ledger"] if r % 2 == 0 else ["ledger", "raw_sql"]  # ABBA against drift
                for shape, lines in SHAPES.items():
                    for impl in order:
                        into = results[shape][impl]
                        committed += await run_load(
                            impls[impl],
                            f"{impl}-{shape}",
                            lines=lines,
                            seconds=segment,
                            ops=per_segment_ops,
                            seed=r + 1,
                            into=into,
                            **common,
                        )
                        log(f"round {r + 1}/{args.rounds} {shape:<11} {impl:<7} {into.segments[-1]:8.1f} ops/s")
        finally:
            await raw_pool.close()

        differences, sequence_problems = await check_ledger()
        postings = await connections.get("default").execute_query_dict(
            "SELECT COUNT(*) AS n FROM stock_posting WHERE reason = 'sale'"
        )

    out: dict = {
        "bench": "ledger",
        "database": "postgresql",
        "concurrency": args.concurrency,
        "seconds": args.seconds if args.ops is None else None,
    }
    ratios = []
    for shape in SHAPES:
        ledger_summary = results[shape]["ledger"].summary()
        raw_summary = results[shape]["raw_sql"].summary()
        ratio = ledger_summary["ops_per_s"] / raw_summary["ops_per_s"] if raw_summary["ops_per_s"] else 0.0
        ratios.append(ratio)
        # Each round's ledger segment against the raw segment run next to it: robust to drift.
        paired = sorted(
            a / b
            for a, b in zip(ledger_summary["segments_ops_per_s"], raw_summary["segments_ops_per_s"], strict=True)
            if b
        )
        out[shape] = {
            "ledger": ledger_summary,
            "raw_sql": raw_summary,
            "ratio": round(ratio, 3),
            "paired_ratio_median": round(paired[len(paired) // 2], 3) if paired else None,
        }
    errors = sum(r.errors for shape in results.values() for r in shape.values())
    out |= {
        "target_ratio": TARGET_RATIO,
        "meets_target": all(r >= TARGET_RATIO for r in ratios) and errors == 0,
        "ledger_check": "ok" if not differences and not sequence_problems else "FAILED",
        "sale_postings": postings[0]["n"],
        "postings_match_ops": postings[0]["n"] == committed,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "fixed_ops": args.ops,
        "variants": len(variant_ids),
        "branches": len(branch_ids),
        "pool_size": pool_max,
        "loop": args.loop_name,
    }
    if differences or sequence_problems:
        out["ledger_check_problems"] = {"levels": len(differences), "sequences": len(sequence_problems)}
    return out


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=DEFAULT_URL, help="dropped and re-created (name must contain 'bench')"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent workers per variant (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per variant and shape")
    parser.add_argument("--ops", type=int, default=None, help="a fixed number of ops per variant instead of --seconds")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="measured segments per variant, order alternated (ABBA...); default: one per 0.5 s, even",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per variant and shape")
    parser.add_argument("--variants", type=int, default=200, help="variants to spread deductions over")
    parser.add_argument(
        "--branches",
        type=int,
        default=1,
        help="branches to spread deductions over (default 1: every op contends for one branch's sequence row)",
    )
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="auto: uvloop if present")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = max(2, 2 * round(args.seconds))
    if args.concurrency < 1 or args.rounds < 1 or args.branches < 1 or args.variants < 3 or args.seconds <= 0:
        parser.error("--concurrency, --rounds and --branches must be >= 1, --variants >= 3, --seconds > 0")
    if args.ops is not None and args.ops < 1:
        parser.error("--ops must be >= 1")

    runner_factory = None
    args.loop_name = "asyncio"
    if args.loop in ("auto", "uvloop"):  # uvicorn's default loop is uvloop when installed, as here
        try:
            import uvloop

            runner_factory, args.loop_name = uvloop.new_event_loop, "uvloop"
        except ImportError:
            if args.loop == "uvloop":
                parser.error("uvloop is not installed")
    with asyncio.Runner(loop_factory=runner_factory) as runner:
        out = runner.run(bench(args))
    print(json.dumps(out))
    return 0 if out["ledger_check"] == "ok" and out["postings_match_ops"] else 1


if __name__ == "__main__":
    sys.exit(main())
