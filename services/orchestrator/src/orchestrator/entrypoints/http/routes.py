"""Every controller orchestrator serves (projects, tasks and the rest arrive with their issues)."""

from litestar.types import ControllerRouterHandler

from orchestrator.entrypoints.http.ai_models import AIModelsController
from orchestrator.entrypoints.http.board import BoardController
from orchestrator.entrypoints.http.board_events import board_events
from orchestrator.entrypoints.http.chat_sessions import project_chat_sessions, task_chat_sessions
from orchestrator.entrypoints.http.commits import (
    CommitMessagesController,
    ProjectCommitsController,
    list_task_commits,
)
from orchestrator.entrypoints.http.interviews import InterviewsController, ProjectInterviewsController
from orchestrator.entrypoints.http.projects import ProjectsController
from orchestrator.entrypoints.http.prompts import ProjectPromptsController, PromptsController
from orchestrator.entrypoints.http.settings import SettingsController
from orchestrator.entrypoints.http.tasks import TasksController
from shared.http.whoami import whoami

API_PREFIX = "/api/v1"


def route_handlers() -> list[ControllerRouterHandler]:
    return [
        whoami,
        AIModelsController,
        SettingsController,
        ProjectsController,
        ProjectInterviewsController,
        InterviewsController,
        ProjectPromptsController,
        PromptsController,
        BoardController,
        TasksController,
        CommitMessagesController,
        ProjectCommitsController,
        list_task_commits,
        project_chat_sessions,
        task_chat_sessions,
        board_events,
    ]
