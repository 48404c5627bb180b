"""docs/partners.md's examples type-check against the generated client (mypy --strict), and the check bites:
the same examples with one field misspelt fail it. A partner's type checker would say the same."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in the test extras: pip install -e '.[test]'")
client = pytest.importorskip(
    "branchline_client", reason="the partner client is not installed: pip install -e ./client_sdk"
)

ROOT = Path(__file__).resolve().parents[2]


def examples() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "partners.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    return "\n\n".join(blocks)


def mypy(source: str, where: Path) -> subprocess.CompletedProcess:
    module = where / "partner_examples.py"
    module.write_text(source, encoding="utf-8")
    env = dict(os.environ)
    installed_at = Path(client.__file__).parents[1]
    if "site-packages" not in installed_at.parts:  # an editable install: mypy cannot follow its import hook
        env["MYPYPATH"] = str(installed_at)
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-color-output"]
    return subprocess.run(
        [*command, "--cache-dir", str(where / ".cache"), str(module)],
        capture_output=True,
        text=True,
        cwd=where,
        env=env,
    )


def test_the_partner_examples_type_check_and_a_misspelt_field_does_not(tmp_path):
    checked = mypy(examples(), tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    misspelt = examples().replace("level.on_hand", "level.on_hnad", 1)
    assert misspelt != examples()
    refused = mypy(misspelt, tmp_path)
    assert refused.returncode == 1
    assert 'has no attribute "on_hnad"' in refused.stdout
