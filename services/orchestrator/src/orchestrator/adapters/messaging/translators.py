"""Domain events → public contracts (``shared.contracts.orchestrator``).

The one place that knows both, so refactoring the domain never breaks a consumer.
Each contract gets a fresh event id here, once, as the unit of work stages it in the
outbox. Each new domain event registers its contract with ``@to_contract.register``.
"""

from __future__ import annotations

from functools import singledispatch

from orchestrator.domain import ai_models, settings
from orchestrator.domain import interviews as interview_events
from orchestrator.domain import projects as project_events
from orchestrator.domain import tasks as task_events
from orchestrator.domain.commits import CommitDeleted, CommitRecorded
from orchestrator.domain.events import Recorded
from orchestrator.domain.interviews import InterviewCompleted
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
def _project_created(event: project_events.ProjectCreated) -> Event:
    return contracts.ProjectCreated(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        project_id=event.project_id,
        owner_id=event.owner_id,
        name=event.name,
    )


@to_contract.register
def _project_updated(event: project_events.ProjectUpdated) -> Event:
    return contracts.ProjectUpdated(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        project_id=event.project_id,
        owner_id=event.owner_id,
        name=event.name,
        status=event.status,
    )


@to_contract.register
def _project_deleted(event: project_events.ProjectDeleted) -> Event:
    return contracts.ProjectDeleted(
        event_id=new_id(), occurred_at=event.occurred_at, project_id=event.project_id, owner_id=event.owner_id
    )


def _task_fields(event: task_events.TaskEvent) -> dict[str, object]:
    return {
        "event_id": new_id(),
        "occurred_at": event.occurred_at,
        "task_id": event.task_id,
        "project_id": event.project_id,
        "owner_id": event.owner_id,
        "status": event.status,
        "position": event.position,
        "version": event.version,
    }


@to_contract.register
def _task_created(event: task_events.TaskCreated) -> Event:
    return contracts.TaskCreated(**_task_fields(event))  # type: ignore[arg-type]


@to_contract.register
def _task_updated(event: task_events.TaskUpdated) -> Event:
    return contracts.TaskUpdated(**_task_fields(event), fields=event.fields)  # type: ignore[arg-type]


@to_contract.register
def _task_moved(event: task_events.TaskMoved) -> Event:
    return contracts.TaskMoved(**_task_fields(event), from_status=event.from_status)  # type: ignore[arg-type]


@to_contract.register
def _task_deleted(event: task_events.TaskDeleted) -> Event:
    return contracts.TaskDeleted(**_task_fields(event))  # type: ignore[arg-type]


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


def _ai_model_fields(event: ai_models.AIModelChanged) -> dict[str, object]:
    # the key is already sealed (by the vault, through the use case): this only passes it on
    return {
        "event_id": new_id(),
        "occurred_at": event.occurred_at,
        "model_id": event.model_id,
        "name": event.name,
        "provider": event.provider,
        "base_url": event.base_url,
        "model": event.model,
        "parameters": dict(event.parameters),
        "enabled": event.enabled,
        "is_default": event.is_default,
        "api_key_hint": event.api_key_hint,
        "sealed_api_key": event.sealed_api_key.text if event.sealed_api_key else None,
    }


@to_contract.register
def _ai_model_created(event: ai_models.AIModelCreated) -> Event:
    return contracts.AIModelCreated(**_ai_model_fields(event))  # type: ignore[arg-type]


@to_contract.register
def _ai_model_updated(event: ai_models.AIModelUpdated) -> Event:
    return contracts.AIModelUpdated(**_ai_model_fields(event))  # type: ignore[arg-type]


@to_contract.register
def _ai_model_deleted(event: ai_models.AIModelDeleted) -> Event:
    return contracts.AIModelDeleted(
        event_id=new_id(), occurred_at=event.occurred_at, model_id=event.model_id, name=event.name
    )


@to_contract.register
def _settings_changed(event: settings.SettingsChanged) -> Event:
    return contracts.SettingsChanged(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        changes=[contracts.SettingChanged(name=c.name, old=c.old, new=c.new) for c in event.changes],
    )


@to_contract.register
def _commit_recorded(event: CommitRecorded) -> Event:
    return contracts.CommitRecorded(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        commit_id=event.commit_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        task_id=event.task_id,
        sha=event.sha,
        commit_type=event.type,
        scope=event.scope,
        breaking=event.breaking,
    )


@to_contract.register
def _commit_deleted(event: CommitDeleted) -> Event:
    return contracts.CommitDeleted(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        commit_id=event.commit_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        sha=event.sha,
    )


@to_contract.register
def _interview_completed(event: InterviewCompleted) -> Event:
    return contracts.InterviewCompleted(
        event_id=new_id(),
        occurred_at=event.occurred_at,
        interview_id=event.interview_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        finished_by=event.finished_by,
        questions=event.questions,
        answers=event.answers,
        covered_areas=event.covered_areas,
        open_questions=event.open_questions,
    )


def _interview_fields(event: interview_events.InterviewEvent) -> dict[str, object]:
    return {
        "event_id": new_id(),
        "occurred_at": event.occurred_at,
        "interview_id": event.interview_id,
        "project_id": event.project_id,
        "owner_id": event.owner_id,
    }


@to_contract.register
def _interview_created(event: interview_events.InterviewCreated) -> Event:
    return contracts.InterviewCreated(**_interview_fields(event))  # type: ignore[arg-type]


@to_contract.register
def _interview_cancelled(event: interview_events.InterviewCancelled) -> Event:
    return contracts.InterviewCancelled(
        **_interview_fields(event),  # type: ignore[arg-type]
        questions=event.questions,
        answers=event.answers,
    )


@to_contract.register
def _interview_deleted(event: interview_events.InterviewDeleted) -> Event:
    return contracts.InterviewDeleted(**_interview_fields(event), status=event.status)  # type: ignore[arg-type]
