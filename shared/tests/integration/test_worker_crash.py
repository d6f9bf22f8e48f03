"""A worker killed mid-batch: what it held is applied soon after its restart (issue 7, point 14)."""

import asyncio
import os
import signal
import sys
from pathlib import Path

from .conftest import eventually, user_deleted
from .test_idempotent_consumer import effect_counts, effects_table, publish

SCRIPT = Path(__file__).with_name("slow_consumer.py")
EVENTS = 100


async def _start_worker(service_schema, nats_url):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        service_schema.database_url,
        service_schema.schema,
        nats_url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc


async def _applied(engine, n):
    counts = await effect_counts(engine)
    assert set(counts.values()) <= {1}  # never twice
    return len(counts) >= n


async def test_events_a_killed_worker_held_are_applied_soon_after_its_restart(
    service_schema, nats_client, js, capsys
):
    engine = service_schema.engine
    await effects_table(engine)
    for _ in range(EVENTS):
        await publish(js, user_deleted())
    nats_url = nats_client.connected_url.geturl()

    first = await _start_worker(service_schema, nats_url)
    try:
        await eventually(lambda: _applied(engine, 10), timeout=60, step=0.01)
    finally:
        first.send_signal(signal.SIGKILL)  # mid-batch: it holds fetched, unacknowledged events
        await first.wait()
    done_before = len(await effect_counts(engine))
    assert done_before < EVENTS

    loop = asyncio.get_running_loop()
    restarted_at = loop.time()
    second = await _start_worker(service_schema, nats_url)
    try:
        # A generous bound, not a benchmark: before the fix the held events waited out a 30 s ack_wait.
        await eventually(lambda: _applied(engine, EVENTS), timeout=20, step=0.05)
        took = loop.time() - restarted_at
    finally:
        second.terminate()
        await second.wait()
    with capsys.disabled():  # the figure issue 7 asks the suite to print
        print(
            f"\n[recovery] worker killed after {done_before} of {EVENTS} events;"
            f" all applied {took:.2f} s after its restart"
        )
    assert len(await effect_counts(engine)) == EVENTS
