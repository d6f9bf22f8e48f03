"""A registry entry made callable: the ``shared.ai`` adapter its provider speaks, with its defaults."""

from __future__ import annotations

from typing import Any

from orchestrator.domain.ai_models import AIModel
from shared.ai.factory import ModelConfig
from shared.kernel.ai import Parameters, Timeouts


def default_parameters(parameters: dict[str, Any], *, max_tokens: int | None = None) -> Parameters:
    """The registry's ``parameters`` (validated when set) as the port's defaults for every request;
    ``max_tokens`` (the settings' cap) applies unless the model's own is lower."""
    own = parameters.get("max_tokens")
    return Parameters(
        temperature=parameters.get("temperature"),
        top_p=parameters.get("top_p"),
        max_tokens=min(own, max_tokens) if own is not None and max_tokens is not None else own or max_tokens,
        stop=tuple(parameters.get("stop") or ()),
        seed=parameters.get("seed"),
    )


def model_config(
    model: AIModel, *, api_key: str | None, timeouts: Timeouts, max_tokens: int | None = None
) -> ModelConfig:
    """What ``shared.ai.factory.build_model`` needs; it holds the plaintext key, so it lives only
    for the call being built (never stored, never logged: its repr leaves the key out)."""
    return ModelConfig(
        provider=model.provider,
        model=model.model,
        base_url=model.base_url,
        api_key=api_key,
        parameters=default_parameters(model.parameters, max_tokens=max_tokens),
        timeouts=timeouts,
        name=model.name,
    )
