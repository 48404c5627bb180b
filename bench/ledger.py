"""Benchmark: concurrent stock deductions through `operations/stock/ledger.py` against the same work as raw asyncpg SQL.

    python bench/ledger.py [--seconds 5] [--concurrency 16] [--database-url postgres://...]

Prints ONE JSON line on stdout (progress goes to stderr). It DROPS and re-creates the database named in
`--database-url` (default `branchline_bench`); the name must contain "bench". See bench/README.md for what
each side does per operation and how to read the figures.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
from tortoise import connections

from models.database import open_database
from operations.directory import (
    NewBranch,
    NewVariant,
    create_branch,
)
from operations.kernel import (
    SYSTEM,
    DomainSettings,
    install_settings,
    transaction,
)
from operations.stock import (
    MAX_UNITS_PER_MOVEMENT,
    Movement,
    Posting,
    PostingResult,
    apply_to_ledger,
    check_ledger,
)

if not __package__:  # run as `python bench/ledger.py`: make the `bench` package importable
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
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench"
TARGET_RATIO = 0.6
OPENING_STOCK = MAX_UNITS_PER_MOVEMENT  # per variant: deductions never run out
SHAPES = {"single_line": 1, "three_line": 3}

Op = Callable[[int, list[int], str], Awaitable[object]]  # (branch id, variant ids, idempotency key)


# --- setup ------------------------------------------------------------------------------------


async def seed(branch_count: int, variant_count: int) -> tuple[list[int], list[int]]:
    """Branches and variants through operations, opening stock through the ledger."""
    branch_ids = []
    for b in range(branch_count):
        branch, _ = await create_branch(SYSTEM, NewBranch(code=f"BENCH-{b + 1}", name=f"Benchmark branch {b + 1}"))
        branch_ids.append(branch.id)
    variant_ids = await create_variants(variant_count, lambda sku, _: NewVariant(sku=sku, price=Decimal("100.00")))
    for branch_id in branch_ids:
        async with transaction() as tx:
            await apply_to_ledger(
                tx,
                Posting(idempotency_key=f"bench:opening:{branch_id}", reason="opening_stock"),
                [Movement(branch_id, v, OPENING_STOCK) for v in variant_ids],
            )
    return branch_ids, variant_ids


# --- (a) through the ledger -------------------------------------------------------------------


def ledger_op() -> Op:
    async def op(branch_id: int, variant_ids: list[int], key: str) -> PostingResult:
        async with transaction() as tx:
            return await apply_to_ledger(
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


def _raw_insert_outbox(n: int) -> str:
    rows = ", ".join(f"(${4 * i + 1}, ${4 * i + 2}, ${4 * i + 3}, 'pending', 0, ${4 * i + 4})" for i in range(n))
    return f"INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES {rows}"


class RawShortage(Exception):
    pass


def raw_op(pool: asyncpg.Pool) -> Op:
    inserts = {n: insert_movements(n, returning="id, branch_id, variant_id, sequence") for n in SHAPES.values()}
    outbox_inserts = {n: _raw_insert_outbox(n) for n in SHAPES.values()}

    async def op(branch_id: int, variant_ids: list[int], key: str) -> list[dict]:
        now = datetime.now(UTC)
        lines = sorted(variant_ids)  # lock order: (branch, variant), as the ledger
        request_hash = sale_posting_hash(branch_id, variant_ids, [None, None])  # the posting row is identical
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
            values = movement_values(posting_id, branch_id, after, first, now)
            inserted = await conn.fetch(inserts[len(lines)], *values)
            # The outbox rows for the Shopify sync, one per movement, in the same transaction.
            outbox: list = []
            for r in inserted:
                payload = inventory_delta_payload(r["id"], branch_id, r["variant_id"])
                outbox += ["shopify.inventory_delta", f"movement:{r['id']}", payload, now]
            await conn.execute(outbox_inserts[len(lines)], *outbox)
        # What the ledger hands to the bus after commit (no bus is installed, in either run).
        ids = {r["sequence"]: r["id"] for r in inserted}
        return stock_changed_events(branch_id, after, ids, first, now)

    return op


# --- load generation --------------------------------------------------------------------------


@dataclass
class Result(Measured):
    cpu: float = 0.0  # this process's CPU seconds over the segments, drain included
    cpu_ops: int = 0  # ops completed over the segments, drain included

    def summary(self) -> dict:
        return self.figures("op", {"client_cpu_ms_per_op": per_op_ms(self.cpu, self.cpu_ops)})


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
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None

    def next_op(w: int, rng: random.Random) -> Awaitable[object] | None:
        if deadline is None and next(remaining) > ops:
            return None
        branch_id = branch_ids[0] if len(branch_ids) == 1 else rng.choice(branch_ids)
        chosen = rng.sample(variant_ids, lines)  # distinct variants, random order
        return op(branch_id, chosen, next_key(name))

    completed = await closed_loop(concurrency, seed, deadline, next_op, result)
    cpu = time.process_time() - cpu_started
    elapsed = seconds if seconds is not None else time.perf_counter() - started
    if into is not None:
        into.add_segment(len(into.latencies) - before, elapsed)
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
        raw_pool = await target.create_pool(min_size=pool_min, max_size=pool_max)
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
                order = alternating(r, ["raw_sql", "ledger"])
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
        shape_ratio = ratio(ledger_summary["ops_per_s"], raw_summary["ops_per_s"])
        ratios.append(shape_ratio)
        out[shape] = {
            "ledger": ledger_summary,
            "raw_sql": raw_summary,
            "ratio": round(shape_ratio, 3),
            "paired_ratio_median": paired_ratio_median(
                ledger_summary["segments_ops_per_s"], raw_summary["segments_ops_per_s"]
            ),
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


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, DEFAULT_URL)
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent workers per variant (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per variant and shape")
    parser.add_argument("--ops", type=int, default=None, help="a fixed number of ops per variant instead of --seconds")
    add_rounds_argument(parser, per="variant")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per variant and shape")
    parser.add_argument("--variants", type=int, default=200, help="variants to spread deductions over")
    parser.add_argument(
        "--branches",
        type=int,
        default=1,
        help="branches to spread deductions over (default 1: every op contends for one branch's sequence row)",
    )
    args = parse_args(parser, argv)
    if args.concurrency < 1 or args.rounds < 1 or args.branches < 1 or args.variants < 3 or args.seconds <= 0:
        parser.error("--concurrency, --rounds and --branches must be >= 1, --variants >= 3, --seconds > 0")
    if args.ops is not None and args.ops < 1:
        parser.error("--ops must be >= 1")

    install_settings(DomainSettings())  # the application side runs with the default settings
    out = run(bench, args, parser)
    return 0 if out["ledger_check"] == "ok" and out["postings_match_ops"] else 1


if __name__ == "__main__":
    sys.exit(main())
