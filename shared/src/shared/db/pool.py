"""A raw asyncpg pool for hot read paths, and SQLAlchemy Core statements compiled once for it.

DESIGN.md's performance budget: a simple read is one round trip. SQLAlchemy's pool
resets a connection on every release (a ROLLBACK round trip) and its ``QueuePool``
closes the overflow connections a burst opened, so under load it keeps connecting
anew. A read that needs no transaction can instead take a connection of this pool:
nothing is run on release, and the pool keeps up to ``size`` connections open.

Only for lone statements outside any transaction: the unit of work keeps the writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.compiler import SQLCompiler

from shared.db.engine import asyncpg_dsn

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]

_LOST_MID_STATEMENT = (asyncpg.ConnectionDoesNotExistError, asyncpg.AdminShutdownError)
"""The connection died under the statement (the server restarting as it ran, or it had closed
the connection an instant before, unseen yet). The pool drops such a connection, so a read is
tried once more on another; a database still away then fails as an outage."""


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's release-time ``Connection.reset()``, a round trip per release.

    The connections of a read pool change no session state (no ``SET``, ``LISTEN`` or
    advisory locks); and asyncpg still rolls back a transaction left open before calling
    this, so nothing leaks from one use to the next.
    """


async def open_read_pool(
    url: str,
    *,
    schema: str,
    application_name: str,
    size: int,
) -> asyncpg.Pool:
    """A pool of up to ``size`` connections as the service's own role, ``search_path`` pinned to
    ``schema``, opened as demand grows and kept while used (idle ones close after 5 minutes).

    Nothing connects here: a service starts (and reports itself not ready) while the database
    is away. ``size`` should cover the requests a process serves at once: a request finding
    every connection busy waits for one rather than opening more.
    """
    pool: asyncpg.Pool = await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=0,
        max_size=size,
        reset=_no_reset,
        max_inactive_connection_lifetime=300.0,
        server_settings={"search_path": schema, "application_name": application_name},
    )
    return pool


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A SQLAlchemy Core statement compiled once to asyncpg's SQL (``$1, $2...``).

    asyncpg prepares it once per connection and reuses the plan: the per-call cost is the
    round trip alone. Results are asyncpg ``Record``s (``record["column"]``).
    """

    sql: str
    names: tuple[str, ...]
    """The bind parameters' names, in the order of ``$1, $2...``."""

    @classmethod
    def of(cls, statement: sa.ClauseElement) -> CompiledQuery:
        compiled = statement.compile(dialect=_DIALECT)
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise ValueError("the statement did not compile to positional parameters")
        return cls(compiled.string, tuple(compiled.positiontup))

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """``values`` in the statement's positional order; a missing name raises ``KeyError``."""
        return [values[name] for name in self.names]

    async def fetchrow(self, pool: asyncpg.Pool, **values: Any) -> asyncpg.Record | None:
        args = self.args(values)
        try:
            return await pool.fetchrow(self.sql, *args)
        except _LOST_MID_STATEMENT:
            return await pool.fetchrow(self.sql, *args)  # a read: once more, on a fresh connection

    async def fetch(self, pool: asyncpg.Pool, **values: Any) -> list[asyncpg.Record]:
        args = self.args(values)
        try:
            records: list[asyncpg.Record] = await pool.fetch(self.sql, *args)
        except _LOST_MID_STATEMENT:
            records = await pool.fetch(self.sql, *args)
        return records
