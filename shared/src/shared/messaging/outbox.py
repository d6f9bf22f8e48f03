"""The outbox writer: events join the caller's database transaction.

Used by a unit of work right before it commits, so the state change and its
events are committed (or rolled back) together. It never talks to NATS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.contracts.base import Event
from shared.messaging.envelope import outgoing
from shared.messaging.outbox_schema import outbox

_INSERT = outbox.insert()


class OutboxWriter:
    def __init__(self, source: str) -> None:
        self.source = source

    async def add(self, conn: AsyncConnection, events: Sequence[Event]) -> None:
        """Stage ``events`` in the open transaction of ``conn``; one round trip for all."""
        if not events:
            return
        rows = [asdict(outgoing(event, source=self.source)) for event in events]
        # one row as one statement: an executemany of one (SQLAlchemy's "insertmanyvalues", with
        # its RETURNING) costs a third more on the hot path of a single event
        await conn.execute(_INSERT, rows[0] if len(rows) == 1 else rows)
