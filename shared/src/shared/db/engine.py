"""Async SQLAlchemy engines for a service's own schema.

A service connects as its own role, and ``search_path`` is pinned to its schema
so unqualified table names resolve there and nowhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def sqlalchemy_url(url: str) -> str:
    """Any PostgreSQL URL (``postgres://``, ``postgresql://``) as the asyncpg dialect's."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """The same URL in the plain libpq form asyncpg and psql accept."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    schema: str,
    application_name: str,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        # An error's message must not carry the statement's values (an email, a token hash):
        # it reaches the logs.
        hide_parameters=True,
        connect_args={
            "server_settings": {"search_path": schema, "application_name": application_name},
            # statements are prepared per connection by asyncpg; keep the cache modest
            "prepared_statement_cache_size": 256,
        },
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, a failover) is replaced at checkout.

    asyncpg learns of the server's goodbye as soon as the event loop reads it, so this costs no
    round trip, unlike ``pool_pre_ping``; the pool discards the connection and checks out
    another (or a new one) in its place, so the first request after a restart succeeds.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")
