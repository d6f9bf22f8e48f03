"""orchestrator.settings.changed on the ORCHESTRATOR stream → the chat.settings consumer → chat's
settings replica and the limits chat obeys, through the real worker, inbox, PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError

from aiorch_devkit.testing.consumers import running_consumer
from aiorch_devkit.testing.polling import eventually
from chat.adapters.postgres.tables import setting_replicas
from chat.domain.limits import ChatLimits
from chat.entrypoints.consumers.settings import NAME
from shared.contracts import orchestrator
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAYLOADS = Path(__file__).parents[4] / "tests" / "contract" / "payloads"


@pytest.fixture
async def js(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("orchestrator"))
    return js


@pytest.fixture
async def consumer(service_root, api_settings, js, service_engine) -> AsyncIterator[object]:
    async with running_consumer(service_root, api_settings, NAME) as found:
        yield found


def acked(js):
    async def check() -> bool:
        try:
            info = await js.consumer_info(orchestrator.STREAM, NAME.replace(".", "_"))
        except NotFoundError:
            return False
        return info.num_ack_pending == 0 and info.num_pending == 0

    return check


async def publish(js, event: orchestrator.Event) -> None:
    message = outgoing(event, source="/aiorch/orchestrator")
    await js.publish(event.subject, message.payload, headers=headers_for(message))


def settings_changed(minutes: int, **values: Any) -> orchestrator.SettingsChanged:
    return orchestrator.SettingsChanged(
        event_id=new_id(),
        occurred_at=T0 + timedelta(minutes=minutes),
        actor_id=new_id(),
        changes=[
            orchestrator.SettingChanged(name=name.replace("__", "."), old=None, new=value)
            for name, value in values.items()
        ],
    )


async def limits(uow) -> ChatLimits:
    async with uow() as work:
        return await work.settings.limits()


async def test_chat_obeys_registry_defaults_until_a_setting_changes(uow, service_engine):
    assert await limits(uow) == ChatLimits()


async def test_changed_settings_become_chats_limits(js, consumer, uow):
    chosen = new_id()
    await publish(
        js,
        settings_changed(
            1,
            chat__budget__messages_per_window=5,
            chat__budget__window_seconds=3_600,
            default_model_id=str(chosen),
            ai__max_output_tokens=512,
        ),
    )
    await eventually(acked(js))

    assert await limits(uow) == ChatLimits(
        messages_per_window=5, window_seconds=3_600, default_model_id=chosen, max_output_tokens=512
    )


async def test_an_older_change_arriving_late_changes_nothing(js, consumer, uow):
    await publish(js, settings_changed(5, chat__budget__messages_per_window=50))
    await publish(js, settings_changed(2, chat__budget__messages_per_window=20, chat__max_message_chars=900))
    await eventually(acked(js))

    now = await limits(uow)
    assert now.messages_per_window == 50
    assert now.max_message_chars == 900  # a setting the newer change did not touch still applies


async def test_a_default_model_reset_to_null_is_stored_and_read_as_none(js, consumer, uow, service_engine):
    await publish(js, settings_changed(1, default_model_id=str(new_id())))
    await publish(js, settings_changed(2, default_model_id=None))
    await eventually(acked(js))

    assert (await limits(uow)).default_model_id is None
    async with service_engine.connect() as conn:
        value = (
            await conn.execute(
                sa.select(setting_replicas.c.value).where(setting_replicas.c.name == "default_model_id")
            )
        ).scalar_one()
    assert value is None  # JSON null in a NOT NULL jsonb column


async def test_the_published_payload_of_orchestrator_is_replicated(js, consumer, uow, service_engine):
    event = orchestrator.decoder.decode(
        (PAYLOADS / "aiorch.orchestrator.settings.changed.v1.json").read_bytes()
    )
    await publish(js, event)
    await eventually(acked(js))

    assert str((await limits(uow)).default_model_id) == "01937a4c-7a10-7c3e-9d2c-00000000a001"
    async with service_engine.connect() as conn:
        names = set((await conn.execute(sa.select(setting_replicas.c.name))).scalars())
    assert names == {"default_model_id", "interview.max_questions"}  # every setting is kept
