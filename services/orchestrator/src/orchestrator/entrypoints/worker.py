"""orchestrator's event consumers; ``shared.bootstrap`` runs them beside the outbox relay.

A consumer handler is thin: the shared ``EventConsumer`` has decoded the contract
and opened the transaction (with the inbox row in it); the handler turns the
event into a command and runs one use case on that same connection.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.application.erase_user import EraseUser, erase_user
from orchestrator.application.ports import UnitOfWork
from shared.contracts import identity
from shared.kernel.clock import Clock
from shared.messaging.consumer import ConsumerSpec, Handler

USER_ERASURE = "orchestrator.user-erasure"

UnitOfWorkOn = Callable[[AsyncConnection], UnitOfWork]
"""Builds a unit of work that joins the consumer's open transaction."""


async def on_user_deleted(
    event: object, conn: AsyncConnection, *, uow_on: UnitOfWorkOn, clock: Clock
) -> None:
    if not isinstance(event, identity.UserDeleted):
        return  # the subject filter lets only deletions through; anything else changes nothing
    await erase_user(EraseUser(user_id=event.user_id, event_id=event.event_id), uow_on(conn), clock)


def user_erasure(handler: Handler) -> ConsumerSpec:
    return ConsumerSpec(
        name=USER_ERASURE,
        stream=identity.STREAM,
        subjects=(identity.UserDeleted.subject,),
        decoder=identity.decoder,
        handler=handler,
    )
