"""Per-aggregate order when one publish of a batch fails, against a real NATS.

Between the relay and NATS sits :class:`SabotagingProxy`, a TCP proxy that reads the NATS
client protocol and spoils the first ``HPUB`` carrying a chosen ``Nats-Msg-Id``, while the
rows behind it in the batch are published and acknowledged normally:

* ``drop``: the frame is swallowed; the server never sees it and the publish times out,
  as when a message is lost on a broken connection;
* ``refuse``: the frame goes to a subject no stream captures, so JetStream answers at
  once that no stream took it (503), as when a stream has no leader for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import pytest
from sqlalchemy import text

from shared.contracts import identity
from shared.contracts.base import Event
from shared.contracts.identity import UserUpdated
from shared.kernel.ids import new_id
from shared.messaging.connection import connect_nats
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.outbox import OutboxWriter
from shared.messaging.relay import RelaySettings

from .conftest import eventually, pending_rows, relay_for, running

# A short ack timeout, so a lost publish is given up on (and retried) quickly.
QUICK = RelaySettings(poll_interval_s=0.2, publish_timeout_s=0.5, max_backoff_s=0.3)


class SabotagingProxy:
    """Passes NATS traffic through, except the first ``HPUB`` whose headers carry ``msg_id``."""

    def __init__(self, upstream_host: str, upstream_port: int, msg_id: str, mode: str) -> None:
        assert mode in ("drop", "refuse")
        self._upstream = (upstream_host, upstream_port)
        self._needle = f"Nats-Msg-Id: {msg_id}\r\n".encode()
        self._mode = mode
        self.spoiled = 0
        self.forwarded_hpubs = 0  # not counting the spoiled one
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"nats://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self._upstream)
        pumps = [self._client_to_server(client_r, server_w), _copy(server_r, client_w)]
        for pump in pumps:
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _client_to_server(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readuntil(b"\r\n"):
                op, *args = line.split()
                frame = line
                if op.upper() in (b"PUB", b"HPUB"):  # a payload of args[-1] bytes and CRLF follow
                    frame += await reader.readexactly(int(args[-1]) + 2)
                if op.upper() == b"HPUB":
                    headers = frame[len(line) : len(line) + int(args[-2])]
                    if self._needle in headers and not self.spoiled:
                        self.spoiled += 1
                        if self._mode == "drop":
                            continue
                        frame = b"HPUB no-stream." + frame[len(b"HPUB ") :]
                    else:
                        self.forwarded_hpubs += 1
                writer.write(frame)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Tick(Event, frozen=True, kw_only=True, tag="aiorch.identity.test.tick.v1"):
    """An event about no aggregate (no ``subject_id``), as a context-wide fact would be."""

    subject: ClassVar[str] = "identity.test.tick"
    n: int


@contextlib.asynccontextmanager
async def relay_through_proxy(
    service_schema: Any, nats_client: Any, victim: Event, mode: str = "drop"
) -> AsyncIterator[Any]:
    """A relay whose NATS connection spoils ``victim``'s first publish; yields (relay, proxy)."""
    server = nats_client.connected_url
    proxy = SabotagingProxy(server.hostname, server.port, str(victim.event_id), mode)
    await proxy.start()
    nc = await connect_nats(proxy.url, name="relay-behind-proxy", wait=10)
    try:
        yield relay_for(service_schema, nc, QUICK), proxy
    finally:
        await nc.close()
        await proxy.stop()


def interleaved(aggregates: Sequence[UUID], per_aggregate: int) -> list[UserUpdated]:
    """Version ``i`` of every aggregate, then version ``i + 1`` of every one, ..."""
    return [
        UserUpdated(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=user_id, name=f"v{i}")
        for i in range(per_aggregate)
        for user_id in aggregates
    ]


async def commit_one_by_one(engine: Any, events: Sequence[Event]) -> None:
    writer = OutboxWriter("tests")
    for event in events:
        async with engine.begin() as conn:
            await writer.add(conn, [event])


async def stream_messages(js: Any) -> list[tuple[str, str]]:
    """(ce-id, ce-subject or "") of every message in the IDENTITY stream, in stream order."""
    info = await js.stream_info("IDENTITY")
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg("IDENTITY", seq)
        out.append((msg.headers["ce-id"], msg.headers.get("ce-subject", "")))
    return out


async def replica_tables(engine: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE applied (seq bigserial PRIMARY KEY, user_id uuid NOT NULL, name text NOT NULL)"
            )
        )
        await conn.execute(text("CREATE TABLE replica (user_id uuid PRIMARY KEY, name text NOT NULL)"))


async def apply_update(event: Any, conn: Any) -> None:
    """A consumer keeping the latest name per user: wrong if versions arrive out of order."""
    params = {"u": event.user_id, "n": event.name}
    await conn.execute(text("INSERT INTO applied (user_id, name) VALUES (:u, :n)"), params)
    await conn.execute(
        text("INSERT INTO replica VALUES (:u, :n) ON CONFLICT (user_id) DO UPDATE SET name = excluded.name"),
        params,
    )


async def applied_names(engine: Any) -> dict[UUID, list[str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT user_id, name FROM applied ORDER BY seq"))
        out: dict[UUID, list[str]] = {}
        for user_id, name in rows:
            out.setdefault(user_id, []).append(name)
        return out


@pytest.mark.parametrize(
    ("mode", "victim"),
    [("drop", 7), ("drop", 0), ("drop", 19), ("refuse", 7)],
    ids=["timeout-middle", "timeout-first", "timeout-last", "refused-middle"],
)
async def test_a_failed_publish_in_a_batch_keeps_each_aggregates_events_in_commit_order(
    service_schema, nats_client, js, mode, victim
):
    """3 aggregates x 20 versions, interleaved in one batch; version ``victim`` of the second fails once."""
    engine = service_schema.engine
    await replica_tables(engine)
    aggregates = [new_id() for _ in range(3)]
    events = interleaved(aggregates, 20)
    await commit_one_by_one(engine, events)
    lost = events[victim * 3 + 1]
    assert lost.user_id == aggregates[1]
    consumer = EventConsumer(
        ConsumerSpec(
            name="tests.replica",
            stream="IDENTITY",
            subjects=["identity.user.>"],
            decoder=identity.decoder,
            handler=apply_update,
        ),
        nats=nats_client,
        engine=engine,
    )
    async with (
        relay_through_proxy(service_schema, nats_client, lost, mode) as (relay, proxy),
        running(relay.run, consumer.run),
    ):
        await eventually(lambda: _equals(pending_rows(engine), 0))
        await eventually(lambda: _value(consumer.applied == 60))
    assert proxy.spoiled == 1  # the failure did happen, once
    assert proxy.forwarded_hpubs == 60  # the failed one was sent again and nothing else twice

    # the consumer applied every aggregate's versions in commit order and ends on the last
    versions = [f"v{i}" for i in range(20)]
    assert await applied_names(engine) == dict.fromkeys(aggregates, versions)
    async with engine.connect() as conn:
        replica = dict((await conn.execute(text("SELECT user_id, name FROM replica"))).all())
    assert replica == dict.fromkeys(aggregates, "v19")

    committed = {u: [str(e.event_id) for e in events if e.user_id == u] for u in aggregates}
    in_stream = await stream_messages(js)
    assert len(in_stream) == 60
    for user_id in aggregates:
        assert [i for i, subject in in_stream if subject == str(user_id)] == committed[user_id]
    # the other aggregates did not wait for the retry: the victim's lane resumed alone
    tail = [str(e.event_id) for e in events[victim * 3 + 1 :: 3]]
    assert [i for i, _ in in_stream[-len(tail) :]] == tail
    async with engine.connect() as conn:
        attempts, error = (
            await conn.execute(
                text("SELECT attempts, last_error FROM outbox WHERE event_id = :e"), {"e": lost.event_id}
            )
        ).one()
    assert (attempts, error) == (2, None)  # one failure recorded, then sent


async def test_events_without_an_aggregate_keep_their_order_among_themselves(service_schema, nats_client, js):
    """Rows with no ``subject_id`` form one lane: a lost one is not overtaken by the later ones."""
    engine = service_schema.engine
    user_id = new_id()
    events: list[Event] = []
    for n in range(15):
        events.append(Tick(event_id=new_id(), occurred_at=datetime.now(UTC), n=n))
        events.append(
            UserUpdated(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=user_id, name=f"v{n}")
        )
    await commit_one_by_one(engine, events)
    lost = events[10]
    assert isinstance(lost, Tick)
    async with (
        relay_through_proxy(service_schema, nats_client, lost) as (relay, proxy),
        running(relay.run),
    ):
        await eventually(lambda: _equals(pending_rows(engine), 0))
    assert proxy.spoiled == 1
    in_stream = await stream_messages(js)
    assert len(in_stream) == 30
    assert [i for i, subject in in_stream if subject == ""] == [str(e.event_id) for e in events[::2]]
    assert [i for i, subject in in_stream if subject == str(user_id)] == [
        str(e.event_id) for e in events[1::2]
    ]


async def _equals(awaitable: Any, expected: object) -> bool:
    return bool(await awaitable == expected)


async def _value(result: bool) -> bool:
    return result
