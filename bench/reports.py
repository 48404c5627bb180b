"""Benchmark: the sales report against a hand-written SQL GROUP BY of the same data, and a large export.

    python bench/reports.py [--lines 1000000] [--branches 10] [--rounds 4] [--database-url postgres://…]

Seeds a month of sales at `--branches` branches (two counters each, 200 variants in 10 product types, one return
line in a hundred) straight into the tables with COPY — the report reads tables, so how the rows got there does not
matter — then, in the same run and alternating order (ABBA…), times:

- **day × branch**: `operations.reports.sales_report` grouped by DAY and BRANCH, against a hand-written PostgreSQL
  GROUP BY of the same figures (sales side and returns side, two statements on a plain asyncpg connection);
- **by product**: the same, grouped by PRODUCT;

and reports each side's median seconds and their ratio (hand-written ÷ report: 1.0 is as fast, the goal is ≥ 0.8).
Then it exports every sale line (`sale_lines`, one row per line) as XLSX and as CSV, each in a fresh child process,
and reports its seconds, rows and the child's peak RSS (VmHWM) beside the peak of a child that only opened the
database: memory should be flat whatever the row count. Prints ONE JSON line on stdout (progress on stderr). The
database named in `--database-url` (default branchline_bench_reports) is DROPPED and re-created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log, parse_url, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench_reports"
ZONE = "Asia/Karachi"
DAYS = 30
VARIANTS = 200
TYPES = 10


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (ru_maxrss would carry the
    parent's peak over from the fork, and the parent held the seeded rows)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _month() -> tuple[date, date]:
    last = datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1)
    return last - timedelta(days=DAYS - 1), last


async def _seed(url: str, lines: int, branches: int) -> dict:
    """Branches, counters, staff and variants through the operations; sales, lines and returns by COPY."""
    from tortoise import connections

    from models.staff import Role
    from operations.directory import (
        NewBranch,
        NewCounter,
        NewProduct,
        NewStaff,
        NewVariant,
        create_branch,
        create_counter,
        create_product,
        create_staff,
    )
    from operations.kernel import SYSTEM

    counters: list[tuple[int, int]] = []
    for b in range(branches):
        branch, _ = await create_branch(SYSTEM, NewBranch(f"B{b:02d}", f"Branch {b}", ZONE))
        for c in range(2):
            counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, f"C{c}", f"Counter {c}"))
            counters.append((branch.id, counter.id))
    cashier_id = (await create_staff(SYSTEM, NewStaff("bench@reports.pk", "Bench", Role.OWNER, "bench-password-1"))).id
    variants: list[tuple[int, str, Decimal]] = []
    for t in range(TYPES):
        product, _ = await create_product(
            SYSTEM,
            NewProduct(
                title=f"Product {t}",
                product_type=f"Type {t}",
                variants=[NewVariant(sku=f"T{t}-{i}", price=Decimal(500 + 50 * i)) for i in range(VARIANTS // TYPES)],
            ),
        )
        for v in await product.variants.all().order_by("id"):
            variants.append((v.id, v.sku, v.price))

    rng = random.Random(16)
    first, _ = _month()
    start = datetime.combine(first, dtime(), ZoneInfo(ZONE)).astimezone(UTC)
    sales, sale_lines, returns, return_lines = [], [], [], []
    line_id = sale_id = 0
    while line_id < lines:
        sale_id += 1
        branch_id, counter_id = counters[rng.randrange(len(counters))]
        at = start + timedelta(seconds=rng.randrange(DAYS * 86400))
        total = Decimal(0)
        net_total = Decimal(0)
        for no in range(1, min(rng.randint(1, 5), lines - line_id) + 1):
            line_id += 1
            vid, sku, price = variants[rng.randrange(len(variants))]
            quantity = rng.randint(1, 3)
            line_total = price * quantity
            net = (line_total / Decimal("1.18")).quantize(Decimal("0.01"))
            total += line_total
            net_total += net
            cost = (price * Decimal("0.55")).quantize(Decimal("0.0001"))
            sale_lines.append(
                (
                    line_id,
                    sale_id,
                    no,
                    vid,
                    sku,
                    sku,
                    quantity,
                    price,
                    False,
                    Decimal("18.00"),
                    Decimal(0),
                    Decimal(0),
                    net,
                    line_total - net,
                    line_total,
                    0,
                    cost,
                )
            )
            if rng.random() < 0.01:
                returns.append(
                    (
                        len(returns) + 1,
                        f"RET-{len(returns) + 1}",
                        sale_id,
                        branch_id,
                        counter_id,
                        cashier_id,
                        net,
                        line_total - net,
                        line_total,
                        line_total,
                        "did not fit",
                        at + timedelta(hours=2),
                    )
                )
                return_lines.append(
                    (
                        len(return_lines) + 1,
                        len(returns),
                        line_id,
                        quantity,
                        "restock",
                        Decimal(0),
                        net,
                        line_total - net,
                        line_total,
                    )
                )
        sales.append(
            (
                sale_id,
                f"S-{sale_id}",
                branch_id,
                counter_id,
                cashier_id,
                "placed",
                False,
                True,
                "PKR",
                Decimal(0),
                total,
                Decimal(0),
                net_total,
                total - net_total,
                total,
                total,
                Decimal(0),
                total,
                Decimal(0),
                False,
                at,
                at,
                at,
                at,
            )
        )
    log(f"seeding {len(sales):,} sales, {len(sale_lines):,} lines, {len(returns):,} returns")
    conn = connections.get("default")
    async with conn.acquire_connection() as raw:
        await raw.copy_records_to_table(
            "sale",
            records=sales,
            columns=[
                "id",
                "number",
                "branch_id",
                "counter_id",
                "cashier_id",
                "status",
                "is_quote",
                "tax_inclusive",
                "currency",
                "order_discount",
                "subtotal",
                "discount_total",
                "net_total",
                "tax_total",
                "total",
                "paid",
                "change_due",
                "cash_taken",
                "refunded_total",
                "oversold",
                "occurred_at",
                "placed_at",
                "created_at",
                "updated_at",
            ],
        )
        await raw.copy_records_to_table(
            "sale_line",
            records=sale_lines,
            columns=[
                "id",
                "sale_id",
                "line_no",
                "variant_id",
                "sku",
                "description",
                "quantity",
                "unit_price",
                "price_overridden",
                "tax_rate",
                "line_discount",
                "order_discount",
                "net",
                "tax",
                "total",
                "returned_quantity",
                "unit_cost",
            ],
        )
        await raw.copy_records_to_table(
            "sale_return",
            records=returns,
            columns=[
                "id",
                "number",
                "sale_id",
                "branch_id",
                "counter_id",
                "cashier_id",
                "net",
                "tax",
                "total",
                "cash_paid_out",
                "reason",
                "created_at",
            ],
        )
        await raw.copy_records_to_table(
            "return_line",
            records=return_lines,
            columns=["id", "sale_return_id", "sale_line_id", "quantity", "restock", "discount", "net", "tax", "total"],
        )
        for table in ("sale", "sale_line", "sale_return", "return_line"):
            await raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        await raw.execute("ANALYZE")
    return {"sales": len(sales), "sale_lines": len(sale_lines), "returns": len(returns)}


HAND_SALES = {
    "day_branch": (
        "SELECT CAST(timezone('Asia/Karachi', s.occurred_at) AS DATE) AS day, s.branch_id,",
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    "product": ("SELECT v.product_id,", "GROUP BY 1 ORDER BY 1"),
}


async def _hand_written(raw, kind: str, start: datetime, end: datetime) -> int:
    """The same figures as the report, written by hand: one GROUP BY over the sale lines, one over the returns."""
    head, tail = HAND_SALES[kind]
    join = " JOIN variant v ON v.id = l.variant_id" if kind == "product" else ""
    sales = await raw.fetch(
        f"{head} SUM(l.unit_price * l.quantity), SUM(l.line_discount + l.order_discount), SUM(l.net), SUM(l.tax),"
        " SUM(l.total), SUM(l.quantity), COUNT(DISTINCT s.id), SUM(ROUND(l.unit_cost * l.quantity, 2)),"
        " SUM(CASE WHEN l.unit_cost IS NULL THEN l.quantity ELSE 0 END)"
        f" FROM sale_line l JOIN sale s ON s.id = l.sale_id{join}"
        " WHERE s.status IN ('placed', 'updated', 'refunded') AND s.occurred_at >= $1 AND s.occurred_at < $2 " + tail,
        start,
        end,
    )
    head_r = head.replace("s.occurred_at", "r.created_at").replace("s.branch_id", "r.branch_id")
    returns = await raw.fetch(
        f"{head_r} SUM(rl.total), SUM(rl.net), SUM(rl.quantity), COUNT(DISTINCT r.id),"
        " SUM(ROUND(l.unit_cost * rl.quantity, 2))"
        " FROM return_line rl JOIN sale_return r ON r.id = rl.sale_return_id JOIN sale_line l ON l.id = rl.sale_line_id"
        f"{join} WHERE r.created_at >= $1 AND r.created_at < $2 " + tail,
        start,
        end,
    )
    return len(sales) + len(returns)


async def _compare(rounds: int) -> dict:
    from tortoise import connections

    from operations.kernel import SYSTEM
    from operations.reports import SalesFilter, SalesGroup, sales_report

    first, last = _month()
    start = datetime.combine(first, dtime(), ZoneInfo(ZONE)).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), dtime(), ZoneInfo(ZONE)).astimezone(UTC)
    groupings = {"day_branch": (SalesGroup.DAY, SalesGroup.BRANCH), "product": (SalesGroup.PRODUCT,)}
    out = {}
    conn = connections.get("default")
    async with conn.acquire_connection() as raw:
        for kind, groups in groupings.items():
            times = {"report": [], "hand_written": []}
            rows = 0
            for i in range(rounds * 2):
                side = ("report", "hand_written", "hand_written", "report")[i % 4]
                started = time.perf_counter()
                if side == "report":
                    rows = len(await sales_report(SYSTEM, SalesFilter(first, last, None, groups), limit=100_000))
                else:
                    await _hand_written(raw, kind, start, end)
                times[side].append(time.perf_counter() - started)
            report_s = statistics.median(times["report"])
            hand_s = statistics.median(times["hand_written"])
            out[kind] = {
                "rows": rows,
                "report_s": round(report_s, 4),
                "hand_written_s": round(hand_s, 4),
                "ratio": round(hand_s / report_s, 3),
            }
            log(f"{kind}: {out[kind]}")
    return out


def _child(mode: str, url: str, fmt: str) -> dict:
    from models.database import open_database
    from models.reports import ExportFormat
    from operations.kernel import SYSTEM, DomainSettings, ReportSettings, install_settings
    from operations.reports import ExportRequest, run_export, start_export

    async def run() -> dict:
        with tempfile.TemporaryDirectory(prefix="branchline-bench-export-") as tmp:
            install_settings(DomainSettings(reports=ReportSettings(export_dir=tmp)))
            async with open_database(url, run_migrations=False):
                if mode == "idle":
                    return {"peak_mb": _peak_mb()}
                first, last = _month()
                request = ExportRequest("sale_lines", ExportFormat(fmt), first, last)
                export, _ = await start_export(SYSTEM, request, f"bench-{fmt}-{time.time_ns()}")
                started = time.perf_counter()
                done = await run_export(export.id)
                seconds = time.perf_counter() - started
                if done.status.value != "done":
                    raise SystemExit(f"export failed: {done.error}")
                size = (await anyio.Path(done.path).stat()).st_size
                return {
                    "seconds": round(seconds, 2),
                    "rows": done.rows_written,
                    "file_mb": round(size / 1e6, 1),
                    "rows_per_s": round(done.rows_written / seconds),
                    "peak_mb": _peak_mb(),
                }

    return asyncio.run(run())


def _in_child(mode: str, url: str, fmt: str = "csv") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--format", fmt, "--database-url", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="sale lines to seed (default 1,000,000)")
    parser.add_argument("--branches", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4, help="timed runs per side and grouping (ABBA order)")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and re-created (name must contain bench)")
    parser.add_argument("--child", choices=["idle", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--format", default="csv", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.database_url, args.format)))
        return

    from models.database import open_database
    from operations.kernel import DomainSettings, install_settings

    target = parse_url(args.database_url)
    asyncio.run(recreate_database(target))
    install_settings(DomainSettings())

    async def seed_and_compare() -> dict:
        async with open_database(args.database_url):
            started = time.perf_counter()
            seeded = await _seed(args.database_url, args.lines, args.branches)
            seeded["seed_s"] = round(time.perf_counter() - started, 1)
            return {"seeded": seeded, "summaries": await _compare(args.rounds)}

    result = asyncio.run(seed_and_compare())
    log("exporting")
    result["export"] = {
        "idle_child_peak_mb": _in_child("idle", args.database_url)["peak_mb"],
        "xlsx": _in_child("export", args.database_url, "xlsx"),
        "csv": _in_child("export", args.database_url, "csv"),
    }
    result["cpus"] = __import__("os").cpu_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
