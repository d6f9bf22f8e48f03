"""Request-scoped dependencies of orchestrator's handlers, read from what the lifespan put on ``app.state``.

``uow`` and ``principal`` come from ``shared.bootstrap``; these add orchestrator's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from orchestrator.application.ports import ModelCatalog, UnitOfWork
from orchestrator.application.ports.ai_models import ApiKeyVault, ModelConnector
from orchestrator.application.ports.board import BoardEvents
from orchestrator.application.ports.tasks import BoardReader, TaskPlanFormat

MODELS: Final = "orchestrator_models"
"""``app.state`` key of the :class:`ModelCatalog` the bootstrap's resources open."""
VAULT: Final = "orchestrator_key_vault"
"""``app.state`` key of the :class:`ApiKeyVault` (API keys encrypted at rest, sealed for events)."""

# Handler parameter annotations; the parameter's name is the dependency's key. Ports are
# Protocols, which Litestar cannot check instances against: their values skip validation.
UnitOfWorkDep: TypeAlias = NamedDependency[SkipValidation[UnitOfWork]]
"""``uow``: the request's unit of work (``shared.bootstrap``)."""
ModelsDep: TypeAlias = NamedDependency[SkipValidation[ModelCatalog]]
"""``models``: the AI models use cases may call."""
ConnectorDep: TypeAlias = NamedDependency[SkipValidation[ModelConnector]]
"""``connector``: any registry entry made callable (the model catalog too), for an admin's check."""
VaultDep: TypeAlias = NamedDependency[SkipValidation[ApiKeyVault]]
"""``vault``: encrypts and seals AI-model API keys."""
TaskPlansDep: TypeAlias = NamedDependency[SkipValidation[TaskPlanFormat]]
"""``task_plans``: how a task plan is asked of a model and read (provided by the bootstrap)."""
BoardReaderDep: TypeAlias = NamedDependency[SkipValidation[BoardReader]]
"""``board_reader``: the board as last committed, read outside a transaction (provided by the bootstrap)."""
BoardDep: TypeAlias = NamedDependency[SkipValidation[BoardEvents]]
"""``board``: a project's published events, live (provided by the bootstrap on the app's NATS)."""


def _from_state(key: str) -> Provide:
    def provide(state: State) -> Any:
        return state[key]

    return Provide(provide, sync_to_thread=False)


def dependencies() -> Mapping[str, Provide]:
    return {
        "models": _from_state(MODELS),
        "connector": _from_state(MODELS),
        "vault": _from_state(VAULT),
    }
