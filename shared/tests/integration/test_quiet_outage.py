"""A NATS outage and start-up order cost a few log lines, not one per retry (issue 7, point 15)."""

import asyncio
import json
import logging

import pytest
import structlog

from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.streams import ensure_stream

from .conftest import IDENTITY, commit_events, eventually, relay_for, running, user_deleted
from .test_failures import consumer_named
from .test_idempotent_consumer import effect_counts, effects_table, publish


@pytest.fixture
def json_logs(capsys):
    configure_logging("sample", "DEBUG")
    yield lambda: [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


async def test_a_short_nats_outage_logs_its_errors_once_with_a_count(private_nats, json_logs):
    nc = await connect_nats(private_nats.url, name="quiet-test", wait=10)
    try:
        json_logs()
        private_nats.stop()
        await asyncio.sleep(4)  # the client retries every half second meanwhile
        private_nats.start()
        await eventually(lambda: _true(nc.is_connected), timeout=20)
        await asyncio.sleep(0.2)
        lines = [line for line in json_logs() if line.get("level") != "debug"]
    finally:
        await nc.close()
    errors = [line for line in lines if line["event"] == "nats error"]
    back = [line for line in lines if line["event"] == "nats reconnected"]
    print(f"\n{len(lines)} lines during a 4 s NATS outage: {[line['event'] for line in lines]}")
    assert len(errors) == 1, lines
    assert len(back) == 1
    assert back[0].get("repeated", 0) >= 3  # the folded retries are counted, not lost
    assert len(lines) <= 4  # disconnected, one error, reconnected (and nothing per retry)


async def test_a_consumer_started_before_its_stream_waits_quietly_then_consumes(
    service_schema, nats_client, json_logs
):
    engine = service_schema.engine
    await effects_table(engine)
    consumer = consumer_named("tests.early", nats_client, engine)
    js = nats_client.jetstream()
    async with running(consumer.run):
        await asyncio.sleep(3)  # the publishing service starts late
        await ensure_stream(js, IDENTITY)
        await publish(js, user_deleted())
        await eventually(lambda: _count(effect_counts(engine), 1))
    lines = json_logs()
    loud = [line for line in lines if line["level"] in ("warning", "error")]
    waiting = [line for line in lines if line["event"] == "waiting for the stream to exist"]
    assert loud == []
    assert len(waiting) == 1
    assert waiting[0]["level"] == "info"


async def test_a_worker_through_a_nats_outage_logs_each_kind_of_failure_once(
    service_schema, private_nats, json_logs
):
    engine = service_schema.engine
    await effects_table(engine)
    nc = await connect_nats(private_nats.url, name="quiet-worker", wait=10)
    await ensure_stream(nc.jetstream(), IDENTITY)
    relay = relay_for(service_schema, nc)
    consumer = consumer_named("tests.through", nc, engine)
    try:
        async with running(relay.run, consumer.run):
            await commit_events(engine, [user_deleted()])
            await eventually(lambda: _count(effect_counts(engine), 1))
            json_logs()
            private_nats.stop()
            for _ in range(8):  # the worker's service keeps committing meanwhile
                await commit_events(engine, [user_deleted()])
                await asyncio.sleep(0.5)
            private_nats.start()
            await eventually(lambda: _count(effect_counts(engine), 9), timeout=30)
            lines = [line for line in json_logs() if line.get("level") != "debug"]
    finally:
        await nc.close()
    loud = [line["event"] for line in lines if line["level"] in ("warning", "error")]
    print(
        f"\n{len(lines)} lines from a worker through a 4 s NATS outage: {[line['event'] for line in lines]}"
    )
    assert len(loud) == len(set(loud)), loud  # each kind of failure once, however many retries


async def _true(value):
    return value


async def _count(awaitable, n):
    return len(await awaitable) == n
