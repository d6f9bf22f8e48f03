"""identity's revocations and account changes, read from its stream into :class:`Revocations`.

Each API process that verifies tokens runs one feed: an ephemeral ordered push consumer on the
``IDENTITY`` stream (nothing to ack, nothing kept on the server after the process goes), from
now minus the retention, so a process that (re)starts reads again everything that can still
concern a live token. The revocations are *caught up* once every event that was in the stream
when the feed started has been applied; until then the verifier admits nothing and the process
is not ready. A stream that does not exist yet (identity never started) has revoked nothing:
caught up at once, and the feed subscribes when the stream appears.

nats-py's ordered consumer re-creates itself from the last sequence it delivered after a gap
or a lost server (by start *sequence*); that is why the start is given as a sequence, looked up
once from the start time.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.auth.revocations import Revocations
from shared.contracts import identity
from shared.messaging.envelope import MalformedEvent, decode

SUBJECTS: Final = (
    identity.SessionRevoked.subject,
    identity.UserSessionsRevoked.subject,
    identity.UserUpdated.subject,
    identity.UserDeleted.subject,
)
FORGET_EVERY: Final = timedelta(minutes=1)
HEARTBEAT_S: Final = 1.0
"""The server's idle heartbeat: two missed (a NATS restart lost the consumer) and the consumer is
re-created from the last sequence read, so revocations flow again ~2 s after NATS returns."""

_log = structlog.get_logger("auth.revocations")


class RevocationFeed:
    """Keeps ``revocations`` up to date from identity's stream (see the module docstring)."""

    def __init__(
        self,
        nc: Client,
        revocations: Revocations,
        *,
        retention: timedelta,
        retry_interval: float = 1.0,
    ) -> None:
        self.revocations = revocations
        self._nc = nc
        self._retention = retention
        self._retry_interval = retry_interval
        self._caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: object | None = None
        self._forgotten_at = datetime.now(UTC)
        self.applied = 0
        """Events applied since the start (for logs and tests)."""

    @property
    def caught_up(self) -> bool:
        return self.revocations.caught_up

    async def start(self, *, wait: float) -> None:
        """Start reading; return once caught up, or after ``wait`` seconds (readiness tells the rest)."""
        self._task = asyncio.create_task(self._run(), name="revocation-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), wait)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        subscription, self._subscription = self._subscription, None
        if subscription is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()  # type: ignore[attr-defined]

    async def _run(self) -> None:
        announced = False
        while True:
            try:
                await self._subscribe()
                return
            except NotFoundError:
                # No stream: identity has published nothing, so nothing is revoked yet.
                self._mark_caught_up()
                if not announced:
                    _log.info("identity's stream does not exist yet; revocations will be read once it does")
                    announced = True
            except Exception as exc:  # a NATS hiccup at start: try again, not ready meanwhile
                _log.warning("cannot read identity's revocations yet", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self._retry_interval)

    async def _subscribe(self) -> None:
        js = self._nc.jetstream()
        # A consumer that is never read: the server tells where the start time falls and what is left.
        probe = await js.add_consumer(
            identity.STREAM,
            ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=datetime.now(UTC) - self._retention,
                ack_policy=AckPolicy.NONE,
                filter_subjects=list(SUBJECTS),
                inactive_threshold=10.0,
                mem_storage=True,
            ),
        )
        with contextlib.suppress(Exception):
            await js.delete_consumer(identity.STREAM, probe.name)
        start = (probe.delivered.stream_seq if probe.delivered else 0) + 1
        self._subscription = await js.subscribe(
            "identity.>",
            stream=identity.STREAM,
            cb=self._on_message,
            ordered_consumer=True,
            idle_heartbeat=HEARTBEAT_S,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                filter_subjects=list(SUBJECTS),
            ),
        )
        if not probe.num_pending:
            self._mark_caught_up()
        _log.info("reading identity's revocations", from_sequence=start, to_read=probe.num_pending or 0)

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = decode(msg.headers, msg.data, identity.decoder)
        except MalformedEvent as exc:
            _log.warning("ignored a malformed identity event", error=str(exc), subject=msg.subject)
        else:
            self.revocations.apply(event)
            self.applied += 1
        if not self.caught_up and msg.metadata.num_pending == 0:
            self._mark_caught_up()
        now = datetime.now(UTC)
        if now - self._forgotten_at >= FORGET_EVERY:
            self._forgotten_at = now
            self.revocations.forget_before(now)

    def _mark_caught_up(self) -> None:
        if not self.revocations.caught_up:
            self.revocations.caught_up = True
            _log.info("revocations caught up", applied=self.applied, known=len(self.revocations))
        self._caught_up.set()
