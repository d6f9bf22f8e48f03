"""Telling "the database is away" apart from "this statement is wrong".

An outage (the server restarting, refusing connections, a pool that cannot hand out a
connection in time) is nobody's fault and passes by itself: an HTTP request answers 503
with ``Retry-After``, a consumer waits for the database and tries the same message
again. Any other database error is a bug or bad data, and is handled as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

_ASYNCPG_OUTAGES = (
    asyncpg.InterfaceError,  # "connection is closed", "connection was closed in the middle of operation"
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it was raised ``from``, says the database is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        current = current.__cause__  # not __context__: an unrelated error may be handled there
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, (InterfaceError, OperationalError))
    if isinstance(exc, OSError):
        # refused, reset, unreachable, unresolvable; asyncpg's "Multiple exceptions" is a bare
        # OSError. Not a missing file or a full disk: those are not the network's.
        return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)) or type(exc) is OSError
    # a pool's wait for a free connection timing out is a TimeoutError too
    return isinstance(exc, (PoolTimeoutError, DisconnectionError, *_ASYNCPG_OUTAGES))


async def wait_for_database(engine: AsyncEngine, stop: asyncio.Event, probe_every_s: float) -> bool:
    """Returns once the database answers (or on stop), probing every ``probe_every_s``;
    True if it had to wait (the database was away). An error that is not an outage is raised."""
    waited = False
    while not stop.is_set():
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            if not is_outage(exc):
                raise
            waited = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), probe_every_s)
        else:
            return waited
    return waited
