"""The transactional outbox and its relay against real PostgreSQL and NATS."""

import asyncio
import random

from sqlalchemy import text

from shared.messaging.relay import RelaySettings

from .conftest import (
    commit_events,
    eventually,
    pending_rows,
    relay_for,
    running,
    stream_event_ids,
    user_deleted,
)


async def test_relay_publishes_committed_rows_as_cloudevents_with_msg_id(service_schema, nats_client, js):
    events = [user_deleted() for _ in range(20)]
    await commit_events(service_schema.engine, events)
    relay = relay_for(service_schema, nats_client)
    async with running(relay.run):
        await eventually(lambda: _eq(relay.published_total, 20))
    assert await stream_event_ids(js) == [str(e.event_id) for e in events]
    msg = await js.get_msg("IDENTITY", 1)
    assert msg.subject == "identity.user.deleted"
    assert msg.headers["Nats-Msg-Id"] == str(events[0].event_id)
    assert msg.headers["ce-specversion"] == "1.0"
    assert msg.headers["ce-type"] == "aiorch.identity.user.deleted.v1"
    assert msg.headers["ce-subject"] == str(events[0].user_id)
    assert msg.headers["traceparent"].startswith("00-")
    assert await pending_rows(service_schema.engine) == 0


async def test_only_committed_use_cases_publish_events_900_of_1000(service_schema, nats_client, js):
    engine = service_schema.engine
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE things (id uuid PRIMARY KEY)"))
    rng = random.Random(7)
    rolled_back = set(rng.sample(range(1000), 100))
    committed = []

    class Abort(Exception):
        pass

    from shared.messaging.outbox import OutboxWriter

    writer = OutboxWriter("tests")
    for i in range(1000):
        event = user_deleted()
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO things VALUES (:id)"), {"id": event.user_id})
                await writer.add(conn, [event])
                if i in rolled_back:
                    raise Abort
            committed.append(str(event.event_id))
        except Abort:
            pass
    relay = relay_for(service_schema, nats_client)
    async with running(relay.run):
        await eventually(lambda: _eq(relay.published_total, 900))
        await asyncio.sleep(0.3)  # nothing more may come
    published = await stream_event_ids(js)
    assert len(published) == 900
    assert published == committed


async def test_rows_committed_out_of_id_order_are_not_skipped(service_schema, nats_client, js):
    """Four transactions take outbox ids 1..4, commit in reverse order, one rolls back."""
    engine = service_schema.engine
    from shared.messaging.outbox import OutboxWriter

    writer = OutboxWriter("tests")
    events = [user_deleted() for _ in range(4)]
    conns = [await engine.connect() for _ in range(4)]
    txs = [await c.begin() for c in conns]
    for conn, event in zip(conns, events, strict=True):
        await writer.add(conn, [event])  # ids allocated in order 1, 2, 3, 4
    relay = relay_for(service_schema, nats_client)
    async with running(relay.run):
        await txs[3].commit()
        await eventually(lambda: _eq(relay.published_total, 1))
        await txs[2].commit()
        await eventually(lambda: _eq(relay.published_total, 2))
        await txs[1].rollback()
        await txs[0].commit()
        await eventually(lambda: _eq(relay.published_total, 3))
        await asyncio.sleep(0.3)
    for conn in conns:
        await conn.close()
    published = await stream_event_ids(js)
    assert published == [str(events[3].event_id), str(events[2].event_id), str(events[0].event_id)]


async def test_only_one_of_several_relays_publishes_and_another_takes_over(service_schema, nats_client, js):
    first, second = relay_for(service_schema, nats_client), relay_for(service_schema, nats_client)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    first_task = asyncio.create_task(first.run(stop_first))
    await eventually(lambda: _eq(first.is_leader, True))
    second_task = asyncio.create_task(second.run(stop_second))
    try:
        await commit_events(service_schema.engine, [user_deleted() for _ in range(50)])
        await eventually(lambda: _eq(first.published_total, 50))
        assert not second.is_leader
        assert second.published_total == 0
        stop_first.set()
        await first_task
        await eventually(lambda: _eq(second.is_leader, True))
        await commit_events(service_schema.engine, [user_deleted() for _ in range(10)])
        await eventually(lambda: _eq(second.published_total, 10))
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.gather(first_task, second_task)
    assert (await js.stream_info("IDENTITY")).state.messages == 60


async def test_republishing_the_same_event_is_dropped_by_jetstream_as_duplicate(
    service_schema, nats_client, js
):
    event = user_deleted()
    await commit_events(service_schema.engine, [event])
    relay = relay_for(service_schema, nats_client)
    async with running(relay.run):
        await eventually(lambda: _eq(relay.published_total, 1))
        async with service_schema.engine.begin() as conn:  # as if the mark-sent never happened
            await conn.execute(text("UPDATE outbox SET published_at = NULL"))
            await conn.execute(text("NOTIFY " + service_schema.schema + "_outbox"))
        await eventually(lambda: _eq(relay.published_total, 2))
    assert relay.duplicates_total == 1
    assert (await js.stream_info("IDENTITY")).state.messages == 1


async def _eq(a: object, b: object) -> bool:
    return a == b


async def test_relay_wakes_on_commit_without_waiting_for_its_poll(service_schema, nats_client, js):
    relay = relay_for(service_schema, nats_client, RelaySettings(poll_interval_s=60.0))
    async with running(relay.run):
        await eventually(lambda: _eq(relay.is_leader, True))
        await asyncio.sleep(0.3)  # idle now, waiting on LISTEN with a 60 s poll
        loop = asyncio.get_running_loop()
        committed = loop.time()
        await commit_events(service_schema.engine, [user_deleted()])
        await eventually(lambda: _eq(relay.published_total, 1), timeout=5)
        assert loop.time() - committed < 2.0  # woken by NOTIFY, not by the 60 s poll
