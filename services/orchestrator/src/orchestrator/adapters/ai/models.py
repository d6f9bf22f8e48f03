"""A registry entry made callable: the ``shared.ai`` adapter its provider speaks, with its defaults."""

from __future__ import annotations

from typing import Any

from orchestrator.domain.ai_models import AIModel
from shared.ai.factory import ModelConfig
from shared.kernel.ai import Parameters, Timeouts


def default_parameters(parameters: dict[str, Any]) -> Parameters:
    """The registry's ``parameters`` (validated when set) as the port's defaults for every request."""
    return Parameters(
        temperature=parameters.get("temperature"),
        top_p=parameters.get("top_p"),
        max_tokens=parameters.get("max_tokens"),
        stop=tuple(parameters.get("stop") or ()),
        seed=parameters.get("seed"),
    )


def model_config(model: AIModel, *, api_key: str | None, timeouts: Timeouts) -> ModelConfig:
    """What ``shared.ai.factory.build_model`` needs; it holds the plaintext key, so it lives only
    for the call being built (never stored, never logged: its repr leaves the key out)."""
    return ModelConfig(
        provider=model.provider,
        model=model.model,
        base_url=model.base_url,
        api_key=api_key,
        parameters=default_parameters(model.parameters),
        timeouts=timeouts,
        name=model.name,
    )
