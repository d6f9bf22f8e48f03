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
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from nats.aio.client import Client

from shared.db.engine import asyncpg_dsn
from shared.logging import RateLimitedLog
from shared.messaging.lanes import LaneBatch
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
                if self._outage_log.active:
                    self._back_to_normal("relay publishing again")

    def _back_to_normal(self, event: str) -> None:
        if self._outage_log.active:
            self._outage_log.settle(event, schema=self._schema)
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
        batch = LaneBatch(self._js, rows, self._settings.publish_timeout_s)
        await batch.run()
        self.duplicates_total += len(batch.duplicates)
        if batch.duplicates:
            self._duplicates.inc(len(batch.duplicates))
        for row_id in batch.duplicates:
            # published before, by us or a relay that died before marking it sent
            _log.info("re-publish dropped by JetStream as a duplicate", outbox_id=row_id)
        return batch.sent, batch.failures


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
