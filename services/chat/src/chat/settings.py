"""chat's settings, from ``CHAT_*`` environment variables.

The fields every service has, with their shared fallbacks (``DATABASE_URL``...),
are in ``shared.service_settings``; chat adds its own port, and verifies access tokens.
"""

from typing import Annotated, Final

import msgspec

from shared.service_settings import Port, Positive, TokenVerifyingSettings

DEFAULT_SEAL_KEY_FILE: Final = ".cluster/model-seal-key.json"


class Settings(TokenVerifyingSettings, kw_only=True, frozen=True):
    http_port: Port = 8002
    """Port chat's API listens on (``CHAT_HTTP_PORT``)."""

    db_read_pool_size: Positive = 16
    """Connections of the API process's raw read pool, which serves search
    (``CHAT_DB_READ_POOL_SIZE``): as many as the searches it answers at once."""

    model_seal_key_file: str = DEFAULT_SEAL_KEY_FILE
    """The key that unseals the API keys in ``orchestrator.ai_model.*`` events (``CHAT_MODEL_SEAL_KEY_FILE``,
    else ``AIORCH_MODEL_SEAL_KEY_FILE``, shared with orchestrator): JSON ``{"current": id, "keys":
    {id: base64 of 32 bytes}}``, mode 0600. The replica keeps keys sealed; they are unsealed only
    to call a model."""

    offline_pace_ms: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    """Milliseconds the built-in offline model waits between streamed tokens
    (``CHAT_OFFLINE_PACE_MS``): 0 in tests, ~15 for a person watching ``make run``."""

    offline_min_reply_tokens: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    """The built-in offline model's replies go on with filler to at least this many tokens
    (``CHAT_OFFLINE_MIN_REPLY_TOKENS``): 0 normally; ``make bench`` asks for long replies, so that
    its 500 streams stream at once instead of measuring how fast short ones are posted."""

    model_cache_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 1000
    """How long the model catalog reuses what it read of the registry and settings replicas
    (``CHAT_MODEL_CACHE_MS``): a change reaches requests this much later at most; 0 reads every time."""

    blob_dir: str = ".cluster/chat-blobs"
    """Where attachments' bytes are kept (``CHAT_BLOB_DIR``): ``<blob_dir>/<owner id>/<aa>/<sha256>``,
    directories mode 0700, files 0600. Every API process and the worker must see the same
    directory (a shared volume when they run on several machines)."""

    blob_sweep_every_s: Annotated[int, msgspec.Meta(ge=1, le=86_400)] = 300
    """Seconds between the worker's full sweeps of blobs no attachment names any more (deleted
    with their message or conversation) (``CHAT_BLOB_SWEEP_EVERY_S``): it lists every owner's blobs."""

    erased_blobs_sweep_every_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 3
    """Seconds between the worker's sweeps of owners with blobs but no attachment left, an erased
    user's say (``CHAT_ERASED_BLOBS_SWEEP_EVERY_S``): one directory listing and one query a round."""
