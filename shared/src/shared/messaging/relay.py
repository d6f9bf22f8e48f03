"""The outbox relay: publishes committed outbox rows to JetStream and marks them sent.

Rules it keeps:

* **One active relay per schema.** Each relay process competes for a session-level
  advisory lock on its own connection; the holder publishes, the others stand by
  and take over within ``poll_interval`` when the holder's connection dies. This
  keeps commit order and avoids publish storms when several replicas run.
* **No skipped rows.** It always selects *every* unpublished row in id order
  (no "last seen id" watermark), so a row whose transaction committed after a
  higher id was already published is still picked up on the next pass.
* **At least once, never twice in effect.** A row is marked sent only after
  JetStream acknowledged it. After any failure (broker down, crash between
  publish and mark-sent) it is published again with the same ``Nats-Msg-Id``,
  which JetStream drops as a duplicate within the stream's duplicate window.
* **Order per aggregate under any failure.** Rows are grouped by ``subject_id``
  (the aggregate) into lanes. A lane has at most one publish in flight: its next
  row goes out only after JetStream acknowledged the previous one, and after a
  failure the lane stops for this round, so a later event of an aggregate can
  never be stored before an earlier one that was dropped, refused or timed out.
  Different lanes are pipelined, so a batch of many aggregates costs about one
  round trip. Rows without a ``subject_id`` form one lane together: they keep
  their commit order relative to each other.
* **Wakes on commit.** An ``AFTER INSERT`` trigger NOTIFYs on commit; polling
  every ``poll_interval`` is the fallback for lost notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from nats.aio.client import Client
from nats.js.api import PubAck
from nats.js.client import JetStreamContext

from shared.db.engine import asyncpg_dsn
from shared.logging import RateLimitedLog
from shared.messaging.envelope import OutgoingEvent, headers_for
from shared.messaging.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, RELAY_DUPLICATES, RELAY_PUBLISHED
from shared.messaging.outbox_schema import notify_channel

_log = structlog.get_logger("outbox.relay")

_PENDING = """
SELECT id, event_id, subject, event_type, source, occurred_at, subject_id, traceparent, payload
FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
"""
_MARK_SENT = (
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1)"
)
_MARK_FAILED = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
_PRUNE = "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)"
_BACKLOG = """
SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox WHERE published_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class RelaySettings:
    batch_size: int = 500
    poll_interval_s: float = 1.0
    publish_timeout_s: float = 5.0
    max_backoff_s: float = 5.0
    retention_s: float = 7 * 24 * 3600.0
    prune_every_s: float = 300.0
    metrics_every_s: float = 5.0
    """How often the active relay samples the backlog for the metrics."""


def _lock_key(schema: str) -> int:
    # advisory locks take a bigint; a stable hash of the name keeps it per schema
    return zlib.crc32(f"aiorch.outbox.relay.{schema}".encode())


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        schema: str,
        nats: Client,
        settings: RelaySettings | None = None,
        name: str = "relay",
        service: str | None = None,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._nc = nats
        self._js = nats.jetstream()
        self._settings = settings or RelaySettings()
        self._name = name
        self._wake = asyncio.Event()
        self.is_leader = False
        self.published_total = 0
        self.duplicates_total = 0
        # An outage (database or broker) is retried every few seconds: logged once per 30 s,
        # with a count, and the line that ends it says how many retries it folded.
        self._outage_log = RateLimitedLog(_log, interval_s=30.0)
        self._in_outage = False
        service = service or schema  # a service's schema is named after it
        self._published = RELAY_PUBLISHED.labels(service)
        self._duplicates = RELAY_DUPLICATES.labels(service)
        self._backlog = OUTBOX_BACKLOG.labels(service)
        self._oldest_age = OUTBOX_OLDEST_AGE.labels(service)

    # -- lifecycle -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; survives database and broker outages."""
        backoff = 0.1
        while not stop.is_set():
            try:
                await self._session(stop)
                backoff = 0.1
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                self.is_leader = False
                self._outage_log.warning("relay database session lost", error=f"{type(exc).__name__}: {exc}")
                self._in_outage = True
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, self._settings.max_backoff_s)

    async def _session(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(
            self._dsn, server_settings={"search_path": self._schema, "application_name": self._name}
        )
        try:
            await self._lead(conn, stop)
        finally:
            self.is_leader = False
            await conn.close(timeout=2)

    async def _lead(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        settings = self._settings
        while not stop.is_set():
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", _lock_key(self._schema)):
                break
            await _sleep_or_stop(stop, settings.poll_interval_s)
        if stop.is_set():
            return
        self.is_leader = True
        self._back_to_normal("relay is the active publisher")
        await conn.add_listener(notify_channel(self._schema), self._on_notify)
        loop = asyncio.get_running_loop()
        next_prune = next_sample = loop.time()
        backoff = 0.1
        while not stop.is_set():
            self._wake.clear()
            if loop.time() >= next_prune:
                await conn.execute(_PRUNE, settings.retention_s)
                next_prune = loop.time() + settings.prune_every_s
            if loop.time() >= next_sample:
                await self._sample_backlog(conn)
                next_sample = loop.time() + settings.metrics_every_s
            rows = await conn.fetch(_PENDING, settings.batch_size)
            if not rows:
                await self._wait_for_work(stop)
                continue
            sent, failures = await self._publish(rows)
            if sent:
                await self._mark_sent(conn, sent)
            if failures:
                await conn.executemany(_MARK_FAILED, [(row_id, reason[:500]) for row_id, reason in failures])
                row_id, reason = failures[0]
                self._in_outage = True
                self._outage_log.warning(
                    "publish failed; will retry",
                    outbox_id=row_id,
                    reason=reason,
                    failed_rows=len(failures),
                    retry_in_s=backoff,
                )
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, settings.max_backoff_s)
            else:
                backoff = 0.1
                if self._in_outage:
                    self._back_to_normal("relay publishing again")

    def _back_to_normal(self, event: str) -> None:
        if self._in_outage:
            self._outage_log.settle(event, schema=self._schema)
            self._in_outage = False
        else:
            _log.info(event, schema=self._schema)

    async def _mark_sent(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute(_MARK_SENT, ids)
        self.published_total += len(ids)
        self._published.inc(len(ids))

    async def _sample_backlog(self, conn: asyncpg.Connection) -> None:
        rows, oldest_age_s = await conn.fetchrow(_BACKLOG)
        self._backlog.set(rows)
        self._oldest_age.set(oldest_age_s)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(
            waiters, timeout=self._settings.poll_interval_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()

    # -- publishing ------------------------------------------------------------------

    async def _publish(self, rows: Sequence[asyncpg.Record]) -> tuple[list[int], list[tuple[int, str]]]:
        """Publish a batch lane by lane; return the ids acknowledged and the failures (id, reason)."""
        batch = _LaneBatch(self._js, rows, self._settings.publish_timeout_s)
        await batch.run()
        self.duplicates_total += len(batch.duplicates)
        if batch.duplicates:
            self._duplicates.inc(len(batch.duplicates))
        for row_id in batch.duplicates:
            # published before, by us or a relay that died before marking it sent
            _log.info("re-publish dropped by JetStream as a duplicate", outbox_id=row_id)
        return batch.sent, batch.failures


class _LaneBatch:
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


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
