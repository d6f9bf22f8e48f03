"""Idempotent event consumers: durable pull consumer + inbox, ack after commit.

For each message: decode the contract; in one database transaction record
``(consumer, event_id)`` in the inbox and run the handler; commit; then ack. A
redelivered event finds its inbox row and changes nothing twice. A handler
failure is retried with back-off (``nak`` with a delay, so the messages behind
it go on); after ``max_deliver`` failed deliveries, or at once for a malformed
message, the message is parked on the dead-letter stream with the reason and
acked. An outage (database unreachable) is not the message's fault: the consumer
waits for the database, probing it every ``probe_every_s``, and applies the same
message as soon as it answers; it is never parked for that.

Fetched messages are kept alive while they wait their turn (``in_progress`` every
third of ``ack_wait_s``), so ``ack_wait_s`` can be short: when a worker dies mid-batch,
what it held is redelivered ``ack_wait_s`` later, not after a long timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db.outage import is_outage, wait_for_database
from shared.logging import RateLimitedLog
from shared.messaging.deadletter import park
from shared.messaging.envelope import MalformedEvent, decode
from shared.messaging.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_APPLIED,
    CONSUMER_PENDING,
    CONSUMER_REDELIVERIES,
    DEAD_LETTERS,
    service_of,
)

_log = structlog.get_logger("consumer")

Handler = Callable[[Any, AsyncConnection], Awaitable[None]]

_RECORD = text(
    "INSERT INTO inbox (consumer, event_id, event_type) VALUES (:consumer, :event_id, :event_type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable consumer ``<consumer-service>.<purpose>`` on one stream."""

    name: str
    stream: str
    subjects: Sequence[str]
    decoder: msgspec.json.Decoder[Any]
    handler: Handler
    max_deliver: int = 5
    backoff_s: Sequence[float] = field(default=(0.2, 1.0, 5.0, 15.0))
    ack_wait_s: float = 4.0
    """How long the server waits for an ack before redelivering; held messages are kept alive."""
    batch: int = 16
    probe_every_s: float = 0.2
    """How often the database is probed during an outage, before the message is tried again."""
    lag_every_s: float = 5.0
    """How often the consumer's lag (pending messages) is sampled for the metrics."""

    @property
    def durable(self) -> str:
        # durable names may not contain dots
        return self.name.replace(".", "_")

    def delay_after(self, deliveries: int) -> float:
        return self.backoff_s[min(deliveries, len(self.backoff_s)) - 1]


class EventConsumer:
    def __init__(self, spec: ConsumerSpec, *, nats: Client, engine: AsyncEngine) -> None:
        self.spec = spec
        self._nc = nats
        self._js = nats.jetstream()
        self._engine = engine
        self._stop = asyncio.Event()
        self._held: dict[int, Msg] = {}
        """Fetched messages not settled yet (acked, nak'ed or parked): kept alive."""
        self.applied = 0
        self._loop_failures = RateLimitedLog(_log, interval_s=30.0)
        labels = (service_of(spec.name), spec.name)
        self._applied = CONSUMER_APPLIED.labels(*labels)
        self._redeliveries = CONSUMER_REDELIVERIES.labels(*labels)
        self._dead_letters = DEAD_LETTERS.labels(*labels)
        self._pending = CONSUMER_PENDING.labels(*labels)
        self._ack_pending = CONSUMER_ACK_PENDING.labels(*labels)

    async def ensure(self) -> None:
        """Create or update the durable consumer (idempotent)."""
        spec = self.spec
        config = ConsumerConfig(
            durable_name=spec.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=spec.ack_wait_s,
            # We count deliveries ourselves and park the message; the server must
            # keep redelivering until we do, or a crash on the last try loses it.
            max_deliver=-1,
            max_ack_pending=1000,
            filter_subjects=list(spec.subjects) if len(spec.subjects) > 1 else None,
            filter_subject=spec.subjects[0] if len(spec.subjects) == 1 else None,
        )
        await self._js.add_consumer(spec.stream, config)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle until ``stop``; the subscription is recreated after any failure."""
        self._stop = stop
        companions = [asyncio.create_task(c(stop)) for c in (self._keep_alive, self._sample_lag)]
        try:
            await self._supervise(stop)
        finally:
            for task in companions:
                task.cancel()
            await asyncio.gather(*companions, return_exceptions=True)

    async def _supervise(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await self._wait_for_stream(stop)
                await self.ensure()
                sub = await self._js.pull_subscribe_bind(self.spec.durable, stream=self.spec.stream)
                backoff = 0.2
                if self._loop_failures.active:  # one line ends the episode, with the count it folded
                    self._loop_failures.settle("consumer running again", consumer=self.spec.name)
                try:
                    await self._fetch_loop(sub, stop)
                finally:
                    await _quietly(sub.unsubscribe())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the supervisor's job: log, back off, start again
                self._loop_failures.warning(
                    "consumer loop failed; recreating",
                    consumer=self.spec.name,
                    error=f"{type(exc).__name__}: {exc}",
                )
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)

    async def _wait_for_stream(self, stop: asyncio.Event) -> None:
        """Start-up order is free: the publishing service may create its stream after we start."""
        announced = False
        while not stop.is_set():
            try:
                await self._js.stream_info(self.spec.stream)
            except NotFoundError:
                if not announced:
                    _log.info(
                        "waiting for the stream to exist", consumer=self.spec.name, stream=self.spec.stream
                    )
                    announced = True
                _log.debug("stream not there yet", consumer=self.spec.name, stream=self.spec.stream)
                await _sleep_or_stop(stop, 0.5)
            else:
                return

    async def _fetch_loop(self, sub: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                messages = await sub.fetch(self.spec.batch, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                continue
            self._held.update((id(msg), msg) for msg in messages)  # a Msg is not hashable
            for index, msg in enumerate(messages):
                if stop.is_set():
                    await self._give_back(messages[index:])
                    return
                try:
                    await self.handle(msg)
                finally:
                    self._held.pop(id(msg), None)

    async def _give_back(self, messages: Sequence[Msg]) -> None:
        """Stopping: what was fetched and not started goes back now (a nak without delay), so
        another replica takes it at once instead of after ``ack_wait_s``."""
        for msg in messages:
            await _quietly(msg.nak())
            self._held.pop(id(msg), None)
        if messages:
            _log.info("stopping: unstarted messages given back", consumer=self.spec.name, count=len(messages))

    async def _sample_lag(self, stop: asyncio.Event) -> None:
        """Sets the lag gauges from the server's view of the durable consumer."""
        while not stop.is_set():
            try:
                info = await self._js.consumer_info(self.spec.stream, self.spec.durable)
            except Exception as exc:  # no stream or consumer yet, the broker away: next time
                _log.debug("consumer lag not sampled", consumer=self.spec.name, error=type(exc).__name__)
            else:
                self._pending.set(info.num_pending or 0)
                self._ack_pending.set(info.num_ack_pending or 0)
            await _sleep_or_stop(stop, self.spec.lag_every_s)

    async def _keep_alive(self, stop: asyncio.Event) -> None:
        """Tells the server every third of ``ack_wait_s`` that held messages are being worked on."""
        while not stop.is_set():
            await _sleep_or_stop(stop, self.spec.ack_wait_s / 3)
            for msg in list(self._held.values()):
                await _quietly(msg.in_progress())

    async def handle(self, msg: Msg) -> None:
        spec = self.spec
        deliveries = msg.metadata.num_delivered
        if deliveries > 1:
            self._redeliveries.inc()
        try:
            event = decode(msg.headers, msg.data, spec.decoder)
        except MalformedEvent as exc:
            await self._park(msg, f"malformed: {exc}", deliveries)
            return
        try:
            applied = await self._apply_through_outages(event, msg)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if is_outage(exc):
                # Never parked for an outage. Stopping: another replica (or our restart) takes
                # it now. Otherwise the database answers and the outage is elsewhere (a service
                # the handler calls): retried later, so the messages behind it go on meanwhile.
                delay = None if self._stop.is_set() else spec.backoff_s[-1]
                if delay is not None:
                    _log.warning("handler hit an outage; will retry", consumer=spec.name, error=reason)
                await msg.nak(delay=delay)
                return
            if deliveries >= spec.max_deliver:
                await self._park(msg, reason, deliveries)
            else:
                delay = spec.delay_after(deliveries)
                _log.warning(
                    "handler failed; will retry",
                    consumer=spec.name,
                    event_id=str(event.event_id),
                    delivery=deliveries,
                    retry_in_s=delay,
                    error=reason,
                )
                await msg.nak(delay=delay)
            return
        await msg.ack()
        if applied:
            self.applied += 1
            self._applied.inc()

    async def _apply_through_outages(self, event: Any, msg: Msg) -> bool:
        """Apply; while the database is away, wait for it and apply again (unless stopping).

        An outage error while the database answers every probe is tried again a few times in
        place (it may have come back just now), then raised: the outage is elsewhere.
        """
        pause = 0.05
        tries_with_database_up = 0
        while True:
            try:
                return await self._apply(event)
            except Exception as exc:
                if not is_outage(exc) or self._stop.is_set() or tries_with_database_up >= 3:
                    raise
                if tries_with_database_up == 0:
                    _log.warning(
                        "handler hit an outage; waiting for the database",
                        consumer=self.spec.name,
                        error=f"{type(exc).__name__}: {exc}",
                    )
            await _sleep_or_stop(self._stop, pause)
            pause = min(pause * 2, 1.0)  # a handler's own transient failure is not retried hot
            waited = await wait_for_database(self._engine, self._stop, self.spec.probe_every_s)
            tries_with_database_up = 0 if waited else tries_with_database_up + 1

    async def _apply(self, event: Any) -> bool:
        async with self._engine.begin() as conn:
            recorded = await conn.execute(
                _RECORD,
                {"consumer": self.spec.name, "event_id": event.event_id, "event_type": type(event).__name__},
            )
            if recorded.first() is None:
                return False  # already applied: a redelivery
            await self.spec.handler(event, conn)
        return True

    async def _park(self, msg: Msg, reason: str, deliveries: int) -> None:
        await park(self._js, msg, consumer=self.spec.name, reason=reason, deliveries=deliveries)
        await msg.ack()
        self._dead_letters.inc()
        _log.error("message parked on the dead-letter stream", consumer=self.spec.name, reason=reason)


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:  # cleanup of a subscription on a dead connection may fail
        return


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
