"""Request and response bodies of ``/attachments``, and the download's headers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from urllib.parse import quote
from uuid import UUID

import msgspec

from chat.domain.attachments import MAX_FILENAME_CHARS, Attachment

MAX_UPLOAD_BODY_BYTES: Final = 500 * 1024 * 1024 + 1024 * 1024
"""The most bytes an upload request may carry, framing included, whatever the settings say: the
largest limit orchestrator's registry allows (500 MiB of audio) and a margin. The settings'
limits (``chat.attachments.*``) stop the reading far earlier, as the file arrives."""


class AttachmentResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: Annotated[
        Literal["image", "audio", "text", "pdf"],
        msgspec.Meta(description="What the content is, as sniffed from its bytes."),
    ]
    media_type: Annotated[
        str,
        msgspec.Meta(
            description="The sniffed media type: image/png, image/jpeg, image/webp, image/gif, audio/mpeg, "
            "audio/wav, audio/ogg, audio/webm, text/plain or application/pdf."
        ),
    ]
    filename: Annotated[
        str,
        msgspec.Meta(
            max_length=MAX_FILENAME_CHARS,
            description="The uploaded file's name, for display: its last path part, no control characters.",
        ),
    ]
    size_bytes: Annotated[int, msgspec.Meta(ge=1, description="Bytes of content.")]
    created_at: datetime
    message_id: Annotated[
        UUID | None, msgspec.Meta(description="The user message it is attached to; `null` until then.")
    ]
    transcript: Annotated[
        str | None,
        msgspec.Meta(
            description="Audio's words, once a reply's model that takes no audio had its provider "
            "transcribe them (`null` until then, and for other kinds)."
        ),
    ] = None

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentResponse:
        return cls(
            id=attachment.id,
            kind=attachment.kind,
            media_type=attachment.media_type,
            filename=attachment.filename,
            size_bytes=attachment.size_bytes,
            created_at=attachment.created_at,
            message_id=attachment.message_id,
            transcript=attachment.transcript,
        )


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice (RFC 6266): an ASCII fallback, and the exact name as
    RFC 5987 ``filename*=UTF-8''…`` (percent-encoded, so no quote or line break can escape)."""
    fallback = (
        "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in filename) or "attachment"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
