"""Walking skeleton: an event committed through identity's outbox reaches chat and
orchestrator exactly once, across a NATS restart and a worker crash.

Runs the real processes as `make up` starts them (three APIs, three workers)
on a private cluster, with the cluster's embedded PostgreSQL and NATS or the
test servers' (see the ``cluster`` fixture); NATS is taken away and brought back
on the same data through the fixture, whichever runs it. Until identity
publishes real events, the test writes identity's outbox rows itself, as
identity's own database role, exactly as a use case's unit of work would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import psutil
from nats.js.errors import NotFoundError

from shared.contracts.identity import UserDeleted
from shared.db import create_engine
from shared.kernel.ids import new_id
from shared.messaging.connection import connect_nats
from shared.messaging.envelope import MSG_ID
from shared.messaging.outbox import OutboxWriter

from .conftest import PrivateCluster

CONSUMERS = {"chat": "chat.user-erasure", "orchestrator": "orchestrator.user-erasure"}
IDENTITY_STREAM = "IDENTITY"


def role_url(cluster: PrivateCluster, role: str) -> str:
    return cluster.role_url(role)


async def commit_user_deleted(cluster: PrivateCluster) -> UUID:
    event = UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id())
    engine = create_engine(
        role_url(cluster, "identity"), schema="identity", application_name="walking-skeleton"
    )
    try:
        async with engine.begin() as conn:
            await OutboxWriter("/aiorch/identity").add(conn, [event])
    finally:
        await engine.dispose()
    return event.event_id


async def applied(cluster: PrivateCluster, service: str) -> list[tuple[UUID, int]]:
    """(event id, times in the inbox) for every erasure the service applied."""
    conn = await asyncpg.connect(role_url(cluster, service))
    try:
        rows = await conn.fetch(
            f"SELECT e.event_id, (SELECT count(*) FROM {service}.inbox i"
            f"  WHERE i.event_id = e.event_id AND i.consumer = $1) AS n FROM {service}.erasures e",
            CONSUMERS[service],
        )
    finally:
        await conn.close()
    return [(r["event_id"], r["n"]) for r in rows]


async def wait_applied_everywhere(
    cluster: PrivateCluster, event_ids: list[UUID], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        seen = {s: await applied(cluster, s) for s in CONSUMERS}
        if all({e for e, _ in rows} == set(event_ids) for rows in seen.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {event_ids} applied in chat and orchestrator, saw {seen}")
        await asyncio.sleep(0.2)


def process_record(cluster: PrivateCluster, name: str) -> dict[str, float]:
    record: dict[str, float] = cluster.processes()[name]
    return record


async def stream_message_ids(cluster: PrivateCluster, stream: str) -> list[str]:
    """The ``Nats-Msg-Id`` of every message the stream holds, in order."""
    nc = await connect_nats(cluster.nats_url, name="walking-skeleton", wait=10)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(stream)).state
        ids = []
        for seq in range(state.first_seq, state.last_seq + 1):
            try:
                msg = await js.get_msg(stream, seq)
            except NotFoundError:  # a gap in the sequence: nothing to read there
                continue
            ids.append((msg.headers or {}).get(MSG_ID, ""))
        return ids
    finally:
        await nc.close()


def test_event_crosses_services_exactly_once_across_nats_and_worker_restarts(cluster: PrivateCluster) -> None:
    up = cluster.make("up", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    asyncio.run(_scenario(cluster))


async def _scenario(cluster: PrivateCluster) -> None:
    first = await commit_user_deleted(cluster)
    await wait_applied_everywhere(cluster, [first])

    # NATS goes away (SIGKILL); identity keeps committing; NATS comes back on the same data.
    await asyncio.to_thread(cluster.stop_nats)
    await asyncio.sleep(1)
    during_outage = await commit_user_deleted(cluster)
    await asyncio.sleep(2)
    await asyncio.to_thread(cluster.start_nats)
    await wait_applied_everywhere(cluster, [first, during_outage])
    # the stream came back from NATS's store, not created afresh: the first event is still in it
    assert str(first) in await stream_message_ids(cluster, IDENTITY_STREAM)

    # chat's worker crashes; the supervisor restarts it; nothing is applied twice.
    worker = process_record(cluster, "chat-worker")
    os.kill(int(worker["pid"]), signal.SIGKILL)
    after_crash = await commit_user_deleted(cluster)
    await wait_applied_everywhere(cluster, [first, during_outage, after_crash])
    assert psutil.pid_exists(process_record(cluster, "chat-worker")["pid"])

    for service in CONSUMERS:
        rows = await applied(cluster, service)
        assert sorted(n for _, n in rows) == [1, 1, 1], f"{service}: {rows}"
    published = await stream_message_ids(cluster, IDENTITY_STREAM)
    assert {str(e) for e in (first, during_outage, after_crash)} <= set(published), published
    conn = await asyncpg.connect(role_url(cluster, "identity"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM identity.outbox WHERE published_at IS NULL") == 0
    finally:
        await conn.close()
