"""Every controller orchestrator serves (projects, tasks and the rest arrive with their issues)."""

from litestar.types import ControllerRouterHandler

from orchestrator.entrypoints.http.ai_models import AIModelsController
from orchestrator.entrypoints.http.settings import SettingsController
from shared.http.whoami import whoami

API_PREFIX = "/api/v1"


def route_handlers() -> list[ControllerRouterHandler]:
    return [whoami, AIModelsController, SettingsController]
