"""`branchline` command line: serve, migrate, check, import, create-owner, shopify-sim."""

import argparse
import asyncio
import logging
import os
import sys

from operations.kernel import install_settings
from server.security import refusal_to_start
from server.settings import domain_settings, get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = get_settings()
    if "BRANCHLINE_PUBLIC_URL" not in os.environ:  # Shopify's webhooks come back to where we listen
        settings = settings.model_copy(update={"public_url": f"http://{args.host}:{args.port}"})
    if not args.demo and (refusal := refusal_to_start(settings)):
        print(refusal, file=sys.stderr)
        return 2
    if args.demo:
        from server.demo import demo_credentials

        # The demo is for looking around: GraphiQL on, introspection on.
        settings = settings.model_copy(update={"debug": True, "retailer_name": "Zari & Co."})
        print(demo_credentials())
    app = create_app(settings, demo=args.demo)
    print(f"Branchline on http://{args.host}:{args.port}/graphql  (database: {settings.database_url.split('?')[0]})")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # uvicorn's websockets-sansio with a bound on what a socket may owe a peer that stops reading.
        ws="server.websocket_protocol:BoundedWebSocketProtocol",
        ws_max_size=settings.max_request_bytes,  # a larger message closes the socket with 1009
        # X-Forwarded-For names the client only from these proxies: the wrong-password limits count it.
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )
    return 0


def _generate_secret(args: argparse.Namespace) -> int:
    from operations.kernel import generate_secret

    print(generate_secret())
    return 0


def _reencrypt_secrets(args: argparse.Namespace) -> int:
    from models.database import open_database
    from operations.kernel import SecretUnreadable
    from operations.sync import reencrypt_stored_secrets

    async def run():
        async with open_database(get_settings().database_url):
            return await reencrypt_stored_secrets()

    try:
        rewritten = asyncio.run(run())
    except SecretUnreadable as error:
        print(f"not re-encrypted: {error}", file=sys.stderr)
        return 1
    print(f"{rewritten} Shopify connection(s) re-encrypted; previous secret keys are no longer needed for them")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from models.database import apply_migrations

    asyncio.run(apply_migrations(get_settings().database_url))
    print("database is up to date")
    return 0


def _check(args: argparse.Namespace) -> int:
    from models.database import open_database
    from operations.directory import check_loyalty
    from operations.stock import check_ledger

    async def run():
        async with open_database(get_settings().database_url):
            return await check_ledger(), await check_loyalty()

    (differences, sequence_problems), wallets = asyncio.run(run())
    for d in differences:
        print(f"branch {d.branch_id} variant {d.variant_id} {d.bucket}: level {d.level}, ledger says {d.ledger}")
    for s in sequence_problems:
        print(
            f"branch {s.branch_id}: sequence counter {s.last_sequence}, {s.movements} movements,"
            f" highest sequence {s.highest_sequence}"
        )
    for w in wallets:
        print(f"customer {w.customer_id}: loyalty balance {w.balance}, entries add up to {w.ledger}")
    if differences or sequence_problems or wallets:
        print(
            f"ledger check FAILED: {len(differences)} level differences, {len(sequence_problems)} sequence problems,"
            f" {len(wallets)} loyalty wallet differences"
        )
        return 1
    print(
        "ledger check passed: every level equals the sum of its movements; sequences are gap-free;"
        " every loyalty balance equals the sum of its entries"
    )
    return 0


def _create_owner(args: argparse.Namespace) -> int:
    import getpass

    from models.database import open_database
    from operations.directory import create_first_owner
    from operations.kernel import OperationError

    password = args.password or getpass.getpass("Password for the owner: ")

    async def run():
        async with open_database(get_settings().database_url):
            return await create_first_owner(args.email, args.name, password)

    try:
        owner = asyncio.run(run())
    except OperationError as error:
        print(f"not created: {error}", file=sys.stderr)
        return 1
    print(f"owner {owner.email} created; sign in with the login mutation")
    return 0


class _ProgressBar:
    """One line redrawn in place: phase, a bar, objects done and the rate."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream = stream
        self.width = width

    def __call__(self, job) -> None:
        total = job.objects_total or 0
        done = job.objects_done
        filled = int(self.width * min(done / total, 1)) if total else 0
        bar = "#" * filled + "-" * (self.width - filled)
        of = f"/{total:,}" if total else ""
        self.stream.write(f"\r{job.phase:<12} [{bar}] {done:,}{of} objects  {job.rate:,.0f}/s ")
        self.stream.flush()


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from models.database import open_database
    from models.shopify import ImportStatus
    from operations.kernel import SYSTEM, OperationError
    from operations.sync import run_job, start_import

    settings = get_settings()
    files = [Path(f) for f in args.file] if args.file else None
    for f in files or []:
        if not f.is_file():
            print(f"no such file: {f}", file=sys.stderr)
            return 2

    async def run():
        async with open_database(settings.database_url):
            job, _ = await start_import(
                SYSTEM, source="file" if files else "shopify", create_branches=not args.no_create_branches
            )
            return await run_job(job.id, files, on_progress=_ProgressBar())

    try:
        job = asyncio.run(run())
    except OperationError as error:
        print(f"import not started: {error}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    for kind, outcomes in sorted((job.counts or {}).items()):
        print(f"  {kind}: " + ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(outcomes.items())))
    for warning in job.warnings or []:
        print(f"  warning: {warning['message']}")
    if job.status != ImportStatus.COMPLETED:
        print(f"import {job.id} FAILED ({job.error_code}): {job.error}", file=sys.stderr)
        return 1
    print(f"import {job.id} completed: {job.objects_done:,} objects")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """The background workers without HTTP: for scaling out beside `serve` processes."""
    import signal

    from models.database import open_database
    from server import workers
    from subscriptions import live
    from subscriptions.bus import Bus

    settings = get_settings()
    if refusal := refusal_to_start(settings):
        print(refusal, file=sys.stderr)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with open_database(settings.database_url):
            bus = Bus(settings.broadcast_url, queue_size=settings.subscriber_queue_size)
            await bus.connect()  # syncStatusChanged reaches the servers' subscribers through it
            live.install(bus)
            try:
                async with workers.running(settings):
                    print(f"Branchline worker running (database: {settings.database_url.split('?')[0]})")
                    await stop.wait()
            finally:
                live.install(None)
                await bus.disconnect()

    asyncio.run(run())
    print("worker stopped")
    return 0


def _shopify_sim(args: argparse.Namespace) -> int:
    from shopify.simulator import cli_main

    return cli_main(port=args.port, host=args.host, seed_file=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="branchline", description="Branchline point-of-sale backend")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--demo", action="store_true", help="seed a demo retailer on first start; GraphiQL on")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)

    owner = commands.add_parser("create-owner", help="create the first owner of a fresh install")
    owner.add_argument("--email", required=True)
    owner.add_argument("--name", default="Owner")
    owner.add_argument("--password", help="asked for when left out (keeps it out of shell history)")
    owner.set_defaults(run=_create_owner)

    importing = commands.add_parser("import", help="import the catalog from Shopify, or from a bulk-export file")
    importing.add_argument("--file", action="append", help="a Shopify bulk-export JSONL file (repeatable)")
    importing.add_argument(
        "--no-create-branches",
        action="store_true",
        help="refuse stock at Shopify locations not yet mapped to a branch instead of creating branches",
    )
    importing.set_defaults(run=_import)

    sim = commands.add_parser("shopify-sim", help="run the local Shopify simulator (development and tests)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8100)
    sim.add_argument("--seed", help="a shop saved as JSON to start from (default: the demo shop)")
    sim.set_defaults(run=_shopify_sim)

    worker_help = "run the background workers (Shopify pushes and order actions, webhooks, orders poll, drift checks)"
    commands.add_parser("worker", help=worker_help).set_defaults(run=_worker)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("generate-secret", help="print a new random BRANCHLINE_SECRET_KEY").set_defaults(
        run=_generate_secret
    )
    reencrypt_help = "after a secret key rotation: rewrite stored secrets under the current BRANCHLINE_SECRET_KEY"
    commands.add_parser("reencrypt-secrets", help=reencrypt_help).set_defaults(run=_reencrypt_secrets)
    commands.add_parser("check", help="recompute every stock level and loyalty balance from its ledger").set_defaults(
        run=_check
    )

    args = parser.parse_args(argv)
    if args.run is not _serve:  # commands without an app; `serve`'s app installs its own (server/app.py)
        install_settings(domain_settings(get_settings()))
    # Process-wide, before any handler exists: uvicorn's own loggers (configured when it starts) get it too.
    from server import log_redaction

    log_redaction.install()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per Shopify call is noise at INFO; our client logs what matters (never the token).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
