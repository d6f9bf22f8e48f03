"""orchestrator's unit of work: the shared transaction and outbox staging (``shared.db.unit_of_work``),
with orchestrator's repositories on its connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.ai_models import SqlAlchemyAIModelRepository
from orchestrator.adapters.postgres.chat_sessions import SqlAlchemyChatSessionRepository
from orchestrator.adapters.postgres.commits import SqlAlchemyCommitRepository, SqlAlchemyTaskLinks
from orchestrator.adapters.postgres.interviews import SqlAlchemyInterviewRepository
from orchestrator.adapters.postgres.projects import SqlAlchemyProjectRepository
from orchestrator.adapters.postgres.prompts import SqlAlchemyPromptRepository
from orchestrator.adapters.postgres.settings import SqlAlchemySettingsRepository
from orchestrator.adapters.postgres.tasks import SqlAlchemyTaskRepository
from orchestrator.application.ports import (
    AIModelRepository,
    ChatSessionRepository,
    CommitRepository,
    InterviewRepository,
    ProjectRepository,
    PromptRepository,
    SettingsRepository,
    TaskLinks,
    TaskRepository,
)
from orchestrator.domain.events import Recorded
from shared.db import unit_of_work
from shared.erasure.ledger import SqlAlchemyErasureLedger
from shared.kernel.erasure import ErasureLedger


class SqlAlchemyUnitOfWork(unit_of_work.SqlAlchemyUnitOfWork[Recorded]):
    erasures: ErasureLedger
    ai_models: AIModelRepository
    settings: SettingsRepository
    projects: ProjectRepository
    tasks: TaskRepository
    commits: CommitRepository
    chat_sessions: ChatSessionRepository
    task_links: TaskLinks
    prompts: PromptRepository
    interviews: InterviewRepository

    def attach_repositories(self, conn: AsyncConnection) -> None:
        self.erasures = SqlAlchemyErasureLedger(conn, self.seen)
        self.ai_models = SqlAlchemyAIModelRepository(conn, self.seen)
        self.settings = SqlAlchemySettingsRepository(conn, self.seen)
        self.projects = SqlAlchemyProjectRepository(conn, self.seen)
        self.tasks = SqlAlchemyTaskRepository(conn, self.seen)
        self.commits = SqlAlchemyCommitRepository(conn, self.seen)
        self.chat_sessions = SqlAlchemyChatSessionRepository(conn)
        self.task_links = SqlAlchemyTaskLinks(conn)
        self.prompts = SqlAlchemyPromptRepository(conn, self.seen)
        self.interviews = SqlAlchemyInterviewRepository(conn, self.seen)
