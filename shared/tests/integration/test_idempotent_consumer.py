"""The idempotent consumer: inbox, ack after commit, back-off, dead letters, replay."""

import asyncio
import random

from sqlalchemy import text

from shared.contracts import identity
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.deadletter import list_dead_letters, replay
from shared.messaging.envelope import headers_for, outgoing

from .conftest import eventually, running, user_deleted


async def effects_table(engine):
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE effects"
                " (consumer text, event_id uuid, at timestamptz DEFAULT clock_timestamp())"
            )
        )


async def record_effect(consumer, event, conn):
    await conn.execute(
        text("INSERT INTO effects (consumer, event_id) VALUES (:c, :e)"), {"c": consumer, "e": event.event_id}
    )


async def effect_counts(engine):
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT consumer, event_id, count(*) FROM effects GROUP BY 1, 2"))
        return {(r[0], str(r[1])): r[2] for r in rows}


def spec(name, handler, **kw):
    return ConsumerSpec(
        name=name,
        stream="IDENTITY",
        subjects=["identity.user.>"],
        decoder=identity.decoder,
        handler=handler,
        **kw,
    )


async def publish(js, event, msg_id=None):
    out = outgoing(event, source="tests")
    headers = headers_for(out)
    if msg_id:
        headers["Nats-Msg-Id"] = msg_id
    await js.publish(out.subject, out.payload, headers=headers)


class FlakyAck:
    """A message whose ack is sometimes a nak: the consumer committed, the broker redelivers."""

    def __init__(self, msg, rng):
        self._msg, self._rng = msg, rng

    def __getattr__(self, name):
        return getattr(self._msg, name)

    async def ack(self):
        if self._rng.random() < 0.3:
            await self._msg.nak()
        else:
            await self._msg.ack()


async def test_each_event_applied_once_despite_double_delivery_and_random_naks(
    service_schema, nats_client, js
):
    engine = service_schema.engine
    await effects_table(engine)
    events = [user_deleted() for _ in range(200)]
    for event in events:  # every message is in the stream twice (different Nats-Msg-Id)
        await publish(js, event)
        await publish(js, event, msg_id=f"{event.event_id}-again")
    consumer = EventConsumer(
        spec("tests.twice", lambda e, c: record_effect("tests.twice", e, c)), nats=nats_client, engine=engine
    )
    await consumer.ensure()
    sub = await js.pull_subscribe_bind(consumer.spec.durable, stream="IDENTITY")
    rng = random.Random(3)
    handled = 0
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        try:
            msgs = await sub.fetch(50, timeout=1)
        except Exception:
            info = await js.consumer_info("IDENTITY", consumer.spec.durable)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            continue
        for msg in msgs:
            await consumer.handle(FlakyAck(msg, rng))
            handled += 1
    counts = await effect_counts(engine)
    assert handled > 400  # doubles plus redeliveries went through the handler path
    assert len(counts) == 200
    assert set(counts.values()) == {1}


async def test_poison_message_is_parked_after_max_deliver_without_blocking_the_rest(
    service_schema, nats_client, js
):
    engine = service_schema.engine
    await effects_table(engine)
    poison, behind = user_deleted(), user_deleted()
    attempts = {"n": 0}
    broken = {"on": True}

    async def handler(event, conn):
        if event.event_id == poison.event_id and broken["on"]:
            attempts["n"] += 1
            raise RuntimeError("cannot handle this one")
        await record_effect("tests.poison", event, conn)

    consumer = EventConsumer(
        spec("tests.poison", handler, max_deliver=4, backoff_s=(0.1, 0.2, 0.3)),
        nats=nats_client,
        engine=engine,
    )
    async with running(consumer.run):
        await publish(js, poison)
        loop = asyncio.get_running_loop()
        published_behind = loop.time()
        await publish(js, behind)
        await eventually(lambda: _has_effect(engine, behind.event_id))
        delay_behind = loop.time() - published_behind
        await eventually(lambda: _dead_letter_count(js, 1))
    assert attempts["n"] == 4
    assert delay_behind < 1.0
    [letter] = await list_dead_letters(js, consumer="tests.poison")
    assert letter.event_id == str(poison.event_id)
    assert letter.deliveries == 4
    assert "RuntimeError: cannot handle this one" in letter.reason
    assert letter.subject == "identity.user.deleted"

    broken["on"] = False  # the fix is deployed; replay applies it once
    async with running(consumer.run):
        await replay(js, letter)
        await eventually(lambda: _has_effect(engine, poison.event_id))
        await asyncio.sleep(0.3)
    assert (await effect_counts(engine))[("tests.poison", str(poison.event_id))] == 1
    assert await list_dead_letters(js, consumer="tests.poison") == []


async def test_malformed_message_goes_straight_to_dead_letters(service_schema, nats_client, js):
    engine = service_schema.engine
    await effects_table(engine)
    calls = {"n": 0}

    async def handler(event, conn):
        calls["n"] += 1

    consumer = EventConsumer(spec("tests.malformed", handler), nats=nats_client, engine=engine)
    async with running(consumer.run):
        await js.publish("identity.user.deleted", b"{not json", headers={"ce-specversion": "1.0"})
        await js.publish("identity.user.deleted", b"{}")  # no CloudEvents headers
        await eventually(lambda: _dead_letter_count(js, 2))
    letters = await list_dead_letters(js)
    assert all(letter.reason.startswith("malformed") for letter in letters)
    assert calls["n"] == 0


async def _has_effect(engine, event_id):
    async with engine.connect() as conn:
        found = await conn.execute(text("SELECT 1 FROM effects WHERE event_id = :e"), {"e": event_id})
        return found.first() is not None


async def _dead_letter_count(js, n):
    return len(await list_dead_letters(js)) == n


async def test_an_outage_is_retried_past_max_deliver_and_never_parked(service_schema, nats_client, js):
    engine = service_schema.engine
    await effects_table(engine)
    event = user_deleted()
    outage = {"left": 6}

    async def handler(e, conn):
        if outage["left"] > 0:
            outage["left"] -= 1
            raise ConnectionResetError("database connection lost")
        await record_effect("tests.outage", e, conn)

    consumer = EventConsumer(
        spec("tests.outage", handler, max_deliver=3, backoff_s=(0.05, 0.1)), nats=nats_client, engine=engine
    )
    async with running(consumer.run):
        await publish(js, event)
        await eventually(lambda: _has_effect(engine, event.event_id))
    assert outage["left"] == 0
    assert await list_dead_letters(js) == []
