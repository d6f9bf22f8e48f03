"""The ``<service>.user-erasure`` consumer: ``identity.user.deleted`` → the service's erasure.

The shared ``EventConsumer`` decodes the contract and opens the transaction with the
inbox row in it; the handler turns the event into :class:`EraseUser` and runs
``erase_user`` with the service's erase rule on a unit of work joining that
transaction. So a redelivered deletion changes nothing twice, and the erasure, its
ledger row, its receipt's outbox row and the inbox row commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.contracts import identity
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.erasure import EraseRule, EraseUser, ErasureUnitOfWork, erase_user
from shared.messaging.consumer import ConsumerSpec

U = TypeVar("U", bound=ErasureUnitOfWork)

PURPOSE = "user-erasure"


def consumer_name(service: str) -> str:
    """The durable consumer's name, ``<service>.user-erasure`` (JetStream's durable: ``_`` for ``.``)."""
    return f"{service}.{PURPOSE}"


async def on_user_deleted(
    event: object,
    conn: AsyncConnection,
    *,
    uow_on: Callable[[AsyncConnection], U],
    clock: Clock,
    erase_rule: EraseRule[U],
) -> None:
    if not isinstance(event, identity.UserDeleted):
        return  # the subject filter lets only deletions through; anything else changes nothing
    cmd = EraseUser(user_id=event.user_id, cause_event_id=event.event_id)
    await erase_user(cmd, uow_on(conn), clock, erase_rule)


def user_erasure(
    service: str, erase_rule: EraseRule[U], *, clock: Clock | None = None
) -> Callable[[Callable[[AsyncConnection], U]], ConsumerSpec]:
    """The consumer factory a service's bootstrap lists in ``ServiceRoot.consumers``.

    ``shared.bootstrap`` calls it with the function that builds the service's unit of
    work on the consumer's connection.
    """

    def spec(uow_on: Callable[[AsyncConnection], U]) -> ConsumerSpec:
        handler = partial(on_user_deleted, uow_on=uow_on, clock=clock or SystemClock(), erase_rule=erase_rule)
        return ConsumerSpec(
            name=consumer_name(service),
            stream=identity.STREAM,
            subjects=(identity.UserDeleted.subject,),
            decoder=identity.decoder,
            handler=handler,
        )

    return spec
