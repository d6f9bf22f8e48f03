"""Does the bare app still run orchestrator's statements? (``bench.py same-sql``)

The bare endpoints of ``bare_board.py`` hold the statements as text; orchestrator builds them
with SQLAlchemy Core and may change them. This compiles orchestrator's statements for asyncpg,
drops what only SQLAlchemy writes (``$1::UUID`` casts, the column's own ``COLLATE "C"``, the
``max_1`` label) and compares: a difference is printed as a warning, so a ratio is never read
against a bare endpoint that does other work.
"""

from __future__ import annotations

import re
from typing import Any

import bare_board

_CAST = re.compile(r"::(?:TIMESTAMP WITH TIME ZONE|[A-Z]+(?:\[\])?)")
_NOISE = (' COLLATE "C"', " AS max_1")


def normalized(sql: str) -> str:
    sql = _CAST.sub("", " ".join(sql.split()))
    for noise in _NOISE:
        sql = sql.replace(noise, "")
    return sql.replace("( ", "(").replace(" )", ")")


def _orchestrator_statements() -> dict[str, Any]:
    from orchestrator.adapters.postgres import board, tasks
    from orchestrator.adapters.postgres.tables import task_activity
    from shared.messaging.outbox_schema import outbox

    outbox_keys = ["event_id", "subject", "event_type", "source", "occurred_at", "subject_id"]
    return {
        "BOARD": (board._BOARD, None),
        "TASK_FOR_UPDATE": (tasks._GET_FOR_UPDATE, None),
        "LAST_KEY": (tasks._LAST, None),
        "UPDATE": (tasks._UPDATE, None),
        "INSERT_ACTIVITY": (task_activity.insert(), None),
        "INSERT_OUTBOX": (outbox.insert(), [*outbox_keys, "traceparent", "payload"]),
    }


def differences() -> list[str]:
    """One line per bare statement that is not orchestrator's (empty: all the same)."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    dialect = PGDialect_asyncpg(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
    try:
        statements = _orchestrator_statements()
    except (ImportError, AttributeError) as exc:  # renamed or moved in orchestrator
        return [f"cannot find orchestrator's statements to compare ({exc})"]
    found = []
    for name, (statement, keys) in statements.items():
        theirs = normalized(str(statement.compile(dialect=dialect, column_keys=keys)))
        ours = normalized(getattr(bare_board, name))
        if theirs != ours:
            found.append(
                f"bare_board.{name} is not orchestrator's statement:\n    bare: {ours}\n    orch: {theirs}"
            )
    return found
