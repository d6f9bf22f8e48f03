"""An attachment: a file a user uploaded, kept for one of their messages.

Its type is what its bytes are (sniffed), never what the client called it; its file name
is for display only and never reaches a path. Its content lives in the owner's part of a
content-addressed blob store under its SHA-256, so two rows of one owner may share a blob,
and a blob goes when no row of its owner names it any more.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

from chat.domain.limits import ChatLimits
from shared.kernel.errors import DomainError, InvalidInput, Unprocessable

Kind = Literal["image", "audio", "text", "pdf"]
KINDS: Final[tuple[Kind, ...]] = ("image", "audio", "text", "pdf")

MEDIA_TYPES: Final[dict[str, Kind]] = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "image/gif": "image",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/ogg": "audio",
    "audio/webm": "audio",
    "text/plain": "text",
    "application/pdf": "pdf",
}
"""Every media type chat accepts, and the kind it is."""

MAX_FILENAME_CHARS: Final = 255
MAX_ATTACHMENTS_PER_MESSAGE: Final = 10
UNNAMED: Final = "attachment"
# control characters, and the bidirectional overrides that make "evil\u202eTXT.exe" read "evilexe.TXT"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class UnsupportedMediaType(DomainError):
    """The bytes are not of a type chat accepts, or not a well-formed file of that type (415)."""

    title = "Unsupported media type"


class AttachmentTooLarge(DomainError):
    """Past the limit of its kind, or past the owner's total (413)."""

    title = "Attachment too large"


class EmptyAttachment(InvalidInput):
    """A file of no bytes (400)."""


class AttachmentNotAttachable(Unprocessable):
    """Named for a message but not the owner's, unknown, or attached already (422)."""

    def __init__(self, attachment_id: UUID, why: str) -> None:
        super().__init__(f"Attachment {attachment_id} cannot be attached: {why}.")
        self.attachment_id = attachment_id


def display_name(raw: str | None) -> str:
    """The file name a client sent, made safe to show: its last path part, without control
    characters, bidirectional overrides or surrounding spaces and dots, at most 255
    characters; ``attachment`` when nothing is left. ``../../etc/passwd`` is ``passwd``.
    Never used to build a path."""
    name = unicodedata.normalize("NFC", raw or "")
    name = _CONTROL.sub("", name)
    name = re.split(r"[/\\]", name)[-1]
    name = name.strip().strip(".").strip()
    return name[:MAX_FILENAME_CHARS] or UNNAMED


def kind_of(media_type: str) -> Kind:
    try:
        return MEDIA_TYPES[media_type]
    except KeyError:
        raise UnsupportedMediaType(f"{media_type} is not a type chat accepts.") from None


def kind_limit(kind: Kind, limits: ChatLimits) -> int:
    """The most bytes one attachment of ``kind`` may have."""
    if kind == "image":
        return limits.max_image_bytes
    if kind == "audio":
        return limits.max_audio_bytes
    return limits.max_document_bytes


def largest_accepted(limits: ChatLimits, used_bytes: int) -> int:
    """The most bytes an upload of still unknown type may have: the largest kind limit, or what
    is left of the owner's total if less (never below 0)."""
    largest = max(kind_limit(kind, limits) for kind in KINDS)
    return max(0, min(largest, limits.max_bytes_per_user - used_bytes))


def ensure_fits(kind: Kind, size_bytes: int, limits: ChatLimits, used_bytes: int) -> None:
    """Rules: an attachment has at least one byte, at most its kind's limit, and the owner's
    attachments together at most ``max_bytes_per_user`` (a blob two rows share counts twice)."""
    if size_bytes <= 0:
        raise EmptyAttachment("The file is empty.")
    limit = kind_limit(kind, limits)
    if size_bytes > limit:
        raise AttachmentTooLarge(
            f"A {kind} attachment may have at most {limit} bytes; this one has {size_bytes}."
        )
    if used_bytes + size_bytes > limits.max_bytes_per_user:
        raise AttachmentTooLarge(
            f"Your attachments may take at most {limits.max_bytes_per_user} bytes together; "
            f"{used_bytes} are used and this one has {size_bytes}."
        )


@dataclass(slots=True, kw_only=True)
class Attachment:
    id: UUID
    owner_id: UUID
    message_id: UUID | None
    """The user message it belongs to; ``None`` until attached."""
    kind: Kind
    media_type: str
    """Sniffed from the bytes."""
    filename: str
    """Display only (see :func:`display_name`)."""
    size_bytes: int
    sha256: str
    """Hex SHA-256 of the content: its address in the owner's part of the blob store."""
    created_at: datetime
    transcript: str | None = None

    @classmethod
    def upload(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        media_type: str,
        filename: str | None,
        size_bytes: int,
        sha256: str,
        limits: ChatLimits,
        used_bytes: int,
        now: datetime,
    ) -> Attachment:
        """A new, unattached attachment, if its type is accepted and it fits the limits."""
        kind = kind_of(media_type)
        ensure_fits(kind, size_bytes, limits, used_bytes)
        return cls(
            id=id,
            owner_id=owner_id,
            message_id=None,
            kind=kind,
            media_type=media_type,
            filename=display_name(filename),
            size_bytes=size_bytes,
            sha256=sha256,
            created_at=now,
        )

    def attach_to(self, message_id: UUID) -> None:
        """Belong to ``message_id``: once, for good (it goes when the message goes)."""
        if self.message_id is not None:
            raise AttachmentNotAttachable(self.id, "it belongs to a message already")
        self.message_id = message_id
