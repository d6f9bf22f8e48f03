"""Ports of attachments: their rows (on the unit of work), the blob store that holds their
bytes, and the sniffer that tells what the bytes are."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol
from uuid import UUID

from chat.domain.attachments import Attachment


class AttachmentRepository(Protocol):
    """Attachment rows, scoped to their owner: another owner's attachment is ``None``.

    Transactional: part of the unit of work. An attachment of a message goes with it (its
    row cascades when the message, its conversation or the owner's data is deleted).
    """

    async def lock_owner(self, owner_id: UUID) -> None:
        """Serialise, until the transaction ends, every writer of ``owner_id``'s attachments and
        blobs: uploads (the per-user total, a blob put in place) and blob sweeps."""
        ...

    async def bytes_used(self, owner_id: UUID) -> int:
        """The sizes of every attachment of ``owner_id``, summed (0 for none)."""
        ...

    async def add(self, attachment: Attachment) -> None: ...

    async def get(self, attachment_id: UUID, owner_id: UUID) -> Attachment | None: ...

    async def get_many(
        self, attachment_ids: Collection[UUID], owner_id: UUID, *, for_update: bool = False
    ) -> Sequence[Attachment]:
        """Those of ``attachment_ids`` that ``owner_id`` owns, in one query (any order)."""
        ...

    async def page(self, owner_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Attachment]:
        """``owner_id``'s attachments, newest first, those older than ``before_id`` if given."""
        ...

    async def attach(self, attachment_ids: Collection[UUID], message_id: UUID) -> None:
        """Set the message of ``attachment_ids`` (checked by the caller)."""
        ...

    async def of_messages(self, message_ids: Collection[UUID]) -> Sequence[Attachment]:
        """The attachments of ``message_ids``, in one query, oldest first. Trusts the caller to
        have loaded the messages for their owner."""
        ...

    async def delete(self, attachment_id: UUID) -> None: ...

    async def keep_transcript(self, attachment_id: UUID, transcript: str) -> None:
        """An audio attachment's transcript, kept with it (the first one written stays)."""
        ...

    async def delete_owned_by(self, owner_id: UUID) -> int:
        """Every attachment row of ``owner_id``; returns how many."""
        ...

    async def blobs_of(self, owner_id: UUID) -> set[str]:
        """The SHA-256 of every blob a row of ``owner_id`` names."""
        ...

    async def without_attachments(self, owner_ids: Collection[UUID]) -> set[UUID]:
        """Those of ``owner_ids`` that have no attachment at all, in one query."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedBlob:
    """Bytes received and set aside, not yet in anyone's part of the store."""

    token: str
    """The store's own handle for it (opaque to use cases)."""
    size_bytes: int
    sha256: str
    open: Callable[[], BinaryIO]
    """A new binary reader of the bytes (blocking: for a thread)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBlob:
    sha256: str
    modified_at: datetime
    """When it was last put in place (putting the same bytes again renews it)."""


class BlobTooLarge(Exception):
    """More bytes arrived than :meth:`BlobStore.stage` was allowed to take."""


class BlobMissing(Exception):
    """No blob of that owner has that address."""


class BlobStore(Protocol):
    """Files, content-addressed per owner (hex SHA-256). Not transactional: put before the
    row commits, delete after it did (or under :meth:`AttachmentRepository.lock_owner`).
    Every write is atomic: a reader sees a whole blob or none."""

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StagedBlob:
        """Write ``chunks`` aside while hashing them; :class:`BlobTooLarge` (nothing kept) as soon
        as they pass ``max_bytes``."""
        ...

    async def keep(self, owner_id: UUID, staged: StagedBlob) -> str:
        """Move ``staged`` into ``owner_id``'s part under its address and return it; if that
        blob is there already, renew its time and drop ``staged``."""
        ...

    async def discard(self, staged: StagedBlob) -> None:
        """Drop ``staged`` (nothing if it is gone)."""
        ...

    async def put(self, owner_id: UUID, data: bytes) -> str:
        """Store ``data`` for ``owner_id``; its address."""
        ...

    async def read(self, owner_id: UUID, sha256: str) -> bytes:
        """The whole blob (:class:`BlobMissing` when absent). For small blobs: prefer :meth:`open`."""
        ...

    def open(self, owner_id: UUID, sha256: str, *, chunk_bytes: int = 65_536) -> AsyncIterator[bytes]:
        """The blob in chunks (:class:`BlobMissing` on the first step when absent)."""
        ...

    async def exists(self, owner_id: UUID, sha256: str) -> bool: ...

    async def delete(self, owner_id: UUID, sha256: str) -> bool:
        """Remove one blob; whether it was there."""
        ...

    async def delete_owner(self, owner_id: UUID) -> None:
        """Remove every blob of ``owner_id`` (nothing if there is none)."""
        ...

    async def owners(self) -> Sequence[UUID]:
        """Every owner with a part in the store."""
        ...

    async def stored(self, owner_id: UUID) -> Sequence[StoredBlob]:
        """Every blob of ``owner_id``."""
        ...

    async def drop_stale_staging(self, older_than: datetime) -> int:
        """Remove staged bytes left before ``older_than`` (an upload whose process died)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Sniffed:
    media_type: str
    """One of ``chat.domain.attachments.MEDIA_TYPES``."""


class ContentSniffer(Protocol):
    """Tells what bytes are by their content alone (magic numbers and structure)."""

    async def sniff(self, staged: StagedBlob) -> Sniffed | None:
        """The accepted type ``staged`` is a well-formed file of, or ``None`` (anything else, or
        a file that only starts like an accepted type)."""
        ...
