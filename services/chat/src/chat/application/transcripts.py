"""Audio a reply's model cannot hear, turned into text at its provider and kept with the attachment.

Transcribed once: the transcript is stored with the attachment (the first one written stays), so
regenerating or continuing the conversation reads it instead of calling the provider again. A
failure leaves the audio described by name only, and the reply goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from uuid import UUID

from chat.application.attachments import read_attachment
from chat.application.ports import UnitOfWork
from chat.application.ports.attachments import BlobStore
from chat.application.ports.replicas import ResolvedModel
from chat.domain.attachments import Attachment
from shared.kernel.ai import ModelError

# stdlib logging: the application layer imports no framework; shared.logging renders it as JSON
_log = logging.getLogger("chat.transcripts")


async def with_transcripts(
    attached: Mapping[UUID, Sequence[Attachment]],
    resolved: ResolvedModel,
    blobs: BlobStore,
    uow: Callable[[], UnitOfWork],
) -> dict[UUID, list[Attachment]]:
    """``attached`` with a transcript on each audio attachment that has none, when the model
    takes no audio and its provider transcribes; everything else as it was."""
    transcriber = resolved.transcriber
    out: dict[UUID, list[Attachment]] = {}
    for message_id, items in attached.items():
        kept: list[Attachment] = []
        for attachment in items:
            if (
                transcriber is not None
                and not resolved.senses.audio_input
                and attachment.kind == "audio"
                and attachment.transcript is None
                and (data := await read_attachment(attachment, blobs)) is not None
            ):
                try:
                    text = await transcriber.transcribe(
                        data, filename=attachment.filename, media_type=attachment.media_type
                    )
                except ModelError as exc:
                    _log.warning("attachment %s was not transcribed: %s", attachment.id, exc.detail)
                else:
                    async with uow() as work:
                        await work.attachments.keep_transcript(attachment.id, text)
                        await work.commit()
                    attachment = replace(attachment, transcript=text)
            kept.append(attachment)
        out[message_id] = kept
    return out
