"""Publishing one batch of outbox rows with the order of each aggregate kept.

The relay (``shared.messaging.relay``) hands each round's pending rows to a
:class:`LaneBatch` and marks sent what it reports acknowledged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import asyncpg
from nats.js.api import PubAck
from nats.js.client import JetStreamContext

from shared.messaging.envelope import OutgoingEvent, headers_for


class LaneBatch:
    """One round of publishing: each aggregate's rows form a lane with one row in flight.

    Only one row of an aggregate is ever in flight: were two pipelined, the first
    could be lost (dropped on a broken connection, refused during a stream leader
    election) while the second is stored, and its retry would land after it. So a
    lane's next row is published when the previous one is acknowledged, and a
    failure ends the lane for this round; its rows stay pending and follow the
    failed one next round. A row that timed out may in fact be stored: its retry
    carries the same ``Nats-Msg-Id`` and JetStream drops it. The heads of all lanes
    go out first, in id order, and each lane advances in the order acks arrive, so
    without failures a batch of distinct aggregates reaches the stream in id order
    and costs about one round trip. If the connection refuses to publish at all
    (closed, stalled) no lane advances any more.
    """

    def __init__(self, js: JetStreamContext, rows: Sequence[asyncpg.Record], timeout_s: float) -> None:
        self._js = js
        self._timeout_s = timeout_s
        self._lanes: dict[str | None, deque[asyncpg.Record]] = {}
        for row in rows:
            self._lanes.setdefault(row["subject_id"], deque()).append(row)
        # insertion order is publish order, hence deadline order
        self._in_flight: dict[int, tuple[asyncpg.Record, asyncio.Future[PubAck], float]] = {}
        self._completed: asyncio.Queue[int] = asyncio.Queue()
        self._halted = False
        self.sent: list[int] = []
        self.duplicates: list[int] = []
        self.failures: list[tuple[int, str]] = []

    async def run(self) -> None:
        for lane in self._lanes.values():
            await self._advance(lane)
        loop = asyncio.get_running_loop()
        while self._in_flight:
            _, _, first_deadline = next(iter(self._in_flight.values()))
            try:
                async with asyncio.timeout_at(first_deadline):
                    row_id = await self._completed.get()
            except TimeoutError:
                self._expire(loop.time())
                continue
            await self._settle(row_id)

    def _expire(self, now: float) -> None:
        for row_id, (row, future, deadline) in list(self._in_flight.items()):
            if deadline > now:
                break
            if not future.done():  # an ack already in hand is settled by the loop instead
                del self._in_flight[row_id]
                future.cancel()  # frees its slot in the client's pending-ack limit
                self._fail(row, "no acknowledgement in time")

    async def _advance(self, lane: deque[asyncpg.Record]) -> None:
        if self._halted or not lane:
            return
        row = lane.popleft()
        event = _outgoing(row)
        try:
            future = await self._js.publish_async(
                event.subject, event.payload, headers=headers_for(event), wait_stall=self._timeout_s
            )
        except Exception as exc:  # the connection is closed or stalled: stop the batch
            self._halted = True
            self._fail(row, f"{type(exc).__name__}: {exc}")
            return
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        self._in_flight[row["id"]] = (row, future, deadline)
        future.add_done_callback(lambda _: self._completed.put_nowait(row["id"]))

    async def _settle(self, row_id: int) -> None:
        entry = self._in_flight.pop(row_id, None)
        if entry is None:
            return  # already expired
        row, future, _ = entry
        if future.cancelled():  # by the client, as its connection closed
            self._fail(row, "publish cancelled")
            return
        exc = future.exception()
        if exc is not None:  # refused by JetStream, or no stream answers the subject
            self._fail(row, f"{type(exc).__name__}: {exc}")
            return
        self.sent.append(row_id)
        if future.result().duplicate:
            self.duplicates.append(row_id)
        await self._advance(self._lanes[row["subject_id"]])

    def _fail(self, row: asyncpg.Record, reason: str) -> None:
        self.failures.append((row["id"], reason))
        self._lanes[row["subject_id"]].clear()  # its later rows follow this one, next round


def _outgoing(row: asyncpg.Record) -> OutgoingEvent:
    return OutgoingEvent(
        event_id=row["event_id"],
        subject=row["subject"],
        event_type=row["event_type"],
        source=row["source"],
        occurred_at=row["occurred_at"],
        subject_id=row["subject_id"],
        traceparent=row["traceparent"],
        payload=row["payload"],
    )
