"""Benchmark: importing a Shopify bulk export into PostgreSQL, beside merely parsing the same file.

    python bench/import.py [--sizes 20000,100000] [--locations 5] [--database-url postgres://.../branchline_bench_import]

For each size (variants; each has one inventory level per location, so 100,000 variants x 5 locations is
600,000 lines) it writes a shuffled-parent export with shopify/sample_export.py, then in a fresh child process
(so peak memory is that run's alone):

- baseline: read the file line by line and `orjson.loads` each line, nothing else;
- import: `operations.sync.catalog_import.run_job` on a freshly created database — check and split the file,
  upsert locations/branches, products, variants, opening stock through the ledger's bulk path, customers.

Prints ONE JSON line on stdout (progress on stderr): per size, lines, import seconds and lines/s, parse-only
seconds and lines/s, their ratio, and the child's peak RSS in MB (ru_maxrss). The database is DROPPED and
re-created for each size; its name must contain "bench".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log, parse_url, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/branchline_bench_import"


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def _child_parse(path: Path) -> dict:
    import orjson

    started = time.perf_counter()
    lines = 0
    with path.open("rb") as f:
        for raw in f:
            orjson.loads(raw)
            lines += 1
    return {"seconds": time.perf_counter() - started, "lines": lines, "peak_mb": _peak_mb()}


def _child_import(path: Path, url: str) -> dict:
    from models.database import open_database
    from models.shopify import ImportStatus
    from operations.kernel import (
        SYSTEM,
        DomainSettings,
        install_settings,
    )
    from operations.sync import run_job, start_import

    install_settings(DomainSettings())

    async def run() -> dict:
        async with open_database(url):
            job, _ = await start_import(SYSTEM, source="file")
            started = time.perf_counter()
            job = await run_job(job.id, [path])
            seconds = time.perf_counter() - started
        if job.status != ImportStatus.COMPLETED:
            raise SystemExit(f"import failed: {job.error_code} {job.error}")
        return {"seconds": seconds, "objects": job.objects_done, "counts": job.counts, "peak_mb": _peak_mb()}

    return asyncio.run(run())


def _in_child(mode: str, path: Path, url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--file", str(path), "--database-url", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,100000", help="variants per run, comma-separated")
    parser.add_argument("--locations", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--child", choices=["parse", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "parse":
        print(json.dumps(_child_parse(Path(args.file))))
        return
    if args.child == "import":
        print(json.dumps(_child_import(Path(args.file), args.database_url)))
        return

    from shopify.sample_export import write_export

    target = parse_url(args.database_url)
    results = []
    with tempfile.TemporaryDirectory(prefix="branchline-bench-import-") as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"export-{size}.jsonl"
            lines = write_export(path, size, args.locations, customers=size // 10)
            log(f"{size:,} variants: {lines:,} lines, {path.stat().st_size / 1e6:.0f} MB; parsing")
            parse = _in_child("parse", path, args.database_url)
            asyncio.run(recreate_database(target))
            log("importing")
            imported = _in_child("import", path, args.database_url)
            results.append(
                {
                    "variants": size,
                    "locations": args.locations,
                    "lines": lines,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "import_seconds": round(imported["seconds"], 2),
                    "import_lines_per_s": round(lines / imported["seconds"]),
                    "import_peak_mb": imported["peak_mb"],
                    "parse_only_seconds": round(parse["seconds"], 2),
                    "parse_only_lines_per_s": round(lines / parse["seconds"]),
                    "parse_only_peak_mb": parse["peak_mb"],
                    "import_vs_parse_time": round(imported["seconds"] / parse["seconds"], 1),
                    "counts": imported["counts"],
                }
            )
            log(json.dumps(results[-1]))
    print(json.dumps({"benchmark": "import", "database": "postgresql", "runs": results}))


if __name__ == "__main__":
    main()
