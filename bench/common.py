"""What `bench/ledger.py` and `bench/checkout.py` share.

Both benchmarks compare an application path with the same work hand-written on a plain asyncpg pool, in the same
run and by the same method: a throwaway database, closed-loop workers with seeded RNGs, measured segments run in
alternating order, nearest-rank percentiles, one JSON line on stdout. That method, and the pieces of the raw side
that both write the same way (the ledger's tail: the branch sequence, movements, outbox payloads, live events), live
here once so that the two benchmarks cannot drift apart and their figures stay comparable.

Imported as `bench.common`: the scripts put the project root on `sys.path` when run as `python bench/x.py`, and
`python -m bench.x` (from the project root) has it there already.
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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import asyncpg
import orjson

from operations.directory import NewProduct, NewVariant, create_product
from operations.kernel import SYSTEM


def log(message: str) -> None:
    """Progress goes to stderr: stdout carries only the JSON line."""
    print(message, file=sys.stderr, flush=True)


# --- the database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The PostgreSQL database a benchmark (re)creates, as asyncpg's connect arguments."""

    host: str
    port: int
    user: str
    password: str | None
    database: str

    async def create_pool(self, min_size: int, max_size: int) -> asyncpg.Pool:
        """The raw side's plain asyncpg pool on this database (no ORM in between)."""
        return await asyncpg.create_pool(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            min_size=min_size,
            max_size=max_size,
        )


def parse_url(url: str) -> Target:
    """`--database-url` as a Target; refuses a database whose name lacks "bench", since it will be dropped."""
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
    """Drop and create the database, so every run starts from the same empty state."""
    conn = await asyncpg.connect(
        host=target.host, port=target.port, user=target.user, password=target.password, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


async def create_variants(count: int, variant: Callable[[str, int], NewVariant]) -> list[int]:
    """`count` variants through `create_product`, in products of at most 100 (its limit); ids in creation order.

    `variant(sku, index)` builds each one; `index` counts within its product.
    """
    variant_ids: list[int] = []
    for start in range(0, count, 100):
        product, _ = await create_product(
            SYSTEM,
            NewProduct(
                title=f"Bench product {start // 100 + 1}",
                variants=[variant(f"BENCH-{start + i:05d}", i) for i in range(min(100, count - start))],
            ),
        )
        variant_ids += [v.id for v in await product.variants.all().order_by("id")]
    return variant_ids


# --- the raw side's share of the ledger's work (as operations/stock/ledger.py does it) ----------------

RAW_SEQUENCE = (
    "UPDATE branch_stock_sequence SET last_sequence = last_sequence + $1 WHERE branch_id = $2 RETURNING last_sequence"
)


def values_rows(columns: int, count: int) -> str:
    """`($1, …, $columns), (…)` for a multi-row INSERT of `count` rows."""
    return ", ".join("(" + ", ".join(f"${columns * i + c}" for c in range(1, columns + 1)) + ")" for i in range(count))


def insert_movements(count: int, returning: str) -> str:
    """One multi-row INSERT of `count` stock movements (13 columns each: see `movement_values`)."""
    return (
        "INSERT INTO stock_movement (posting_id, branch_id, variant_id, sequence, bucket, delta, reason,"
        " shopify_effect, on_hand_after, reserved_after, in_transit_after, damaged_after, occurred_at)"
        f" VALUES {values_rows(13, count)} RETURNING {returning}"
    )


def sale_posting_hash(branch_id: int, variant_ids: list[int], reference: list[str | None]) -> str:
    """The request hash the ledger stores for a `sale` posting of -1 on hand per variant (same body, same sha256)."""
    body = {
        "reason": "sale",
        "reference": reference,
        "movements": [[branch_id, v, -1, "on_hand", None, None] for v in variant_ids],
    }
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


def movement_values(posting_id: int, branch_id: int, after: list[tuple[int, Any]], first: int, now: datetime) -> list:
    """The parameters of `insert_movements`: a -1 on-hand sale movement per (variant, level row after it)."""
    values: list = []
    for i, (variant_id, row) in enumerate(after):
        values += [posting_id, branch_id, variant_id, first + i, "on_hand", -1, "sale", "push"]
        values += [row["on_hand"], row["reserved"], row["in_transit"], row["damaged"], now]
    return values


def inventory_delta_payload(movement_id: int, branch_id: int, variant_id: int) -> str:
    """The `shopify.inventory_delta` outbox payload the ledger writes for a -1 on-hand movement."""
    payload = {"movementId": movement_id, "branchId": branch_id, "variantId": variant_id}
    payload |= {"bucket": "on_hand", "delta": -1}
    return orjson.dumps(payload).decode()


def stock_changed_events(
    branch_id: int, after: list[tuple[int, Any]], ids: dict[int, int], first: int, now: datetime
) -> list[dict]:
    """The `stockChanged` payloads the ledger hands to the live bus after commit (the raw side builds, not sends)."""
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


# --- load generation and figures --------------------------------------------------------------

_keys = itertools.count(1)


def next_key(name: str) -> str:
    """A fresh idempotency key: the benchmarks never replay one."""
    return f"bench:{name}:{next(_keys)}"


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values (0.0 for none): an observed latency, never an interpolation."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def per_op_ms(seconds: float | None, ops: int) -> float | None:
    """CPU seconds spread over `ops`, in ms per op (None when unknown or no ops)."""
    return round(seconds / ops * 1000, 3) if seconds is not None and ops else None


@dataclass
class Measured:
    """One side's latencies and rates, accumulated over its measured segments (subclasses add their CPU figures)."""

    latencies: list[float] = field(default_factory=list)  # seconds, every op completed inside a window
    elapsed: float = 0.0
    errors: int = 0
    first_error: str | None = None
    segments: list[float] = field(default_factory=list)  # ops/s of each measured segment
    error_chars: ClassVar[int | None] = None  # where `first_error` is cut (None: whole)

    def note_error(self, error: Exception) -> None:
        self.errors += 1
        self.first_error = self.first_error or f"{type(error).__name__}: {error}"[: self.error_chars]

    def add_segment(self, measured_ops: int, seconds: float) -> None:
        self.elapsed += seconds
        self.segments.append(measured_ops / seconds)

    def figures(self, unit: str, cpu: dict) -> dict:
        """`{unit}s_per_s`, p50/p99 in ms, counts, the `cpu` figures given, the segments and the first error."""
        ordered = sorted(self.latencies)
        out = {
            f"{unit}s_per_s": round(len(ordered) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": round(percentile(ordered, 50) * 1000, 3),
            "p99_ms": round(percentile(ordered, 99) * 1000, 3),
            f"{unit}s": len(ordered),
            "errors": self.errors,
            **cpu,
            f"segments_{unit}s_per_s": [round(s, 1) for s in self.segments],
        }
        if self.first_error:
            out["first_error"] = self.first_error
        return out


async def closed_loop(
    workers: int,
    seed: int,
    deadline: float | None,
    next_op: Callable[[int, random.Random], Awaitable[object] | None],
    into: Measured,
) -> int:
    """`workers` workers, each starting its next op when the last one returns, until `deadline` (or `next_op` None).

    `next_op(worker, rng)` makes the worker's next op; the RNG is seeded from `seed` and the worker, so both sides
    of a comparison see the same choices. Only ops that complete before `deadline` get a latency in `into`: the
    drain of the ops still in flight at the deadline is not measured. Errors are counted in `into`.
    Returns the number of ops that succeeded (committed), drain included.
    """
    completed = 0

    async def worker(w: int) -> None:
        nonlocal completed
        rng = random.Random(seed * 1000 + w)
        while deadline is None or time.perf_counter() < deadline:
            op = next_op(w, rng)
            if op is None:
                return
            began = time.perf_counter()
            try:
                await op
            except Exception as error:
                into.note_error(error)
                continue
            ended = time.perf_counter()
            completed += 1
            if deadline is None or ended <= deadline:
                into.latencies.append(ended - began)

    await asyncio.gather(*(worker(w) for w in range(workers)))
    return completed


def alternating(round_index: int, sides: list[str]) -> list[str]:
    """The sides' order in a round, reversed every other round (ABBA…): drift on a shared machine hits both alike."""
    return sides if round_index % 2 == 0 else sides[::-1]


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def paired_ratio_median(a_segments: list[float], b_segments: list[float]) -> float | None:
    """Median of each round's a/b segment ratio: less sensitive to drift or one noisy segment than the overall ratio."""
    paired = sorted(a / b for a, b in zip(a_segments, b_segments, strict=True) if b)
    return round(paired[len(paired) // 2], 3) if paired else None


# --- command line -----------------------------------------------------------------------------


def bench_parser(doc: str, default_url: str) -> argparse.ArgumentParser:
    """The parser both benchmarks start from: the module docstring's first paragraph and `--database-url`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=default_url, help="dropped and re-created (name must contain 'bench')"
    )
    return parser


def add_rounds_argument(parser: argparse.ArgumentParser, per: str) -> None:
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"measured segments per {per}, order alternated (ABBA...); default: one per 0.5 s, even",
    )


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Adds `--loop` (last), parses, and defaults `--rounds` to one per 0.5 s of `--seconds`, even, at least 2."""
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="auto: uvloop if present")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = max(2, 2 * round(args.seconds))
    return args


def run(
    bench: Callable[[argparse.Namespace], Coroutine[Any, Any, dict]],
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
) -> dict:
    """Runs `bench(args)` on the loop `--loop` picks, prints its result as ONE JSON line on stdout, returns it.

    `auto` is uvloop when installed, as uvicorn's default (so the server's); `args.loop_name` says which ran.
    """
    runner_factory = None
    args.loop_name = "asyncio"
    if args.loop in ("auto", "uvloop"):
        try:
            import uvloop

            runner_factory, args.loop_name = uvloop.new_event_loop, "uvloop"
        except ImportError:
            if args.loop == "uvloop":
                parser.error("uvloop is not installed")
    with asyncio.Runner(loop_factory=runner_factory) as runner:
        out = runner.run(bench(args))
    print(json.dumps(out))
    return out
