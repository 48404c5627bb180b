"""The server secret: a real server refuses to start without one of its own, and rotating it keeps
stored secrets and PINs readable until they are renewed. Also pins the production password hashing."""

import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from models.staff import Role, Staff
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import NewStaff, counter_login, create_staff
from operations.kernel import keys, passwords, secrets
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.settings import SecretKeys
from server.settings import Settings
from tests.conftest import TEST_SECRET_KEY, settings_changed
from tests.e2e.conftest import ROOT, free_port
from tests.factories import make_branch


def run_cli(command: str, secret: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BRANCHLINE_SECRET_KEY"}
    if secret is not None:
        env["BRANCHLINE_SECRET_KEY"] = secret
    env["BRANCHLINE_DATABASE_URL"] = "sqlite://:memory:"
    return subprocess.run(
        [sys.executable, "-m", "server.cli", command, *(["--port", str(free_port())] if command == "serve" else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret", [None, "", keys.DEVELOPMENT_SECRET, "short-secret"])
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_a_missing_short_or_development_secret(command, secret):
    done = run_cli(command, secret)
    assert done.returncode == 2, done.stderr
    assert "refusing to start" in done.stderr and "branchline generate-secret" in done.stderr


def test_generate_secret_makes_one_serve_accepts():
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "generate-secret"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    secret = made.stdout.strip()
    assert made.returncode == 0 and keys.secret_problem(secret) is None and len(secret) >= 48


async def test_a_rotated_secret_still_reads_old_secrets_and_pins_until_renewed(db):
    branch = await make_branch("LHR")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    await create_staff(SYSTEM, NewStaff("c@rot.pk", "Cashier", Role.CASHIER, None, "4826", [branch.id]))
    stored = secrets.encrypt("shpat_old_token")
    old_digest = (await Staff.get(email="c@rot.pk")).pin_digest
    new_secret = keys.generate_secret()
    with settings_changed(keys=SecretKeys(new_secret, (TEST_SECRET_KEY,))):
        with pytest.raises(OperationError) as taken:  # the PIN is still the cashier's under the old key
            await create_staff(SYSTEM, NewStaff("d@rot.pk", "Other", Role.CASHIER, None, "4826", [branch.id]))
        assert taken.value.problems[0].code == ErrorCode.DUPLICATE
        assert secrets.decrypt(stored) == "shpat_old_token"
        renewed = secrets.reencrypt(stored)
        assert (await counter_login(counter.id, "4826")).staff.email == "c@rot.pk"
        assert (await Staff.get(email="c@rot.pk")).pin_digest not in (old_digest, None)  # digested anew
    with settings_changed(keys=SecretKeys(new_secret)):  # the old key retired
        assert secrets.decrypt(renewed) == "shpat_old_token"
        with pytest.raises(secrets.SecretUnreadable):
            secrets.decrypt(stored)
        assert (await counter_login(counter.id, "4826")).staff.email == "c@rot.pk"


def test_production_password_hashing_parameters_are_pinned():
    """Tests hash cheaply (tests/conftest.py); production keeps argon2id at RFC 9106's second option."""
    defaults = {name: Settings.model_fields[f"argon2_{name}"].default for name in ("time_cost", "parallelism")}
    defaults["memory_cost"] = Settings.model_fields["argon2_memory_kib"].default
    assert defaults == passwords.PRODUCTION == {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    made = PasswordHasher(**passwords.PRODUCTION).hash("x")
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
