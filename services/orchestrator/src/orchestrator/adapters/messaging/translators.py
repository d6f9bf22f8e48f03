"""Domain events → public contracts (``shared.contracts.orchestrator``).

The one place that knows both, so refactoring the domain never breaks a consumer.
Each contract gets a fresh event id here, once, as the unit of work stages it in the
outbox. Each new domain event registers its contract with ``@to_contract.register``.
"""

from __future__ import annotations

from functools import singledispatch

from orchestrator.domain.events import Recorded
from orchestrator.domain.prompts import PromptCreated, PromptDeleted, PromptLabelMoved
from shared.contracts import orchestrator as contracts
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
def _prompt_created(event: PromptCreated) -> Event:
    return contracts.PromptCreated(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        prompt_id=event.prompt_id,
        lineage_id=event.lineage_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        version=event.version,
        parent_id=event.parent_id,
        labels=event.labels,
    )


@to_contract.register
def _prompt_label_moved(event: PromptLabelMoved) -> Event:
    return contracts.PromptLabelMoved(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        lineage_id=event.lineage_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        label=event.label,
        version=event.version,
        previous_version=event.previous_version,
    )


@to_contract.register
def _prompt_deleted(event: PromptDeleted) -> Event:
    return contracts.PromptDeleted(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        lineage_id=event.lineage_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
    )
