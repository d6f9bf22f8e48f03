"""Domain events → public contracts (``shared.contracts.chat``).

The one place that knows both, so refactoring the domain never breaks a consumer.
Each contract gets a fresh event id here, once, as the unit of work stages it in the
outbox. Each new domain event registers its contract with ``@to_contract.register``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch

from chat.domain.conversations import (
    ConversationCreated,
    ConversationDeleted,
    ConversationEvent,
    ConversationUpdated,
)
from chat.domain.events import Recorded
from chat.domain.messages import MessageCompleted
from shared.contracts import chat as contracts
from shared.contracts.base import Event
from shared.kernel.erasure import UserErased
from shared.kernel.ids import new_id


@singledispatch
def to_contract(event: Recorded) -> Event:
    raise TypeError(f"no public contract for {type(event).__name__}: register one in {__name__}")


@to_contract.register
def _user_erased(event: UserErased) -> Event:
    return contracts.UserErased(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        user_id=event.user_id,
        erased_at=event.erased_at,
        cause_event_id=event.cause_event_id,
    )


@to_contract.register
def _message_completed(event: MessageCompleted) -> Event:
    if event.status not in ("completed", "stopped", "failed"):
        raise ValueError(f"a reply cannot complete as {event.status!r}")
    return contracts.MessageCompleted(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        message_id=event.message_id,
        conversation_id=event.conversation_id,
        owner_id=event.owner_id,
        model_id=event.model_id,
        status=event.status,
        prompt_tokens=event.prompt_tokens,
        completion_tokens=event.completion_tokens,
    )


_CONVERSATION_CONTRACTS: dict[type[ConversationEvent], Callable[..., Event]] = {
    ConversationCreated: contracts.ConversationCreated,
    ConversationUpdated: contracts.ConversationUpdated,
    ConversationDeleted: contracts.ConversationDeleted,
}


@to_contract.register(ConversationCreated)
@to_contract.register(ConversationUpdated)
@to_contract.register(ConversationDeleted)
def _conversation(event: ConversationEvent) -> Event:
    """The three share one shape: the conversation as it is after the change."""
    return _CONVERSATION_CONTRACTS[type(event)](
        event_id=new_id(),
        occurred_at=event.occurred_at,
        conversation_id=event.conversation_id,
        owner_id=event.owner_id,
        title=event.title,
        project_id=event.project_id,
        task_id=event.task_id,
        created_at=event.created_at,
        updated_at=event.occurred_at,
    )
