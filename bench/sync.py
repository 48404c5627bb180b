"""Benchmark: a burst of in-store sales pushed to Shopify by the outbox worker, against the simulator.

    python bench/sync.py [--sales 2000] [--skus 200] [--counters 10] [--interval 0.5]
                         [--database-url postgres://…/branchline_bench_sync]

One branch (a Shopify location) with `--skus` variants imported from the simulated Shopify (served in this
process over real HTTP on a free port). `--counters` concurrent tills each ring up their share of `--sales`
single-unit sales (one ledger posting each, the stock effect of a checkout: on hand −1, an outbox row) on SKUs
drawn from a seeded RNG, while the push worker (`server/workers.push_loop`) runs beside them as it does in the
server. When the last sale commits, the clock starts; it stops when Shopify's `available` equals Branchline's
on hand for every SKU.

Prints ONE JSON line on stdout (progress on stderr): sales, burst seconds and sales/s, Shopify API calls made
(every request the simulator answered after the import), calls per 20 sales, seconds from the end of the burst
until Shopify agrees, and the simulator's throttled calls. Targets (issue #5): at most 1 call per 20 sales,
agreement within 5 s, no throttled call. SQLite in a temporary directory by default; a PostgreSQL
`--database-url` is dropped and re-created, so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import log, parse_url, recreate_database  # noqa: E402

INITIAL_STOCK = 1000


def _build_shop(skus: int):
    from shopify.simulator import SimShop

    shop = SimShop(bulk_start_delay=0.01)
    # Nobody listens for inventory webhooks here; firing one per change would only load this process.
    shop.config.inventory_webhooks = False
    location = shop.add_location("Lahore Gulberg", city="Lahore", country="PK")
    per_product = 10
    for p in range(0, skus, per_product):
        variants = [
            {"sku": f"BENCH-{i:04d}", "price": "1500.00", "options": {"Size": f"S{i}"}, "tracked": True}
            for i in range(p, min(p + per_product, skus))
        ]
        product = shop.add_product(f"Bench product {p // per_product}", variants=variants)
        for variant_id in product.variant_ids:
            shop.stock(shop.variants[variant_id], location, available=INITIAL_STOCK)
    return shop


async def _run(args: argparse.Namespace, database_url: str) -> dict:
    from models.branches import Branch
    from models.catalog import Variant
    from models.database import open_database
    from models.stock import StockLevel
    from operations.kernel import (
        SYSTEM,
        ShopifySettings,
        current_settings,
        install_settings,
        transaction,
    )
    from operations.stock import Movement, Posting, apply_to_ledger
    from operations.sync import (
        close_clients,
        connect_shopify,
        run_job,
        start_import,
    )
    from server.workers import push_loop
    from shopify.simulator import serve_simulator

    shop = _build_shop(args.skus)
    async with serve_simulator(shop) as url, open_database(database_url):
        install_settings(
            current_settings().changed(shopify=ShopifySettings(public_url="http://127.0.0.1:9", base_url=url))
        )
        await connect_shopify(SYSTEM, shop.domain, shop.access_token, shop.client_secret)
        job, _ = await start_import(SYSTEM)
        job = await run_job(job.id)
        if job.status.value != "completed":
            raise SystemExit(f"import failed: {job.error}")
        branch = await Branch.get(shopify_location_id__isnull=False)
        variants = await Variant.filter(shopify_inventory_item_id__isnull=False).order_by("id")
        log(f"imported {len(variants)} SKUs at {branch.code}; burst of {args.sales} sales from {args.counters} tills")

        calls_before = len(shop.calls)
        throttled_before = shop.throttled_calls
        rng = random.Random(7)
        picks = [rng.choice(variants).id for _ in range(args.sales)]
        worker = asyncio.create_task(push_loop(args.interval))

        async def till(n: int) -> None:
            for i in range(n, args.sales, args.counters):
                async with transaction() as tx:
                    await apply_to_ledger(
                        tx,
                        Posting(f"bench-sale:{i}", "sale", reference_type="sale", reference_id=str(i)),
                        [Movement(branch.id, picks[i], -1)],
                    )

        started = time.perf_counter()
        await asyncio.gather(*(till(n) for n in range(args.counters)))
        burst_ended = time.perf_counter()
        log(f"burst done in {burst_ended - started:.2f}s; waiting for Shopify to agree")

        item_of = {v.id: v.shopify_inventory_item_id for v in variants}
        wanted = {item_of[lv.variant_id]: lv.on_hand for lv in await StockLevel.filter(branch_id=branch.id)}
        agreed_at = None
        while time.perf_counter() - burst_ended < args.give_up:
            if all(shop.quantities(item, branch.shopify_location_id)["available"] == q for item, q in wanted.items()):
                agreed_at = time.perf_counter()
                break
            await asyncio.sleep(0.01)
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass
        await close_clients()
        calls = len(shop.calls) - calls_before
        return {
            "bench": "sync",
            "database": "postgres" if database_url.startswith("postgres") else "sqlite",
            "sales": args.sales,
            "skus": args.skus,
            "tills": args.counters,
            "push_interval_s": args.interval,
            "burst_s": round(burst_ended - started, 3),
            "sales_per_s": round(args.sales / (burst_ended - started), 1),
            "shopify_calls": calls,
            "calls_per_20_sales": round(calls / (args.sales / 20), 3),
            "agree_after_burst_s": round(agreed_at - burst_ended, 3) if agreed_at else None,
            "throttled_calls": shop.throttled_calls - throttled_before,
            "target_calls_per_20_sales": 1,
            "target_agree_s": 5,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--counters", type=int, default=10, help="concurrent tills")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between push rounds")
    parser.add_argument("--give-up", type=float, default=60.0, help="seconds to wait for agreement")
    parser.add_argument("--database-url", help="a PostgreSQL database to drop and re-create (name contains 'bench')")
    args = parser.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.WARNING)
    from operations.kernel import (
        DomainSettings,
        SecretKeys,
        install_settings,
    )

    install_settings(DomainSettings(keys=SecretKeys("bench-only-secret")))
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            asyncio.run(recreate_database(parse_url(args.database_url)))
            url = args.database_url
        else:
            url = f"sqlite://{tmp}/bench.sqlite3?busy_timeout=15000"
        result = asyncio.run(_run(args, url))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
