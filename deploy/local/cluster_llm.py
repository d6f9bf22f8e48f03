"""The local real model as a supervised process of the cluster (`make run LLM=local`).

llama-cpp-python's OpenAI-compatible server on the SmolLM2-135M GGUF that `make install`
installs (see shared.ai.local_server). orchestrator learns where it is from
ORCHESTRATOR_LOCAL_MODEL_URL and registers a model `local` from it.
"""

from __future__ import annotations

from cluster_config import LLM_PROCESS, ClusterConfig

from shared.ai.local_server import MODEL_ALIAS as MODEL_ALIAS  # re-exported for the supervisor
from shared.ai.local_server import base_url, server_command

LOCAL_MODEL_URL_ENV = "ORCHESTRATOR_LOCAL_MODEL_URL"
LOCAL_MODEL_NAME_ENV = "ORCHESTRATOR_LOCAL_MODEL_NAME"


def llm_command(config: ClusterConfig) -> list[str]:
    return server_command(port=config.llm_port)


def llm_url(config: ClusterConfig) -> str:
    """The OpenAI base URL (``.../v1``) orchestrator's `local` model talks to."""
    return base_url(config.llm_port)


def llm_ready_url(config: ClusterConfig) -> str:
    # the model list answers once the weights are loaded
    return f"{llm_url(config)}/models"


def llm_lines(config: ClusterConfig) -> list[str]:
    return [f"  {'local model':<13} {llm_url(config)} ({MODEL_ALIAS} on llama.cpp; process {LLM_PROCESS!r})"]
