"""A stopping worker gives back what it has not started, and reports its health truthfully (issue 10)."""

import asyncio

from shared.db import create_engine
from shared.messaging.consumer import EventConsumer
from shared.messaging.worker_endpoint import WorkerHealth

from .conftest import eventually, user_deleted
from .test_idempotent_consumer import effect_counts, effects_table, publish, record_effect, spec


async def test_a_stopping_consumer_gives_back_the_unstarted_messages_of_its_batch_at_once(
    service_schema, nats_client, js
):
    engine = service_schema.engine
    await effects_table(engine)
    events = [user_deleted() for _ in range(12)]
    for event in events:
        await publish(js, event)
    stop = asyncio.Event()
    started = asyncio.Event()

    async def slow(event, conn):
        started.set()
        await record_effect("tests.give-back", event, conn)
        await asyncio.sleep(0.2)

    # ack_wait of a minute: a message held when the worker stops would come back only then
    consumer = EventConsumer(
        spec("tests.give-back", slow, batch=12, ack_wait_s=60.0), nats=nats_client, engine=engine
    )
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(started.wait(), 20)
    stop.set()  # in the middle of the first message of a batch of 12
    await asyncio.wait_for(task, 20)

    applied = len(await effect_counts(engine))
    assert 1 <= applied < len(events)  # the message in hand was finished, the rest not started

    # another replica takes the rest at once (they went back with a nak), not after the minute
    # of ack_wait the server would otherwise wait for the stopped one
    successor = EventConsumer(
        spec("tests.give-back", lambda e, c: record_effect("tests.give-back", e, c), ack_wait_s=60.0),
        nats=nats_client,
        engine=engine,
    )
    rest = asyncio.Event()
    task = asyncio.create_task(successor.run(rest))
    try:

        async def all_applied():
            return len(await effect_counts(engine)) == len(events)

        await eventually(all_applied, timeout=10)
    finally:
        rest.set()
        await asyncio.wait_for(task, 20)
    assert set((await effect_counts(engine)).values()) == {1}


async def test_worker_health_is_ready_with_its_database_and_nats_and_not_once_stopping(
    service_schema, nats_client
):
    health = WorkerHealth(nats=nats_client, engine=service_schema.engine, every_s=0.05)
    assert health.readiness_failure() == "not probed yet"
    stop = asyncio.Event()
    task = asyncio.create_task(health.run(stop))

    async def ready():
        return health.readiness_failure() is None

    await eventually(ready)
    assert health.liveness_failure() is None
    stop.set()
    await asyncio.wait_for(task, 5)
    assert health.readiness_failure() == "the worker is stopping"


async def test_worker_health_names_an_unreachable_database(nats_client):
    # a port nothing listens on: a real refusal, not a fake
    engine = create_engine(
        "postgresql+asyncpg://nobody:secret@127.0.0.1:9/none", schema="none", application_name="tests"
    )
    health = WorkerHealth(nats=nats_client, engine=engine, every_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(health.run(stop))
    try:

        async def probed():
            return health.readiness_failure() != "not probed yet"

        await eventually(probed)
        failure = health.readiness_failure()
        assert failure is not None
        assert failure.startswith("database: ")
        assert "secret" not in failure
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await engine.dispose()
