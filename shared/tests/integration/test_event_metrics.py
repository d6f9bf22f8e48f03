"""The event path's series, scraped from a worker's metrics port after some traffic (issue 7, 16)."""

import asyncio
import signal
import sys
import urllib.request
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aiorch_devkit.devservers import free_port
from shared.contracts import identity
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.relay import RelaySettings
from shared.messaging.worker_endpoint import serve_worker_endpoint

from .conftest import commit_events, eventually, pending_rows, relay_for, running, user_deleted
from .test_idempotent_consumer import effect_counts, effects_table, record_effect

SAMPLING = RelaySettings(poll_interval_s=0.1, publish_timeout_s=2.0, max_backoff_s=0.3, metrics_every_s=0.2)


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_backlog_publishes_lag_redeliveries_and_dead_letters_are_scraped_per_service(
    service_schema, nats_client, js
):
    engine = service_schema.engine
    await effects_table(engine)
    service = service_schema.schema  # the relay labels its series with its schema's service
    consumer_name = f"metrics{uuid.uuid4().hex[:6]}.users"
    failed_once = set()

    async def handler(event, conn):
        if len(failed_once) < 3 and event.event_id not in failed_once:
            failed_once.add(event.event_id)  # a passing failure: redelivered, then applied
            raise RuntimeError("flaky")
        await record_effect(consumer_name, event, conn)

    consumer = EventConsumer(
        ConsumerSpec(
            name=consumer_name,
            stream="IDENTITY",
            subjects=["identity.>"],
            decoder=identity.decoder,
            handler=handler,
            backoff_s=(0.05,),
            lag_every_s=0.2,
        ),
        nats=nats_client,
        engine=engine,
    )
    relay = relay_for(service_schema, nats_client, SAMPLING)
    loop = asyncio.get_running_loop()

    await commit_events(engine, [user_deleted() for _ in range(7)])  # a backlog before any relay
    await asyncio.sleep(0.3)  # so the oldest row has an age
    with serve_worker_endpoint(0) as port:
        async with running(relay.run):
            await eventually(lambda: _zero(pending_rows(engine)))
            await asyncio.sleep(0.5)  # the next sample sees the backlog drained
        samples = await loop.run_in_executor(None, scrape, port)
        assert value(samples, "aiorch_relay_published_total", service=service) == 7

        # the consumer starts late: its lag is what it has not been delivered
        await js.publish("identity.user.deleted", b"{not json", headers={"ce-specversion": "1.0"})
        async with running(consumer.run):
            await eventually(lambda: _count(effect_counts(engine), 7))
            await asyncio.sleep(0.5)  # a lag sample after the last one was applied
        samples = await loop.run_in_executor(None, scrape, port)

    labels = {"service": service_of(consumer_name), "consumer": consumer_name}
    assert value(samples, "aiorch_relay_published_total", service=service) == 7
    assert value(samples, "aiorch_relay_duplicates_total", service=service) == 0
    assert value(samples, "aiorch_outbox_backlog", service=service) == 0
    assert value(samples, "aiorch_outbox_oldest_unpublished_age_seconds", service=service) == 0
    assert value(samples, "aiorch_consumer_applied_total", **labels) == 7
    assert value(samples, "aiorch_consumer_redeliveries_total", **labels) == 3
    assert value(samples, "aiorch_dead_letters_total", **labels) == 1
    assert value(samples, "aiorch_consumer_pending", **labels) == 0
    assert value(samples, "aiorch_consumer_ack_pending", **labels) == 0


async def test_the_backlog_and_its_age_are_sampled_while_rows_wait(service_schema, nats_client, js):
    engine = service_schema.engine
    service = service_schema.schema
    relay = relay_for(service_schema, nats_client, SAMPLING)
    await js.delete_stream("IDENTITY")  # JetStream refuses every publish: the rows stay
    await commit_events(engine, [user_deleted() for _ in range(5)])
    with serve_worker_endpoint(0) as port:
        async with running(relay.run):
            await asyncio.sleep(1.5)
            samples = await asyncio.get_running_loop().run_in_executor(None, scrape, port)
    assert value(samples, "aiorch_outbox_backlog", service=service) == 5
    assert value(samples, "aiorch_outbox_oldest_unpublished_age_seconds", service=service) >= 1.0


async def test_a_worker_process_serves_the_series_on_its_metrics_port(service_schema, nats_client, js):
    engine = service_schema.engine
    await effects_table(engine)
    await commit_events(engine, [user_deleted() for _ in range(5)])
    port = free_port()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("metrics_worker.py")),
        service_schema.database_url,
        service_schema.schema,
        nats_client.connected_url.geturl(),
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    loop = asyncio.get_running_loop()
    service, labels = service_schema.schema, {"service": "worker", "consumer": "worker.users"}

    async def all_counted():
        try:
            samples = await loop.run_in_executor(None, scrape, port)
        except OSError:  # not listening yet
            return False
        return (
            value(samples, "aiorch_relay_published_total", service=service) == 5
            and value(samples, "aiorch_consumer_applied_total", **labels) == 5
            and value(samples, "aiorch_outbox_backlog", service=service) == 0
            and value(samples, "aiorch_consumer_pending", **labels) == 0
        )

    try:
        await eventually(all_counted, timeout=30, step=0.2)
        health = {
            path: await loop.run_in_executor(None, _get, f"http://127.0.0.1:{port}{path}")
            for path in ("/health/live", "/health/ready", "/nowhere")
        }
        assert health["/health/live"] == (200, {"status": "ok"})
        assert health["/health/ready"] == (200, {"status": "ok"})
        assert health["/nowhere"][0] == 404
        refused = await loop.run_in_executor(
            None, lambda: httpx.post(f"http://127.0.0.1:{port}/health/live", content=b"x", timeout=5)
        )
        assert (refused.status_code, refused.headers["allow"]) == (405, "GET")
        assert refused.headers["content-type"] == "application/problem+json"
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.wait(), 20)
    assert worker.returncode == 0


def _get(url):
    response = httpx.get(url, timeout=5)
    return response.status_code, response.json()


def service_of(name):
    return name.partition(".")[0]


async def _zero(awaitable):
    return await awaitable == 0


async def _count(awaitable, n):
    return len(await awaitable) == n
