"""`branchline` command line: serve, migrate, check."""

import argparse
import asyncio
import logging
import sys

from server.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    settings = get_settings()
    if args.demo:
        from server.demo import demo_credentials

        # The demo is for looking around: GraphiQL on, introspection on.
        settings = settings.model_copy(update={"debug": True, "retailer_name": "Zari & Co."})
        print(demo_credentials())
    app = create_app(settings, demo=args.demo)
    print(f"Branchline on http://{args.host}:{args.port}/graphql  (database: {settings.database_url.split('?')[0]})")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws="websockets-sansio")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from models.database import apply_migrations

    asyncio.run(apply_migrations(get_settings().database_url))
    print("database is up to date")
    return 0


def _check(args: argparse.Namespace) -> int:
    from models.database import open_database
    from operations.stock import check_ledger

    async def run():
        async with open_database(get_settings().database_url):
            return await check_ledger()

    differences, sequence_problems = asyncio.run(run())
    for d in differences:
        print(f"branch {d.branch_id} variant {d.variant_id} {d.bucket}: level {d.level}, ledger says {d.ledger}")
    for s in sequence_problems:
        print(
            f"branch {s.branch_id}: sequence counter {s.last_sequence}, {s.movements} movements,"
            f" highest sequence {s.highest_sequence}"
        )
    if differences or sequence_problems:
        print(f"ledger check FAILED: {len(differences)} level differences, {len(sequence_problems)} sequence problems")
        return 1
    print("ledger check passed: every level equals the sum of its movements; sequences are gap-free")
    return 0


def _create_owner(args: argparse.Namespace) -> int:
    import getpass

    from models.database import open_database
    from operations.errors import OperationError
    from operations.staff import create_first_owner

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

    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("check", help="recompute every stock level from the ledger").set_defaults(run=_check)

    args = parser.parse_args(argv)
    from operations.keys import use_secret

    use_secret(get_settings().secret_key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
