"""Migrations are frozen history: no revision (nor the shared DDL they call) imports a live table
definition, so changing a table in the code can never rewrite what an old revision did."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
REVISIONS = sorted(ROOT.glob("services/*/migrations/versions/*.py"))
SHARED_DDL = ROOT / "shared/src/shared/db/migration_ops.py"
SERVICES = ("identity", "chat", "orchestrator")
# Live code: the tables as they are now (and anything that may grow to hold them).
REFUSED_PREFIXES = ("shared.messaging", "shared.erasure", *SERVICES)


def imported_modules(source: str) -> set[str]:
    """Every module a source names in an import, ``from`` import (each name may be a module) or
    ``import_module("...")`` call."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def live_imports(source: str) -> set[str]:
    """The imports that reach live table definitions (or live service code)."""
    return {
        name
        for name in imported_modules(source)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in REFUSED_PREFIXES)
        or any(part == "tables" or part.endswith("_tables") for part in name.split("."))
    }


def test_every_services_revisions_are_checked():
    assert {path.parents[2].name for path in REVISIONS} == set(SERVICES)


@pytest.mark.parametrize("path", [*REVISIONS, SHARED_DDL], ids=lambda p: str(p.relative_to(ROOT)))
def test_a_revision_imports_no_live_table_definition(path):
    assert live_imports(path.read_text()) == set()


@pytest.mark.parametrize(
    "breach",
    [
        "from shared.messaging.outbox_schema import create_outbox_and_inbox",
        "from shared.messaging import outbox_schema",
        "import shared.erasure.tables",
        "from shared.erasure import tables",
        "from shared.erasure.tables import erasures",
        "from chat.adapters.postgres.tables import metadata",
        "from identity.adapters.postgres import tables",
        "import importlib\nimportlib.import_module('orchestrator.adapters.postgres.tables')",
        "from identity.domain.users import ROLES",
        "from shared.db.tables import outbox",
    ],
)
def test_a_planted_import_of_a_live_table_is_refused(breach):
    assert live_imports(breach) != set()


def test_the_frozen_helpers_and_alembic_are_allowed():
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\nfrom sqlalchemy.dialects.postgresql import UUID\n"
        "from shared.db.migration_ops import create_messaging_tables_v1\n"
        "from shared.db.migrations import migration_schema\n"
    )

    assert live_imports(source) == set()
