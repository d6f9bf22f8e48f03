"""Every import-linter contract in pyproject.toml can fail: a planted breach breaks it.

The source trees are copied to a temporary directory that comes first on the path, a
module breaking one contract is planted in the copy, and ``lint-imports`` runs that
contract alone on it. The same contract is kept on the unplanted copy, so the planted
module, nothing else, is what breaks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "shared": ROOT / "shared/src/shared",
    "aiorch_devkit": ROOT / "shared/devkit/src/aiorch_devkit",
    "identity": ROOT / "services/identity/src/identity",
    "chat": ROOT / "services/chat/src/chat",
    "orchestrator": ROOT / "services/orchestrator/src/orchestrator",
}
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# contract id -> {path of a planted module, relative to the copied sources: its code}
BREACHES: dict[str, dict[str, str]] = {
    "shared-layers": {"shared/db/planted.py": "import shared.http.app\n"},
    "shared-acyclic": {
        "shared/auth/planted/__init__.py": "",
        "shared/auth/planted/one.py": "from shared.auth.planted import two\n",
        "shared/auth/planted/two.py": "from shared.auth.planted import one\n",
    },
    "pure-core": {"shared/kernel/planted.py": "import sqlalchemy\n"},
    "no-harness-at-runtime": {"shared/http/planted.py": "import aiorch_devkit.testing.fakes\n"},
    "service-layers": {"chat/adapters/planted.py": "import chat.entrypoints.http\n"},
    "application-pure": {"orchestrator/application/planted.py": "import shared.db.engine\n"},
    "domain-pure": {"identity/domain/planted.py": "import msgspec\n"},
    "services-independent": {"chat/domain/planted.py": "import orchestrator.domain\n"},
    "shared-imports-no-service": {"shared/kernel/planted.py": "import identity.domain\n"},
}


def contract_ids() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [contract["id"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_every_contract_has_a_planted_breach():
    assert sorted(BREACHES) == sorted(contract_ids())


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("contracts")
    for name, package in PACKAGES.items():
        shutil.copytree(package, copy / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint(sources: Path, contract: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(sources / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=sources,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("contract", sorted(BREACHES))
def test_a_planted_breach_breaks_the_contract(sources, contract):
    kept = lint(sources, contract)
    assert kept.returncode == 0, f"{contract} is broken before anything was planted:\n{kept.stdout}"

    planted = [sources / "src" / path for path in BREACHES[contract]]
    try:
        for path, code in zip(planted, BREACHES[contract].values(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
        broken = lint(sources, contract)
    finally:
        for path in planted:
            path.unlink()

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout
    assert "planted" in broken.stdout  # the report names the planted module
