"""JetStream streams, created or updated idempotently at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DAY = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_s: float = 30 * DAY
    max_bytes: int = 1024**3
    duplicate_window_s: float = 120.0
    replicas: int = 1
    storage: StorageType = StorageType.FILE
    max_msgs_per_subject: int = -1
    """Messages kept per subject (oldest dropped first); ``-1``: no limit."""

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=self.storage,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_s,
            max_bytes=self.max_bytes,
            duplicate_window=self.duplicate_window_s,
            num_replicas=self.replicas,
            max_msgs_per_subject=self.max_msgs_per_subject,
        )


def context_stream(context: str, *, replicas: int = 1) -> StreamSpec:
    """One stream per publishing context: ``IDENTITY`` on ``identity.>``."""
    return StreamSpec(name=context.upper(), subjects=(f"{context}.>",), replicas=replicas)


DEAD_LETTER = StreamSpec(name="DEADLETTER", subjects=("deadletter.>",), max_age_s=90 * DAY)


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    config = spec.config()
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    current = info.config
    if (
        sorted(current.subjects or []) != sorted(config.subjects or [])
        or current.max_age != config.max_age
        or current.max_bytes != config.max_bytes
        or current.duplicate_window != config.duplicate_window
        or (current.num_replicas or 1) != config.num_replicas
        or (current.max_msgs_per_subject or -1) != config.max_msgs_per_subject
    ):
        await js.update_stream(config)
