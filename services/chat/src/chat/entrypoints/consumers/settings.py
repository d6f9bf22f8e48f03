"""The ``chat.settings`` consumer: ``orchestrator.settings.changed`` → chat's replica of the settings.

The shared ``EventConsumer`` decodes the contract and records the inbox row in the
transaction the handler's unit of work joins, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from chat import SERVICE
from chat.application.ports import UnitOfWork
from chat.application.replicas import SettingsChanged, on_settings_changed
from shared.contracts import orchestrator
from shared.messaging.consumer import ConsumerSpec

NAME = f"{SERVICE}.settings"


def settings_changes(uow_on: Callable[[AsyncConnection], UnitOfWork]) -> ConsumerSpec:
    """The consumer spec ``ServiceRoot.consumers`` lists."""

    async def on_event(event: object, conn: AsyncConnection) -> None:
        if isinstance(event, orchestrator.SettingsChanged):
            changed = SettingsChanged(
                values=[(change.name, change.new) for change in event.changes], at=event.occurred_at
            )
            await on_settings_changed(changed, uow_on(conn))

    return ConsumerSpec(
        name=NAME,
        stream=orchestrator.STREAM,
        subjects=(orchestrator.SettingsChanged.subject,),
        decoder=orchestrator.decoder,
        handler=on_event,
    )
