"""A user message's attachments as model input, by what the model can take.

A model's registry entry says what it takes beyond text in its ``parameters``: ``vision: true``
(images) and ``audio_input: true`` (audio, as wav or mp3). Images go to a model that sees and
audio to one that hears as parts of the message; text files are inlined into the message's
text for every model; anything a model cannot take is named in the text instead, plainly
(``[attached: name (kind, size)]``), with the transcript of audio when one is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final, Literal

from chat.application.attachments import read_attachment
from chat.application.ports.attachments import BlobStore
from chat.application.ports.replicas import ModelSenses
from chat.domain.attachments import Attachment
from shared.kernel.ai import AudioPart, ChatMessage, ImagePart, Part

MAX_INLINED_TEXT_CHARS: Final = 100_000
"""Characters of one text attachment put in a message; the rest is cut, and the cut said."""
_AUDIO_FORMATS: Final[dict[str, Literal["wav", "mp3"]]] = {"audio/wav": "wav", "audio/mpeg": "mp3"}


def size_label(size_bytes: int) -> str:
    """``532 bytes``, ``12.5 KB``, ``3.1 MB`` (1024-based, one decimal)."""
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def label(attachment: Attachment) -> str:
    return f"{attachment.filename} ({attachment.kind}, {size_label(attachment.size_bytes)})"


async def with_attachments(
    message: ChatMessage, attachments: Sequence[Attachment], blobs: BlobStore, senses: ModelSenses
) -> ChatMessage:
    """``message`` with its ``attachments`` (in order) as the model described by ``senses`` can
    take them: image and audio parts it takes, text files inlined after the message's text, and
    a plain note for each it cannot take (or whose content is gone)."""
    notes: list[str] = []
    parts: list[Part] = []
    for attachment in attachments:
        takes_it = (attachment.kind == "image" and senses.vision) or (
            attachment.kind == "audio" and senses.audio_input and attachment.media_type in _AUDIO_FORMATS
        )
        if attachment.kind != "text" and not takes_it:
            notes.append(_note(attachment))
            continue
        data = await read_attachment(attachment, blobs)
        if data is None:
            notes.append(f"[attached: {label(attachment)}; its content is no longer available]")
        elif attachment.kind == "text":
            notes.append(_inlined(attachment, data))
        elif attachment.kind == "image":
            parts.append(ImagePart(media_type=attachment.media_type, data=data))
        else:
            parts.append(AudioPart(format=_AUDIO_FORMATS[attachment.media_type], data=data))
    content = "\n\n".join([message.content, *notes]) if notes else message.content
    return replace(message, content=content, parts=(*message.parts, *parts))


def _note(attachment: Attachment) -> str:
    if attachment.transcript:
        return f"[attached: {label(attachment)}; transcript:]\n{attachment.transcript}"
    return f"[attached: {label(attachment)}]"


def _inlined(attachment: Attachment, data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if len(text) > MAX_INLINED_TEXT_CHARS:
        shown = MAX_INLINED_TEXT_CHARS
        text = f"{text[:shown]}\n[… cut: the first {shown} of {len(text)} characters are shown]"
    return f"[attached: {label(attachment)}]\n{text}"
