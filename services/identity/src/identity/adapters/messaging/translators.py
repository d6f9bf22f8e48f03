"""Domain events → public contracts (``shared.contracts.identity``).

The one place that knows both, so refactoring the domain never breaks a consumer.
Each contract gets a fresh event id here, once, as the unit of work stages it in the
outbox. Only what the contract names is copied: no password, hash or token can leak
into an event by a field added to the domain later.
"""

from __future__ import annotations

from functools import singledispatch

from identity.domain import events, sessions
from shared.contracts import identity as contracts
from shared.contracts.base import Event
from shared.kernel.ids import new_id


@singledispatch
def to_contract(event: events.DomainEvent) -> Event:
    raise TypeError(f"no public contract for {type(event).__name__}: register one in {__name__}")


@to_contract.register
def _registered(event: events.UserRegistered) -> Event:
    return contracts.UserRegistered(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        user_id=event.user_id,
        email=event.email,
        name=event.name,
        role=event.role,
    )


@to_contract.register
def _updated(event: events.UserUpdated) -> Event:
    return contracts.UserUpdated(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        user_id=event.user_id,
        name=event.name,
        role=event.role,
        is_active=event.is_active,
    )


@to_contract.register
def _deleted(event: events.UserDeleted) -> Event:
    return contracts.UserDeleted(event_id=new_id(), occurred_at=event.occurred_at, user_id=event.user_id)


@to_contract.register
def _session_revoked(event: sessions.SessionRevoked) -> Event:
    return contracts.SessionRevoked(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        session_id=event.session_id,
        user_id=event.user_id,
        reason=event.reason.value,
        revoked_at=event.occurred_at,
    )


@to_contract.register
def _sessions_revoked(event: sessions.SessionsRevoked) -> Event:
    return contracts.UserSessionsRevoked(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        user_id=event.user_id,
        session_ids=list(event.session_ids),
        reason=event.reason.value,
        revoked_at=event.occurred_at,
    )
