"""Readiness probes for the dependencies every service has."""

from __future__ import annotations

from litestar.datastructures import State
from sqlalchemy import text

from shared.http.health import ReadinessCheck


async def _database(state: State) -> None:
    async with state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _nats(state: State) -> None:
    nc = state.nats
    if not nc.is_connected:
        raise ConnectionError("not connected")
    await nc.flush(timeout=1)


DATABASE = ReadinessCheck("database", _database)
NATS = ReadinessCheck("nats", _nats)
"""Expect ``state.engine`` (an AsyncEngine) and ``state.nats`` (a nats Client)."""
