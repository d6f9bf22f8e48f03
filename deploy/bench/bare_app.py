"""The bare endpoint ``make bench`` compares identity's ``GET /api/v1/users/me`` with.

The same primary-key SELECT of a user row, with nothing around it: Litestar, a msgspec
response, a raw asyncpg pool with the release-time reset disabled, uvicorn with uvloop
and httptools. It is the ceiling of DESIGN.md's performance budget ("raw asyncpg pool,
pool reset disabled"), measured against the same database, as identity's own role.

    BARE_DSN=postgresql://identity:...@127.0.0.1:PORT/postgres BARE_PORT=PORT \\
        .venv/bin/python deploy/bench/bare_app.py

``GET /bare/users/{id}`` answers the row as JSON (404 if there is none). With
``BARE_ORCHESTRATOR_DSN`` (orchestrator's role) it also serves the board read and the task move
of ``bare_board.py``. Settings: ``BARE_DSN`` (required), ``BARE_PORT`` (required),
``BARE_ORCHESTRATOR_DSN``, ``BARE_WORKERS`` (2), ``BARE_POOL_SIZE`` (connections per worker and
pool, 32). It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg
import bare_board
import msgspec
from bare_serving import serve
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

# The columns identity's UserResponse is built from (migration 0002's identity.users),
# looked up by primary key: one statement, one round trip, no transaction.
QUERY = (
    "SELECT id, email, name, role, is_active, email_verified_at IS NOT NULL,"
    " password_hash IS NOT NULL, created_at, updated_at FROM identity.users WHERE id = $1"
)


class User(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    name: str | None
    role: str
    is_active: bool
    email_verified: bool
    has_password: bool
    created_at: datetime
    updated_at: datetime


class _Db:
    pool: asyncpg.Pool | None = None


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's release-time ``Connection.reset()`` (a round trip per release).

    With a custom ``reset`` asyncpg 0.30+ still rolls back a transaction left open,
    then calls this instead of running its reset query.
    """


@asynccontextmanager
async def _pool(_: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("BARE_POOL_SIZE", "32"))
    _Db.pool = await asyncpg.create_pool(
        os.environ["BARE_DSN"], min_size=size, max_size=size, reset=_no_reset
    )
    if orchestrator := os.environ.get("BARE_ORCHESTRATOR_DSN"):
        # unqualified names resolve in orchestrator's schema, as on the service's own engine
        bare_board.Pools.orchestrator = await asyncpg.create_pool(
            orchestrator,
            min_size=size,
            max_size=size,
            reset=_no_reset,
            server_settings={"search_path": "orchestrator"},
        )
    try:
        yield
    finally:
        await _Db.pool.close()
        if bare_board.Pools.orchestrator is not None:
            await bare_board.Pools.orchestrator.close()


@get("/bare/users/{user_id:uuid}")
async def user(user_id: UUID) -> User:
    assert _Db.pool is not None
    row = await _Db.pool.fetchrow(QUERY, user_id)
    if row is None:
        raise NotFoundException()
    return User(*row)


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[user, bare_board.board, bare_board.move], lifespan=[_pool], openapi_config=None
    )


def main() -> None:
    serve("bare_app:create_app", required=("BARE_DSN", "BARE_PORT"), default_workers=2)


if __name__ == "__main__":
    main()
