"""`branchline check` proves every level equals the sum of its movements, and says so when not."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tortoise import Tortoise

from tests.factories import deduct, make_branch, make_variants, stock

ROOT = Path(__file__).resolve().parents[2]


def branchline(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BRANCHLINE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


async def test_check_passes_on_a_consistent_ledger_and_reports_a_tampered_level(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 5)
    await deduct([(branch.id, v.id, 2)])

    ok = branchline(db, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ledger check passed" in ok.stdout

    # Someone "fixes" stock by hand in the database, bypassing the ledger.
    await Tortoise.get_connection("default").execute_script("UPDATE stock_level SET on_hand = 7")
    bad = branchline(db, "check")
    assert bad.returncode == 1
    assert f"branch {branch.id} variant {v.id} on_hand: level 7, ledger says 3" in bad.stdout


def test_migrate_is_repeatable(database_url):
    for _ in range(2):
        result = branchline(database_url, "migrate")
        assert result.returncode == 0, result.stderr


async def test_create_owner_only_on_a_fresh_install(db):
    first = branchline(db, "create-owner", "--email", "Owner@Shop.pk", "--password", "a long password")
    assert first.returncode == 0, first.stderr
    from operations.directory.staff import login

    assert (await login("owner@shop.pk", "a long password")).staff.role.value == "owner"
    again = branchline(db, "create-owner", "--email", "other@shop.pk", "--password", "a long password")
    assert again.returncode == 1 and "an owner already exists" in again.stderr
    short = branchline(db, "create-owner", "--email", "x@shop.pk", "--password", "short")
    assert short.returncode == 1


async def test_import_file_shows_progress_and_a_summary_and_refuses_a_bad_file(db, tmp_path):
    from shopify.sample_export import write_export

    export = tmp_path / "export.jsonl"
    write_export(export, 8, 2, customers=3, shuffle=True)
    done = await asyncio.to_thread(branchline, db, "import", "--file", str(export))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "variants: 8 created" in done.stdout
    assert "completed: 29 objects" in done.stdout  # 2 locations + 8 variants + 16 levels + 3 customers
    assert "inventory" in done.stderr and "[" in done.stderr  # the progress bar

    export.write_text('{"id": "gid://shopify/ProductVariant/1"\n')
    bad = await asyncio.to_thread(branchline, db, "import", "--file", str(export))
    assert bad.returncode == 1
    assert "MALFORMED_FILE" in bad.stderr and "line 1" in bad.stderr
