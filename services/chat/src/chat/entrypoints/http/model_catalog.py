"""The model catalog as a request-scoped dependency (``models``), read from ``app.state``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from chat.application.ports.replicas import ModelCatalog

MODELS: Final = "chat_models"
"""``app.state`` key of the :class:`ModelCatalog` the bootstrap's resources open."""

ModelsDep: TypeAlias = NamedDependency[SkipValidation[ModelCatalog]]
"""``models``: the AI models use cases may call (chat's registry replica; provided by the bootstrap)."""


def _provide_models(state: State) -> ModelCatalog:
    catalog: ModelCatalog = state[MODELS]
    return catalog


def model_dependencies() -> Mapping[str, Provide]:
    return {"models": Provide(_provide_models, sync_to_thread=False)}
