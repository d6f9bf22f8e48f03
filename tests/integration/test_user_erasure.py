"""identity.user.deleted → chat and orchestrator each erase the user and publish their receipt
(``<service>.user.erased``), exactly once, through their real consumer, unit of work and relay; a
message they cannot read is parked, listed and replayed."""

import asyncio
import importlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import msgspec
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import func, select, table, text

from aiorch_devkit.testing.polling import eventually
from shared.contracts import event_type_of
from shared.contracts.identity import UserDeleted
from shared.kernel.erasure import Erasure
from shared.kernel.ids import new_id
from shared.messaging.envelope import MSG_ID, headers_for, outgoing
from shared.messaging.outbox import OutboxWriter
from shared.messaging.outbox_schema import outbox
from shared.messaging.streams import DEAD_LETTER, context_stream, ensure_stream

pytestmark = pytest.mark.parametrize("service_root", ["chat", "orchestrator"], indirect=True)


@pytest.fixture
def service(service_root) -> SimpleNamespace:
    """The service's own modules this feature involves."""
    name = service_root.service
    return SimpleNamespace(
        name=name,
        consumer=f"{name}.user-erasure",
        receipts=importlib.import_module(f"shared.contracts.{name}"),
        main=importlib.import_module(f"{name}.entrypoints.cli").main,
    )


@pytest.fixture
async def js(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("identity"))
    return js


@pytest.fixture
async def erasure_consumer(
    service_root, service_settings, service_engine, service, js
) -> AsyncIterator[object]:
    """The user-erasure consumer and the outbox relay as the worker wires them, until the test ends."""
    async with service_root.open_worker(service_settings) as worker:
        (consumer,) = [c for c in worker.consumers if c.spec.name == service.consumer]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(worker.relay.run(stop))]
        yield consumer
        stop.set()
        await asyncio.gather(*tasks)


async def publish(js, event: UserDeleted, *, msg_id: str | None = None) -> None:
    message = outgoing(event, source="/aiorch/identity")
    headers = headers_for(message)
    if msg_id is not None:
        headers[MSG_ID] = msg_id
    await js.publish(event.subject, message.payload, headers=headers)


def all_acked(js, durable: str, count: int):
    async def check() -> bool:
        try:
            info = await js.consumer_info("IDENTITY", durable)
        except NotFoundError:  # the consumer's task has not created its durable consumer yet
            return False
        return info.ack_floor.stream_seq >= count and info.num_ack_pending == 0

    return check


async def rows(engine, sql: str) -> list[tuple]:
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(text(sql))]


def user_deleted(user_id=None) -> UserDeleted:
    return UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=user_id or new_id())


async def receipts_published(js, service) -> list:
    """Every ``<service>.user.erased`` on the service's stream, decoded, in stream order."""
    stream = service.receipts.STREAM
    state = (await js.stream_info(stream)).state
    if state.messages == 0:
        return []
    messages = [await js.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]
    return [service.receipts.decoder.decode(m.data) for m in messages if m.subject.endswith(".user.erased")]


async def receipts_staged(engine) -> list[tuple[str, str, bytes]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.event_type, outbox.c.subject_id, outbox.c.payload))
        return [tuple(row) for row in rows]


# -- the consumer ----------------------------------------------------------------------------------


async def test_a_deletion_delivered_twice_is_applied_once(js, erasure_consumer, service_engine, service):
    event = user_deleted()
    await publish(js, event)
    # the same event again under a new message id, as a replay or a late re-publish sends it
    await publish(js, event, msg_id=f"{event.event_id}:again")

    await eventually(all_acked(js, erasure_consumer.spec.durable, 2))

    assert await rows(service_engine, "SELECT user_id, event_id FROM erasures") == [
        (event.user_id, event.event_id)
    ]
    assert await rows(service_engine, "SELECT consumer, event_id FROM inbox") == [
        (service.consumer, event.event_id)
    ]
    assert erasure_consumer.applied == 1


async def test_the_erasure_publishes_one_receipt_naming_the_deletion(
    js, erasure_consumer, service_engine, service
):
    event = user_deleted()
    await publish(js, event)
    await publish(js, event, msg_id=f"{event.event_id}:again")
    await eventually(all_acked(js, erasure_consumer.spec.durable, 2))

    async def published_one() -> bool:
        return len(await receipts_published(js, service)) == 1

    await eventually(published_one)
    (receipt,) = await receipts_published(js, service)
    ((erased_at,),) = await rows(service_engine, "SELECT erased_at FROM erasures")
    assert event_type_of(receipt) == f"aiorch.{service.name}.user.erased.v1"
    assert (receipt.user_id, receipt.cause_event_id, receipt.erased_at) == (
        event.user_id,
        event.event_id,
        erased_at,
    )

    async def marked_sent() -> bool:  # the relay marks a row sent just after JetStream acknowledged it
        unsent = await rows(service_engine, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return unsent == [(0,)]

    await eventually(marked_sent)
    assert len(await receipts_staged(service_engine)) == 1


async def test_a_second_deletion_of_the_same_user_keeps_the_first_erasure_and_its_only_receipt(
    js, erasure_consumer, service_engine, service
):
    first = user_deleted()
    second = user_deleted(first.user_id)
    await publish(js, first)
    await publish(js, second)

    await eventually(all_acked(js, erasure_consumer.spec.durable, 2))

    assert await rows(service_engine, "SELECT user_id, event_id FROM erasures") == [
        (first.user_id, first.event_id)
    ]
    assert len(await rows(service_engine, "SELECT event_id FROM inbox")) == 2
    staged = await receipts_staged(service_engine)
    assert [(event_type, subject_id) for event_type, subject_id, _ in staged] == [
        (f"aiorch.{service.name}.user.erased.v1", str(first.user_id))
    ]
    assert msgspec.json.decode(staged[0][2])["cause_event_id"] == str(first.event_id)


# -- the unit of work ------------------------------------------------------------------------------


async def counts(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        kept = await conn.scalar(select(func.count()).select_from(table("erasures")))
        staged = await conn.scalar(select(func.count()).select_from(outbox))
    return kept, staged


async def erase(uow, *, commit: bool) -> None:
    """A new erasure through the unit of work's ledger; its receipt is staged by the commit alone."""
    async with uow:
        erasure = Erasure.of(user_id=new_id(), cause_event_id=new_id(), erased_at=datetime.now(UTC))
        await uow.erasures.add(erasure)
        if commit:
            await uow.commit()


@pytest.mark.parametrize(("commit", "expected"), [(True, (1, 1)), (False, (0, 0))])
async def test_an_erasure_and_its_receipt_commit_or_roll_back_together(
    service_root, service_engine, commit, expected
):
    outbox_writer = OutboxWriter(service_root.event_source)
    uow = service_root.unit_of_work.from_engine(service_engine, outbox_writer, service_root.translate)

    await erase(uow, commit=commit)

    assert await counts(service_engine) == expected


async def test_an_erasure_loaded_from_the_ledger_stages_nothing_again(service_root, service_engine):
    outbox_writer = OutboxWriter(service_root.event_source)
    uow = service_root.unit_of_work.from_engine(service_engine, outbox_writer, service_root.translate)
    await erase(uow, commit=True)
    ((user_id,),) = await rows(service_engine, "SELECT user_id FROM erasures")

    async with uow:
        loaded = await uow.erasures.get(user_id)
        await uow.commit()

    assert loaded is not None
    assert loaded.user_id == user_id
    assert await counts(service_engine) == (1, 1)


async def test_an_erasure_joined_to_a_consumers_transaction_is_lost_when_the_owner_rolls_back(
    service_root, service_engine
):
    outbox_writer = OutboxWriter(service_root.event_source)
    translate = service_root.translate
    async with service_engine.connect() as conn:
        await conn.begin()
        await erase(service_root.unit_of_work.joining(conn, outbox_writer, translate), commit=True)
        await conn.rollback()
    assert await counts(service_engine) == (0, 0)

    async with service_engine.begin() as conn:
        await erase(service_root.unit_of_work.joining(conn, outbox_writer, translate), commit=True)
    assert await counts(service_engine) == (1, 1)


# -- dead letters ----------------------------------------------------------------------------------


@pytest.fixture
async def parked(service_root, service_settings, service_environment, nats_client):
    """A malformed identity.user.deleted message, parked by the erasure consumer."""
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("identity"))
    await ensure_stream(js, DEAD_LETTER)
    await js.publish("identity.user.deleted", b"not an event", headers={"ce-type": "x", "ce-id": "1"})
    async with service_root.open_worker(service_settings) as worker:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.consumers[0].run(stop))

        async def parked_one() -> bool:
            return (await js.stream_info(DEAD_LETTER.name)).state.messages == 1

        await eventually(parked_one)
        stop.set()
        await task
    return js


async def test_dead_letters_are_listed_and_replayed(parked, service, capsys):
    main = service.main
    assert await asyncio.to_thread(main, ["dead-letters", "list"]) == 0
    listing = capsys.readouterr().out
    assert service.consumer in listing
    assert "malformed" in listing

    assert await asyncio.to_thread(main, ["dead-letters", "replay", "--seq", "999"]) == 1
    assert await asyncio.to_thread(main, ["dead-letters", "replay", "--all"]) == 0

    assert (await parked.stream_info(DEAD_LETTER.name)).state.messages == 0
    assert (await parked.stream_info("IDENTITY")).state.messages == 2  # the original and its replay


async def test_another_consumers_letters_are_out_of_scope(parked, service, capsys):
    other = "orchestrator" if service.name == "chat" else "chat"

    assert (
        await asyncio.to_thread(service.main, ["dead-letters", "list", "--consumer", f"{other}.user-erasure"])
        == 0
    )
    assert capsys.readouterr().out.strip() == "no dead letters"
