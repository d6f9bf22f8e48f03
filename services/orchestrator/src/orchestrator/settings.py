"""orchestrator's settings, from ``ORCHESTRATOR_*`` environment variables.

The fields every service has, with their shared fallbacks (``DATABASE_URL``...),
are in ``shared.service_settings``; orchestrator adds its own port, and verifies access tokens.
"""

from typing import Annotated, Final

import msgspec

from shared.service_settings import Port, Positive, TokenVerifyingSettings

DEFAULT_MODEL_KEYS_FILE: Final = ".cluster/orchestrator-keys/model-keys.json"
DEFAULT_SEAL_KEY_FILE: Final = ".cluster/model-seal-key.json"


class Settings(TokenVerifyingSettings, kw_only=True, frozen=True):
    http_port: Port = 8003
    """Port orchestrator's API listens on (``ORCHESTRATOR_HTTP_PORT``)."""

    db_read_pool_size: Positive = 32
    """Connections of the API process's raw read pool, which serves the board
    (``ORCHESTRATOR_DB_READ_POOL_SIZE``): as many as the board reads it answers at once."""

    model_keys_file: str = DEFAULT_MODEL_KEYS_FILE
    """The AES-256 keys that encrypt AI-model API keys at rest (``ORCHESTRATOR_MODEL_KEYS_FILE``):
    JSON ``{"current": id, "keys": {id: base64 of 32 bytes}}``, mode 0600; generated on first
    start when absent. Only orchestrator holds it."""

    model_seal_key_file: str = DEFAULT_SEAL_KEY_FILE
    """The key that seals API keys in ``orchestrator.ai_model.*`` events for the services that call
    models (``ORCHESTRATOR_MODEL_SEAL_KEY_FILE``, else ``AIORCH_MODEL_SEAL_KEY_FILE``, shared with
    chat); same format, generated on first start when absent."""

    offline_pace_ms: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    """Milliseconds the built-in offline model waits between streamed tokens
    (``ORCHESTRATOR_OFFLINE_PACE_MS``): 0 in tests, ~15 for a person watching ``make run``."""

    local_model_url: str | None = None
    """The local llama.cpp server's OpenAI-compatible base URL (``ORCHESTRATOR_LOCAL_MODEL_URL``,
    ``make run LLM=local``); when set, the API registers (or updates) an enabled model named
    ``local`` with provider ``local`` at this URL when it starts."""

    local_model_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "smollm2-135m"
    """The model name requests to the local server carry (``ORCHESTRATOR_LOCAL_MODEL_NAME``)."""
