"""Use cases of attachments: upload, read, delete, attach to a message, and blob clean-up.

Blobs are files, not rows: they are put in place before the row that names them commits,
and removed only while the owner's attachments are locked (``lock_owner``) and no row of
that owner names them any more. So an upload never loses its blob to a concurrent clean-up,
and a blob whose row vanished (deleted, cascaded with its message or conversation, erased
with its owner, or never committed) is removed by the next sweep of its owner.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from chat.application.ports import UnitOfWork
from chat.application.ports.attachments import BlobMissing, BlobStore, BlobTooLarge, ContentSniffer
from chat.domain.attachments import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    Attachment,
    AttachmentNotAttachable,
    AttachmentTooLarge,
    EmptyAttachment,
    UnsupportedMediaType,
    largest_accepted,
)
from shared.kernel.clock import Clock
from shared.kernel.errors import NotFound, Unprocessable
from shared.kernel.ids import new_id

STALE_STAGING = timedelta(hours=1)
"""Bytes staged this long ago belong to an upload whose process died."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadAttachment:
    owner_id: UUID
    filename: str | None
    """As the client sent it: only shown, after :func:`chat.domain.attachments.display_name`."""
    chunks: AsyncIterable[bytes]


async def upload_attachment(
    cmd: UploadAttachment, uow: UnitOfWork, blobs: BlobStore, sniffer: ContentSniffer, clock: Clock
) -> Attachment:
    """Keep an uploaded file as a new, unattached attachment of its owner.

    Rules:
        * The type is what the bytes are (``sniffer``): an image (png, jpeg, webp, gif), audio
          (mp3, wav, ogg, webm), UTF-8 text or a PDF, well-formed; anything else is refused
          (:class:`UnsupportedMediaType`) and nothing is kept. The client's name and media type
          decide nothing.
        * Size: at least one byte, at most the limit of its kind, and all the owner's
          attachments at most ``max_bytes_per_user`` (:class:`AttachmentTooLarge`); reading stops
          as soon as no kind could take that many bytes.
        * The per-user total is checked and the blob put in place under the owner's lock, so two
          uploads at once cannot pass it together.
    """
    async with uow:
        limits = await uow.settings.limits()
        used = await uow.attachments.bytes_used(cmd.owner_id)
    try:
        staged = await blobs.stage(cmd.chunks, max_bytes=largest_accepted(limits, used))
    except BlobTooLarge:
        raise AttachmentTooLarge(
            _too_large(limits.max_bytes_per_user, used, largest_accepted(limits, 0))
        ) from None
    try:
        if staged.size_bytes == 0:
            raise EmptyAttachment("The file is empty.")
        sniffed = await sniffer.sniff(staged)
        if sniffed is None:
            raise UnsupportedMediaType(
                "The file is not an image (png, jpeg, webp, gif), audio (mp3, wav, ogg, webm), "
                "UTF-8 text or PDF; its content decides, not its name or declared type."
            )
        async with uow:
            await uow.attachments.lock_owner(cmd.owner_id)
            limits = await uow.settings.limits()
            attachment = Attachment.upload(
                id=new_id(),
                owner_id=cmd.owner_id,
                media_type=sniffed.media_type,
                filename=cmd.filename,
                size_bytes=staged.size_bytes,
                sha256=staged.sha256,
                limits=limits,
                used_bytes=await uow.attachments.bytes_used(cmd.owner_id),
                now=clock.now(),
            )
            await blobs.keep(cmd.owner_id, staged)
            await uow.attachments.add(attachment)
            await uow.commit()
        return attachment
    finally:
        await blobs.discard(staged)


def _too_large(total: int, used: int, largest: int) -> str:
    if used + largest > total:
        return f"Your files may take {total} bytes together; {used} are used: this does not fit."
    return f"An attachment may have at most {largest} bytes."


async def get_attachment(owner_id: UUID, attachment_id: UUID, uow: UnitOfWork) -> Attachment:
    """One of the owner's attachments; another owner's is not found."""
    async with uow:
        attachment = await uow.attachments.get(attachment_id, owner_id)
    if attachment is None:
        raise NotFound(f"No attachment {attachment_id}.")
    return attachment


async def list_attachments(
    owner_id: UUID, uow: UnitOfWork, *, before_id: UUID | None, limit: int
) -> Sequence[Attachment]:
    """The owner's attachments, newest first (``limit`` of them, older than ``before_id``)."""
    async with uow:
        return await uow.attachments.page(owner_id, before_id=before_id, limit=limit)


async def open_attachment(
    owner_id: UUID, attachment_id: UUID, uow: UnitOfWork, blobs: BlobStore
) -> tuple[Attachment, AsyncIterator[bytes]]:
    """The attachment and its bytes, for its owner only."""
    attachment = await get_attachment(owner_id, attachment_id, uow)
    if not await blobs.exists(owner_id, attachment.sha256):
        raise NotFound(f"The content of attachment {attachment_id} is gone.")
    return attachment, blobs.open(owner_id, attachment.sha256)


async def read_attachment(attachment: Attachment, blobs: BlobStore) -> bytes | None:
    """The whole content of ``attachment`` (for model input), or ``None`` if its blob is gone."""
    try:
        return await blobs.read(attachment.owner_id, attachment.sha256)
    except BlobMissing:
        return None


async def delete_attachment(owner_id: UUID, attachment_id: UUID, uow: UnitOfWork, blobs: BlobStore) -> None:
    """Delete one of the owner's attachments (attached or not), then its blob unless another
    attachment of the owner has the same content."""
    async with uow:
        attachment = await uow.attachments.get(attachment_id, owner_id)
        if attachment is None:
            raise NotFound(f"No attachment {attachment_id}.")
        await uow.attachments.delete(attachment_id)
        await uow.commit()
    await sweep_unreferenced_blobs(uow, blobs, owner_id, only=[attachment.sha256])


async def attach_to_message(
    uow: UnitOfWork, owner_id: UUID, message_id: UUID, attachment_ids: Collection[UUID]
) -> list[Attachment]:
    """Give ``message_id`` (a user message of ``owner_id``) the attachments ``attachment_ids``.

    Runs inside the caller's open unit of work and never commits (the caller posts the message
    and attaches in one transaction). Rules: at most
    :data:`~chat.domain.attachments.MAX_ATTACHMENTS_PER_MESSAGE`; each must be the owner's and
    not attached yet, else :class:`AttachmentNotAttachable` (422) names the first that is not;
    a repeated id counts once. Returns the attachments in the order given.
    """
    ids = list(dict.fromkeys(attachment_ids))
    if len(ids) > MAX_ATTACHMENTS_PER_MESSAGE:
        raise Unprocessable(f"A message may have at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments.")
    message = await uow.messages.get(message_id, owner_id)
    if message is None:
        raise NotFound(f"No message {message_id}.")
    if message.sender != "user":
        raise Unprocessable("Only a user message can have attachments.")
    if not ids:
        return []
    found = {a.id: a for a in await uow.attachments.get_many(ids, owner_id, for_update=True)}
    for attachment_id in ids:  # every one checked before any changes
        attachment = found.get(attachment_id)
        if attachment is None:
            raise AttachmentNotAttachable(attachment_id, "no such attachment of yours")
        if attachment.message_id is not None:
            raise AttachmentNotAttachable(attachment_id, "it belongs to a message already")
    for attachment_id in ids:
        found[attachment_id].attach_to(message_id)
    await uow.attachments.attach(ids, message_id)
    return [found[i] for i in ids]


async def attachments_of(uow: UnitOfWork, message_ids: Collection[UUID]) -> dict[UUID, list[Attachment]]:
    """Each message's attachments (oldest first), in one query, inside the caller's open unit
    of work; messages without any are absent. The caller loaded the messages for their owner."""
    grouped: dict[UUID, list[Attachment]] = {}
    if not message_ids:
        return grouped
    for attachment in await uow.attachments.of_messages(message_ids):
        assert attachment.message_id is not None
        grouped.setdefault(attachment.message_id, []).append(attachment)
    return grouped


async def sweep_unreferenced_blobs(
    uow: UnitOfWork, blobs: BlobStore, owner_id: UUID, *, only: Collection[str] | None = None
) -> int:
    """Remove the blobs of ``owner_id`` that no attachment row names (``only`` these, if given);
    returns how many. Call it after a commit that deleted attachment rows, directly or by
    cascade (a message, a conversation, an erased user): idempotent, and safe beside uploads
    (it holds the owner's lock while it removes). An owner with no row left loses their whole
    part of the store."""
    async with uow:
        await uow.attachments.lock_owner(owner_id)
        referenced = await uow.attachments.blobs_of(owner_id)
        if not referenced and only is None:
            removed = len(await blobs.stored(owner_id))
            await blobs.delete_owner(owner_id)
            return removed
        candidates = only if only is not None else [blob.sha256 for blob in await blobs.stored(owner_id)]
        removed = 0
        for sha256 in candidates:
            if sha256 not in referenced and await blobs.delete(owner_id, sha256):
                removed += 1
        return removed


async def sweep_ownerless_blobs(uow: UnitOfWork, blobs: BlobStore) -> int:
    """Remove the whole part of every owner who has blobs but no attachment left (an erased user,
    say); returns how many blobs went. One listing and one query when there is none: cheap
    enough to run every few seconds, so an erased user's files go soon after their rows."""
    owners = await blobs.owners()
    if not owners:
        return 0
    async with uow:
        empty = await uow.attachments.without_attachments(owners)
    removed = 0
    for owner_id in empty:
        removed += await sweep_unreferenced_blobs(uow, blobs, owner_id)  # checks again, locked
    return removed


async def sweep_blobs(uow: UnitOfWork, blobs: BlobStore, clock: Clock) -> int:
    """One round of the worker's clean-up: every owner's unreferenced blobs (see
    :func:`sweep_unreferenced_blobs`), and bytes staged by uploads that never finished."""
    removed = await blobs.drop_stale_staging(clock.now() - STALE_STAGING)
    for owner_id in await blobs.owners():
        removed += await sweep_unreferenced_blobs(uow, blobs, owner_id)
    return removed
