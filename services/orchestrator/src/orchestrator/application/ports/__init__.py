"""The ports orchestrator's use cases depend on; adapters implement them.

One module per role; the unit of work below gathers the repositories.
"""

from __future__ import annotations

from typing import Protocol

from orchestrator.application.ports.ai import ModelCatalog, ResolvedModel
from orchestrator.application.ports.ai_models import AIModelRepository
from orchestrator.application.ports.chat_sessions import ChatSessionRepository
from orchestrator.application.ports.commits import CommitRepository, TaskLinks
from orchestrator.application.ports.interviews import InterviewRepository
from orchestrator.application.ports.projects import ProjectRepository
from orchestrator.application.ports.prompts import PromptRepository
from orchestrator.application.ports.settings import SettingsRepository
from orchestrator.application.ports.tasks import TaskRepository
from shared.kernel import unit_of_work
from shared.kernel.erasure import ErasureLedger

__all__ = [
    "AIModelRepository",
    "ChatSessionRepository",
    "CommitRepository",
    "InterviewRepository",
    "ModelCatalog",
    "ProjectRepository",
    "PromptRepository",
    "ResolvedModel",
    "SettingsRepository",
    "TaskLinks",
    "TaskRepository",
    "UnitOfWork",
]


class UnitOfWork(unit_of_work.UnitOfWork, Protocol):
    """orchestrator's transaction (see ``shared.kernel.unit_of_work``) and its repositories.

    ``erasures`` is the shared erasure ledger (``shared.kernel.erasure``), so this is
    also the unit of work ``erase_user`` needs.
    """

    erasures: ErasureLedger
    settings: SettingsRepository
    ai_models: AIModelRepository
    projects: ProjectRepository
    tasks: TaskRepository
    commits: CommitRepository
    chat_sessions: ChatSessionRepository
    task_links: TaskLinks
    prompts: PromptRepository
    interviews: InterviewRepository
