"""Events published by orchestrator (stream ``ORCHESTRATOR``, subjects ``orchestrator.>``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

import msgspec

from shared.contracts.base import Event, union_decoder

STREAM = "ORCHESTRATOR"
SUBJECTS = "orchestrator.>"


class UserErased(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.user.erased.v1"):
    """orchestrator holds nothing of ``user_id`` any more: the receipt for an ``identity.user.deleted``.

    Published once per user, however often the deletion is delivered.
    """

    subject: ClassVar[str] = "orchestrator.user.erased"
    user_id: UUID
    erased_at: datetime
    cause_event_id: UUID
    """The ``event_id`` of the ``identity.user.deleted`` that asked for the erasure."""

    @property
    def subject_id(self) -> str:
        return str(self.user_id)


class PromptCreated(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.prompt.created.v1"):
    """A prompt version was written: version 1 starts a lineage, later ones are edits.

    The text is not carried (it can be long): read it at ``GET /api/v1/prompts/{prompt_id}``.
    """

    subject: ClassVar[str] = "orchestrator.prompt.created"
    prompt_id: UUID
    """The new version's own id."""
    lineage_id: UUID
    """The prompt's id (its version 1's): every version of it has the same."""
    project_id: UUID
    owner_id: UUID
    version: int
    parent_id: UUID | None = None
    """The version it was edited from (none for version 1)."""
    labels: tuple[str, ...] = ()
    """The labels pointing at it as it was created (version 1 gets ``current``)."""

    @property
    def subject_id(self) -> str:
        return str(self.lineage_id)


class PromptLabelMoved(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.prompt.label_moved.v1"):
    """A label of a prompt now points at another version (``version`` null: it was removed)."""

    subject: ClassVar[str] = "orchestrator.prompt.label_moved"
    lineage_id: UUID
    project_id: UUID
    owner_id: UUID
    label: str
    version: int | None = None
    previous_version: int | None = None

    @property
    def subject_id(self) -> str:
        return str(self.lineage_id)


class PromptDeleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.prompt.deleted.v1"):
    """A prompt and every version of it were deleted."""

    subject: ClassVar[str] = "orchestrator.prompt.deleted"
    lineage_id: UUID
    project_id: UUID
    owner_id: UUID

    @property
    def subject_id(self) -> str:
        return str(self.lineage_id)


class InterviewCompleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.interview.completed.v1"):
    """A requirements interview completed: the model judged the requirements covered, or its
    owner asked to finish. Counts only; the transcript and summary stay in orchestrator."""

    subject: ClassVar[str] = "orchestrator.interview.completed"
    interview_id: UUID
    project_id: UUID
    owner_id: UUID
    finished_by: str
    """``model`` (judged covered) or ``user`` (asked to finish)."""
    questions: int
    answers: int
    covered_areas: int
    open_questions: int

    @property
    def subject_id(self) -> str:
        return str(self.interview_id)


class InterviewCreated(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.interview.created.v1"):
    """A requirements interview was started on a project (pending: no question asked yet)."""

    subject: ClassVar[str] = "orchestrator.interview.created"
    interview_id: UUID
    project_id: UUID
    owner_id: UUID

    @property
    def subject_id(self) -> str:
        return str(self.interview_id)


class InterviewCancelled(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.interview.cancelled.v1"):
    """An interview was cancelled by its owner: final, it takes no further question or answer."""

    subject: ClassVar[str] = "orchestrator.interview.cancelled"
    interview_id: UUID
    project_id: UUID
    owner_id: UUID
    questions: int
    answers: int

    @property
    def subject_id(self) -> str:
        return str(self.interview_id)


class InterviewDeleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.interview.deleted.v1"):
    """An interview was deleted (``status``: what it was); prompts generated from it stay."""

    subject: ClassVar[str] = "orchestrator.interview.deleted"
    interview_id: UUID
    project_id: UUID
    owner_id: UUID
    status: str

    @property
    def subject_id(self) -> str:
        return str(self.interview_id)


class AIModelChanged(Event, frozen=True, kw_only=True):
    """A model of the registry as it is now: every field a replica (chat's) keeps."""

    model_id: UUID
    name: str
    """What admins and users pick it by (unique)."""
    provider: str
    """openai, ollama, offline or local; more may come."""
    base_url: str | None
    model: str
    """Its name at the provider."""
    parameters: dict[str, Any]
    """Default request parameters (temperature, max_tokens...)."""
    enabled: bool
    is_default: bool
    api_key_hint: str | None
    """The key masked (``sk-…abcd``), for display."""
    sealed_api_key: str | None
    """The key sealed with AES-256-GCM under the seal key only the services that call models hold
    (``AIORCH_MODEL_SEAL_KEY_FILE``), associated data the model id: ``v1:<seal key id>:<base64url
    of nonce and ciphertext>``; ``None`` without a key. Never the key in plaintext."""

    @property
    def subject_id(self) -> str:
        return str(self.model_id)


class AIModelCreated(
    AIModelChanged, frozen=True, kw_only=True, tag="aiorch.orchestrator.ai_model.created.v1"
):
    subject: ClassVar[str] = "orchestrator.ai_model.created"


class AIModelUpdated(
    AIModelChanged, frozen=True, kw_only=True, tag="aiorch.orchestrator.ai_model.updated.v1"
):
    subject: ClassVar[str] = "orchestrator.ai_model.updated"


class AIModelDeleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.ai_model.deleted.v1"):
    subject: ClassVar[str] = "orchestrator.ai_model.deleted"
    model_id: UUID
    name: str

    @property
    def subject_id(self) -> str:
        return str(self.model_id)


SettingValue = int | float | bool | str | None


class SettingChanged(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    old: SettingValue
    new: SettingValue


class SettingsChanged(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.settings.changed.v1"):
    """An admin changed system settings (all in one change): names, old and new values.

    Settings are never secrets, so admin-only values travel too.
    """

    subject: ClassVar[str] = "orchestrator.settings.changed"
    actor_id: UUID
    changes: list[SettingChanged]

    @property
    def subject_id(self) -> str:
        return "settings"


class CommitRecorded(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.commit.recorded.v1"):
    """A conventional commit was recorded on a project (its message is not carried: read the commit)."""

    subject: ClassVar[str] = "orchestrator.commit.recorded"
    commit_id: UUID
    project_id: UUID
    owner_id: UUID
    task_id: UUID | None = None
    sha: str
    commit_type: str
    """The conventional type (``feat``, ``fix``...)."""
    scope: str | None = None
    breaking: bool = False

    @property
    def subject_id(self) -> str:
        return str(self.commit_id)


class CommitDeleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.commit.deleted.v1"):
    """A recorded commit was removed from its project's history."""

    subject: ClassVar[str] = "orchestrator.commit.deleted"
    commit_id: UUID
    project_id: UUID
    owner_id: UUID
    sha: str

    @property
    def subject_id(self) -> str:
        return str(self.commit_id)


class ProjectCreated(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.project.created.v1"):
    """A project was created (active, empty)."""

    subject: ClassVar[str] = "orchestrator.project.created"
    project_id: UUID
    owner_id: UUID
    name: str

    @property
    def subject_id(self) -> str:
        return str(self.project_id)


class ProjectUpdated(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.project.updated.v1"):
    """A project was renamed, redescribed, archived or unarchived: its name and status now."""

    subject: ClassVar[str] = "orchestrator.project.updated"
    project_id: UUID
    owner_id: UUID
    name: str
    status: Literal["active", "archived"]

    @property
    def subject_id(self) -> str:
        return str(self.project_id)


class ProjectDeleted(Event, frozen=True, kw_only=True, tag="aiorch.orchestrator.project.deleted.v1"):
    """A project was deleted, and with it everything it held (tasks, prompts...)."""

    subject: ClassVar[str] = "orchestrator.project.deleted"
    project_id: UUID
    owner_id: UUID

    @property
    def subject_id(self) -> str:
        return str(self.project_id)


class _TaskEvent(Event, frozen=True, kw_only=True):
    """A task's board coordinates after the change; never its text (read the task for it)."""

    task_id: UUID
    project_id: UUID
    owner_id: UUID
    status: Literal["backlog", "todo", "in_progress", "review", "done"]
    """The board column."""
    position: str
    """The ordering key in the column (bytewise order)."""
    version: int
    """The task's version after the change (its ETag)."""

    @property
    def subject_id(self) -> str:
        return str(self.task_id)


class TaskCreated(_TaskEvent, frozen=True, kw_only=True, tag="aiorch.orchestrator.task.created.v1"):
    """A task was added to a board (by hand or generated from a prompt)."""

    subject: ClassVar[str] = "orchestrator.task.created"


class TaskUpdated(_TaskEvent, frozen=True, kw_only=True, tag="aiorch.orchestrator.task.updated.v1"):
    """Some of a task's fields changed (``fields`` names them)."""

    subject: ClassVar[str] = "orchestrator.task.updated"
    fields: tuple[str, ...] = ()


class TaskMoved(_TaskEvent, frozen=True, kw_only=True, tag="aiorch.orchestrator.task.moved.v1"):
    """A task moved on the board: to another column (``from_status``) or within its own."""

    subject: ClassVar[str] = "orchestrator.task.moved"
    from_status: Literal["backlog", "todo", "in_progress", "review", "done"]


class TaskDeleted(_TaskEvent, frozen=True, kw_only=True, tag="aiorch.orchestrator.task.deleted.v1"):
    """A task was deleted (its coordinates as they were)."""

    subject: ClassVar[str] = "orchestrator.task.deleted"


OrchestratorEvent = (
    UserErased
    | ProjectCreated
    | ProjectUpdated
    | ProjectDeleted
    | TaskCreated
    | TaskUpdated
    | TaskMoved
    | TaskDeleted
    | AIModelCreated
    | AIModelUpdated
    | AIModelDeleted
    | SettingsChanged
    | PromptCreated
    | PromptLabelMoved
    | PromptDeleted
    | InterviewCompleted
    | InterviewCreated
    | InterviewCancelled
    | InterviewDeleted
    | CommitRecorded
    | CommitDeleted
)
decoder = union_decoder(
    UserErased,
    ProjectCreated,
    ProjectUpdated,
    ProjectDeleted,
    TaskCreated,
    TaskUpdated,
    TaskMoved,
    TaskDeleted,
    AIModelCreated,
    AIModelUpdated,
    AIModelDeleted,
    SettingsChanged,
    PromptCreated,
    PromptLabelMoved,
    PromptDeleted,
    InterviewCompleted,
    InterviewCreated,
    InterviewCancelled,
    InterviewDeleted,
    CommitRecorded,
    CommitDeleted,
)
