"""orchestrator.ai_model.* on the ORCHESTRATOR stream → the chat.model-registry consumer → chat's
registry replica, through the real worker, inbox, PostgreSQL and NATS: the newest state wins
whatever the order, a deletion is final, and the API key stays sealed as it came."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError

from aiorch_devkit.testing.consumers import running_consumer
from aiorch_devkit.testing.polling import eventually
from chat.adapters.postgres.tables import model_replicas
from chat.entrypoints.consumers.models import NAME
from shared.contracts import orchestrator
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).parents[4] / "tests" / "contract" / "payloads"
SEALED = "v1:kabc:c2VhbGVkLWJ5LW9yY2hlc3RyYXRvcg=="


@pytest.fixture
async def js(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("orchestrator"))
    return js


@pytest.fixture
async def consumer(service_root, api_settings, js, service_engine) -> AsyncIterator[object]:
    """The model-registry consumer as the worker wires it, until the test ends."""
    async with running_consumer(service_root, api_settings, NAME) as found:
        yield found


async def publish(js, event: orchestrator.Event, *, msg_id: str | None = None) -> None:
    message = outgoing(event, source="/aiorch/orchestrator")
    headers = headers_for(message)
    if msg_id is not None:
        headers["Nats-Msg-Id"] = msg_id
    await js.publish(event.subject, message.payload, headers=headers)


def acked(js):
    async def check() -> bool:
        try:
            info = await js.consumer_info(orchestrator.STREAM, NAME.replace(".", "_"))
        except NotFoundError:
            return False
        return info.num_ack_pending == 0 and info.num_pending == 0

    return check


def changed(
    kind: type[orchestrator.AIModelCreated | orchestrator.AIModelUpdated],
    model_id: UUID,
    *,
    minutes: int = 0,
    name: str = "GPT small",
    enabled: bool = True,
    sealed_api_key: str | None = SEALED,
) -> orchestrator.AIModelChanged:
    return kind(
        event_id=new_id(),
        occurred_at=T0 + timedelta(minutes=minutes),
        model_id=model_id,
        name=name,
        provider="openai",
        base_url="https://llm.example/v1",
        model="gpt-4o-mini",
        parameters={"temperature": 0.2, "max_tokens": 800},
        enabled=enabled,
        is_default=True,
        api_key_hint="sk-…1234",
        sealed_api_key=sealed_api_key,
    )


def deleted(model_id: UUID, *, minutes: int) -> orchestrator.AIModelDeleted:
    return orchestrator.AIModelDeleted(
        event_id=new_id(), occurred_at=T0 + timedelta(minutes=minutes), model_id=model_id, name="GPT small"
    )


async def stored(engine, model_id: UUID) -> dict | None:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(model_replicas).where(model_replicas.c.id == model_id))).first()
    return None if row is None else dict(row._mapping)


async def test_a_created_model_is_replicated_with_its_key_sealed_as_it_came(js, consumer, service_engine):
    model_id = new_id()
    await publish(js, changed(orchestrator.AIModelCreated, model_id))
    await eventually(acked(js))

    row = await stored(service_engine, model_id)
    assert row is not None
    assert (row["name"], row["provider"], row["base_url"], row["model"]) == (
        "GPT small",
        "openai",
        "https://llm.example/v1",
        "gpt-4o-mini",
    )
    assert row["parameters"] == {"temperature": 0.2, "max_tokens": 800}
    assert (row["enabled"], row["is_default"], row["deleted"]) == (True, True, False)
    assert row["sealed_api_key"] == SEALED
    assert row["changed_at"] == T0


async def test_an_older_update_arriving_late_changes_nothing(js, consumer, service_engine):
    model_id = new_id()
    await publish(js, changed(orchestrator.AIModelUpdated, model_id, minutes=5, name="newest"))
    await publish(js, changed(orchestrator.AIModelCreated, model_id, name="first"))
    await publish(js, changed(orchestrator.AIModelUpdated, model_id, minutes=2, name="older"))
    await eventually(acked(js))

    row = await stored(service_engine, model_id)
    assert row is not None
    assert (row["name"], row["changed_at"]) == ("newest", T0 + timedelta(minutes=5))


async def test_a_redelivered_event_is_applied_once(js, consumer, service_engine):
    model_id = new_id()
    event = changed(orchestrator.AIModelCreated, model_id)
    await publish(js, event)
    await publish(js, event, msg_id=str(new_id()))  # JetStream cannot drop it: the inbox does
    await eventually(acked(js))

    async with service_engine.connect() as conn:
        seen = await conn.execute(
            sa.text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": event.event_id}
        )
        assert seen.scalar_one() == 1


async def test_a_deleted_model_stays_a_tombstone_whatever_comes_after(js, consumer, service_engine):
    model_id = new_id()
    await publish(js, changed(orchestrator.AIModelCreated, model_id))
    await publish(js, deleted(model_id, minutes=3))
    await publish(js, changed(orchestrator.AIModelUpdated, model_id, minutes=9, name="revived?"))
    await eventually(acked(js))

    row = await stored(service_engine, model_id)
    assert row is not None
    assert row["deleted"] is True
    assert row["name"] == "GPT small"


async def test_a_deletion_before_its_creation_still_wins(js, consumer, service_engine):
    model_id = new_id()
    await publish(js, deleted(model_id, minutes=3))
    await publish(js, changed(orchestrator.AIModelCreated, model_id))
    await eventually(acked(js))

    row = await stored(service_engine, model_id)
    assert row is not None
    assert row["deleted"] is True


async def test_the_published_payloads_of_orchestrator_are_replicated(js, consumer, service_engine):
    """The contract fixtures, as orchestrator first published them, go through the consumer."""
    created = orchestrator.decoder.decode(
        (PAYLOADS / "aiorch.orchestrator.ai_model.created.v1.json").read_bytes()
    )
    removed = orchestrator.decoder.decode(
        (PAYLOADS / "aiorch.orchestrator.ai_model.deleted.v1.json").read_bytes()
    )
    await publish(js, created)
    await eventually(acked(js))
    row = await stored(service_engine, created.model_id)
    assert row is not None
    assert (
        row["sealed_api_key"]
        == json.loads((PAYLOADS / "aiorch.orchestrator.ai_model.created.v1.json").read_text())[
            "sealed_api_key"
        ]
    )

    await publish(js, removed)
    await eventually(acked(js))
    row = await stored(service_engine, created.model_id)
    assert row is not None
    assert row["deleted"] is True
