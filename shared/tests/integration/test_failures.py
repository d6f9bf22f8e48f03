"""Broker outage and relay crashes: nothing lost, nothing applied twice."""

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from shared.contracts import identity
from shared.messaging.connection import connect_nats
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.streams import DEAD_LETTER, ensure_stream

from .conftest import IDENTITY, commit_events, eventually, pending_rows, relay_for, running, user_deleted
from .test_idempotent_consumer import effect_counts, effects_table, record_effect


def consumer_named(name, nats, engine):
    return EventConsumer(
        ConsumerSpec(
            name=name,
            stream="IDENTITY",
            subjects=["identity.>"],
            decoder=identity.decoder,
            handler=lambda e, c: record_effect(name, e, c),
        ),
        nats=nats,
        engine=engine,
    )


async def all_applied_once(engine, consumers, n):
    counts = await effect_counts(engine)
    per = {c: sum(1 for (name, _) in counts if name == c) for c in consumers}
    return all(v == n for v in per.values()) and set(counts.values()) <= {1}


async def test_broker_outage_loses_nothing_and_applies_each_event_once(service_schema, private_nats):
    engine = service_schema.engine
    await effects_table(engine)
    nc = await connect_nats(private_nats.url, name="outage-test", wait=10)
    js = nc.jetstream()
    await ensure_stream(js, IDENTITY)
    await ensure_stream(js, DEAD_LETTER)
    relay = relay_for(service_schema, nc)
    names = ["tests.chat-like", "tests.orchestrator-like"]
    consumers = [consumer_named(n, nc, engine) for n in names]
    try:
        async with running(relay.run, *(c.run for c in consumers)):
            await commit_events(engine, [user_deleted() for _ in range(50)])
            await eventually(lambda: all_applied_once(engine, names, 50))

            private_nats.stop()
            loop = asyncio.get_running_loop()
            outage_started = loop.time()
            for _ in range(50):  # 500 events committed while the broker is down
                await commit_events(engine, [user_deleted() for _ in range(10)])
                await asyncio.sleep(0.15)
            await asyncio.sleep(max(0.0, 10 - (loop.time() - outage_started)))
            assert await pending_rows(engine) > 0
            private_nats.start()

            await eventually(lambda: all_applied_once(engine, names, 550), timeout=60)
            await eventually(lambda: _zero(pending_rows(engine)), timeout=10)
        counts = await effect_counts(engine)
        assert len(counts) == 2 * 550
        assert set(counts.values()) == {1}
        assert (await js.stream_info("IDENTITY")).state.messages == 550
    finally:
        await nc.close()


async def test_relay_killed_between_publish_and_mark_sent_loses_nothing(service_schema, nats_client, js):
    engine = service_schema.engine
    await effects_table(engine)
    events = [user_deleted() for _ in range(300)]
    await commit_events(engine, events)
    script = Path(__file__).with_name("crashing_relay.py")
    nats_url = nats_client.connected_url.geturl()
    kills = duplicates = 0
    for kill_at in (1, 2, 1, 3, 0):  # four crashes at different points, then a clean run
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            service_schema.database_url,
            service_schema.schema,
            nats_url,
            str(kill_at),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        while proc.returncode is None and await pending_rows(engine) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.1)
        if proc.returncode is None:  # drained: this one survived
            proc.terminate()
        output = (await proc.stdout.read()).decode()
        await proc.wait()
        if proc.returncode == -9:
            kills += 1
        duplicates += output.count("dropped by JetStream as a duplicate")
    assert await pending_rows(engine) == 0
    assert kills == 4
    assert duplicates >= 4 * 25  # every killed batch was re-published and recognised by JetStream
    assert (await js.stream_info("IDENTITY")).state.messages == 300

    consumer = consumer_named("tests.after-crash", nats_client, engine)
    async with running(consumer.run):
        await eventually(lambda: all_applied_once(engine, ["tests.after-crash"], 300))
    assert set((await effect_counts(engine)).values()) == {1}


async def _zero(awaitable):
    return await awaitable == 0
