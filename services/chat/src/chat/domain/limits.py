"""The system settings chat obeys, as chat's settings replica knows them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatLimits:
    """Chat's view of the system settings; each default equals orchestrator's registry default.

    A setting chat has never heard of (no ``orchestrator.settings.changed`` yet) keeps
    its default here, so a fresh chat behaves as a fresh orchestrator says it should.
    """

    default_model_id: UUID | None = None
    messages_per_window: int = 200
    tokens_per_window: int = 200_000
    window_seconds: int = 86_400
    max_message_chars: int = 32_000
    max_image_bytes: int = 10_485_760
    max_audio_bytes: int = 26_214_400
    max_document_bytes: int = 10_485_760
    max_bytes_per_user: int = 524_288_000
    request_timeout_s: int = 120
    max_output_tokens: int = 2_048
