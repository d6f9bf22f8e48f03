"""The system settings chat obeys, as chat's settings replica knows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final
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


SETTING_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "default_model_id": "default_model_id",
        "chat.budget.messages_per_window": "messages_per_window",
        "chat.budget.tokens_per_window": "tokens_per_window",
        "chat.budget.window_seconds": "window_seconds",
        "chat.max_message_chars": "max_message_chars",
        "chat.attachments.max_image_bytes": "max_image_bytes",
        "chat.attachments.max_audio_bytes": "max_audio_bytes",
        "chat.attachments.max_document_bytes": "max_document_bytes",
        "chat.attachments.max_bytes_per_user": "max_bytes_per_user",
        "ai.request_timeout_s": "request_timeout_s",
        "ai.max_output_tokens": "max_output_tokens",
    }
)
"""Orchestrator's setting name → the :class:`ChatLimits` field it sets. Only these are replicated."""


def limits_from(values: Mapping[str, object]) -> ChatLimits:
    """The limits the replicated ``values`` (setting name → JSON value) state.

    A value of the wrong shape keeps its default rather than failing every chat request:
    orchestrator validated it when it was set, so such a value only comes from a future
    change of the setting's type, which this version of chat cannot read anyway.
    """
    chosen: dict[str, object] = {}
    for name, value in values.items():
        field = SETTING_FIELDS.get(name)
        if field is None:
            continue
        if field == "default_model_id":
            chosen[field] = _uuid(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            chosen[field] = int(value)
    return ChatLimits(**chosen)  # type: ignore[arg-type]


def _uuid(value: object) -> UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None
