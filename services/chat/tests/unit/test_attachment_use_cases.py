"""The attachment use cases through in-memory fakes of their ports: what is kept, what is
refused with nothing kept, attaching to a message, and blobs going when no row names them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterable, AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from services.chat.tests.attachment_samples import png, png_header_on_a_script, text, wav

from chat.adapters.blobs.sniffing import sniff_file
from chat.application import attachments as use_cases
from chat.application.ports.attachments import BlobMissing, BlobTooLarge, Sniffed, StagedBlob, StoredBlob
from chat.domain.attachments import (
    Attachment,
    AttachmentNotAttachable,
    AttachmentTooLarge,
    EmptyAttachment,
    UnsupportedMediaType,
)
from chat.domain.limits import ChatLimits
from chat.domain.messages import Message, Sender
from shared.kernel.errors import NotFound, Unprocessable
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class FakeBlobStore:
    blobs: dict[UUID, dict[str, bytes]] = field(default_factory=dict)
    staging: dict[str, bytes] = field(default_factory=dict)

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StagedBlob:
        data = b""
        async for chunk in chunks:
            data += chunk
            if len(data) > max_bytes:
                raise BlobTooLarge
        token = f"{len(self.staging):032x}"
        self.staging[token] = data
        sha = hashlib.sha256(data).hexdigest()
        return StagedBlob(token=token, size_bytes=len(data), sha256=sha, open=lambda: io.BytesIO(data))

    async def keep(self, owner_id: UUID, staged: StagedBlob) -> str:
        self.blobs.setdefault(owner_id, {})[staged.sha256] = self.staging.pop(staged.token)
        return staged.sha256

    async def discard(self, staged: StagedBlob) -> None:
        self.staging.pop(staged.token, None)

    async def put(self, owner_id: UUID, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs.setdefault(owner_id, {})[sha] = data
        return sha

    async def read(self, owner_id: UUID, sha256: str) -> bytes:
        try:
            return self.blobs[owner_id][sha256]
        except KeyError:
            raise BlobMissing(sha256) from None

    async def open(self, owner_id: UUID, sha256: str, *, chunk_bytes: int = 65_536) -> AsyncIterator[bytes]:
        yield await self.read(owner_id, sha256)

    async def exists(self, owner_id: UUID, sha256: str) -> bool:
        return sha256 in self.blobs.get(owner_id, {})

    async def delete(self, owner_id: UUID, sha256: str) -> bool:
        return self.blobs.get(owner_id, {}).pop(sha256, None) is not None

    async def delete_owner(self, owner_id: UUID) -> None:
        self.blobs.pop(owner_id, None)

    async def owners(self) -> list[UUID]:
        return list(self.blobs)

    async def stored(self, owner_id: UUID) -> list[StoredBlob]:
        return [StoredBlob(sha256=sha, modified_at=NOW) for sha in self.blobs.get(owner_id, {})]

    async def drop_stale_staging(self, older_than: datetime) -> int:
        return 0

    def count(self) -> int:
        return sum(len(blobs) for blobs in self.blobs.values())


class FakeSniffer:
    async def sniff(self, staged: StagedBlob) -> Sniffed | None:
        media_type = sniff_file(staged.open)
        return None if media_type is None else Sniffed(media_type=media_type)


@dataclass
class FakeAttachments:
    rows: dict[UUID, Attachment] = field(default_factory=dict)
    locked: list[UUID] = field(default_factory=list)

    async def lock_owner(self, owner_id: UUID) -> None:
        self.locked.append(owner_id)

    async def bytes_used(self, owner_id: UUID) -> int:
        return sum(a.size_bytes for a in self.rows.values() if a.owner_id == owner_id)

    async def add(self, attachment: Attachment) -> None:
        self.rows[attachment.id] = attachment

    async def get(self, attachment_id: UUID, owner_id: UUID) -> Attachment | None:
        found = self.rows.get(attachment_id)
        return found if found is not None and found.owner_id == owner_id else None

    async def get_many(self, attachment_ids: Collection[UUID], owner_id: UUID, *, for_update: bool = False):
        return [a for a in self.rows.values() if a.id in attachment_ids and a.owner_id == owner_id]

    async def page(self, owner_id: UUID, *, before_id: UUID | None, limit: int):
        mine = sorted(
            (a for a in self.rows.values() if a.owner_id == owner_id), key=lambda a: a.id, reverse=True
        )
        return [a for a in mine if before_id is None or a.id < before_id][:limit]

    async def attach(self, attachment_ids: Collection[UUID], message_id: UUID) -> None:
        for attachment_id in attachment_ids:
            self.rows[attachment_id].message_id = message_id

    async def of_messages(self, message_ids: Collection[UUID]):
        return sorted((a for a in self.rows.values() if a.message_id in message_ids), key=lambda a: a.id)

    async def delete(self, attachment_id: UUID) -> None:
        self.rows.pop(attachment_id, None)

    async def delete_owned_by(self, owner_id: UUID) -> int:
        mine = [a.id for a in self.rows.values() if a.owner_id == owner_id]
        for attachment_id in mine:
            del self.rows[attachment_id]
        return len(mine)

    async def blobs_of(self, owner_id: UUID) -> set[str]:
        return {a.sha256 for a in self.rows.values() if a.owner_id == owner_id}

    async def without_attachments(self, owner_ids: Collection[UUID]) -> set[UUID]:
        return set(owner_ids) - {a.owner_id for a in self.rows.values()}


@dataclass
class FakeSettings:
    current: ChatLimits

    async def limits(self) -> ChatLimits:
        return self.current


@dataclass
class FakeMessages:
    rows: dict[UUID, Message] = field(default_factory=dict)

    async def get(self, message_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Message | None:
        found = self.rows.get(message_id)
        return found if found is not None and found.owner_id == owner_id else None


class FakeUnitOfWork:
    def __init__(self, limits: ChatLimits | None = None) -> None:
        self.attachments = FakeAttachments()
        self.settings = FakeSettings(limits or ChatLimits())
        self.messages = FakeMessages()
        self.commits = 0

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1


async def chunks_of(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def blobs() -> FakeBlobStore:
    return FakeBlobStore()


async def upload(
    uow, blobs, data: bytes, owner_id: UUID | None = None, filename: str | None = "f"
) -> Attachment:
    command = use_cases.UploadAttachment(
        owner_id=owner_id or new_id(), filename=filename, chunks=chunks_of(data)
    )
    return await use_cases.upload_attachment(command, uow, blobs, FakeSniffer(), FixedClock())


async def test_an_upload_is_kept_under_its_content_address_with_its_sniffed_type(uow, blobs):
    owner_id = new_id()
    attachment = await upload(uow, blobs, png(), owner_id, filename="../../etc/passwd")

    assert (attachment.kind, attachment.media_type, attachment.filename) == ("image", "image/png", "passwd")
    assert attachment.sha256 == hashlib.sha256(png()).hexdigest()
    assert await blobs.read(owner_id, attachment.sha256) == png()
    assert uow.attachments.rows == {attachment.id: attachment}
    assert uow.attachments.locked == [owner_id]
    assert blobs.staging == {}


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (png_header_on_a_script(), UnsupportedMediaType),
        (b"", EmptyAttachment),
        (b"MZ\x90\x00" + b"\x00" * 100, UnsupportedMediaType),
    ],
    ids=["png header on a script", "empty", "executable"],
)
async def test_a_refused_upload_keeps_nothing(uow, blobs, data, refusal):
    with pytest.raises(refusal):
        await upload(uow, blobs, data)

    assert uow.attachments.rows == {}
    assert blobs.count() == 0
    assert blobs.staging == {}
    assert uow.commits == 0


async def test_an_upload_past_its_kinds_limit_is_refused():
    uow, blobs = FakeUnitOfWork(ChatLimits(max_image_bytes=len(png()) - 1)), FakeBlobStore()

    with pytest.raises(AttachmentTooLarge, match="image"):
        await upload(uow, blobs, png())
    assert (uow.attachments.rows, blobs.count(), blobs.staging) == ({}, 0, {})


async def test_reading_stops_once_no_kind_could_take_that_many_bytes():
    limits = ChatLimits(max_image_bytes=10, max_audio_bytes=20, max_document_bytes=30)
    uow, blobs = FakeUnitOfWork(limits), FakeBlobStore()

    with pytest.raises(AttachmentTooLarge, match="at most 30 bytes"):
        await upload(uow, blobs, text() * 10)
    assert blobs.staging == {}


async def test_the_owners_total_counts_what_they_keep_already():
    owner_id = new_id()
    limits = ChatLimits(max_bytes_per_user=len(wav()) + len(text()))
    uow, blobs = FakeUnitOfWork(limits), FakeBlobStore()
    await upload(uow, blobs, wav(), owner_id)
    await upload(uow, blobs, text(), owner_id)

    with pytest.raises(AttachmentTooLarge, match="together"):
        await upload(uow, blobs, b"x", owner_id)
    await upload(uow, blobs, b"x")  # another owner's total is their own
    assert len(uow.attachments.rows) == 3


async def test_another_owners_attachment_is_not_found(uow, blobs):
    attachment = await upload(uow, blobs, png())

    with pytest.raises(NotFound):
        await use_cases.get_attachment(new_id(), attachment.id, uow)
    with pytest.raises(NotFound):
        await use_cases.open_attachment(new_id(), attachment.id, uow, blobs)
    with pytest.raises(NotFound):
        await use_cases.delete_attachment(new_id(), attachment.id, uow, blobs)
    assert attachment.id in uow.attachments.rows


async def test_deleting_removes_the_blob_unless_another_attachment_has_the_same_content(uow, blobs):
    owner_id = new_id()
    first = await upload(uow, blobs, png(), owner_id)
    second = await upload(uow, blobs, png(), owner_id)

    await use_cases.delete_attachment(owner_id, first.id, uow, blobs)
    assert await blobs.exists(owner_id, second.sha256)

    await use_cases.delete_attachment(owner_id, second.id, uow, blobs)
    assert not await blobs.exists(owner_id, second.sha256)


def a_user_message(uow: FakeUnitOfWork, owner_id: UUID, sender: Sender = "user") -> Message:
    message = Message(
        id=new_id(),
        conversation_id=new_id(),
        owner_id=owner_id,
        parent_id=None,
        sender=sender,
        created_at=NOW,
    )
    uow.messages.rows[message.id] = message
    return message


async def test_attaching_gives_a_user_message_its_attachments_in_order(uow, blobs):
    owner_id = new_id()
    first, second = await upload(uow, blobs, png(), owner_id), await upload(uow, blobs, text(), owner_id)
    message = a_user_message(uow, owner_id)

    attached = await use_cases.attach_to_message(uow, owner_id, message.id, [second.id, first.id, second.id])

    assert [a.id for a in attached] == [second.id, first.id]
    assert {a.message_id for a in uow.attachments.rows.values()} == {message.id}
    grouped = await use_cases.attachments_of(uow, [message.id, new_id()])
    assert [a.id for a in grouped[message.id]] == sorted([first.id, second.id])
    assert list(grouped) == [message.id]


async def test_an_attachment_of_another_owner_or_attached_already_is_named_in_the_refusal(uow, blobs):
    owner_id = new_id()
    mine = await upload(uow, blobs, png(), owner_id)
    theirs = await upload(uow, blobs, png())
    message = a_user_message(uow, owner_id)

    with pytest.raises(AttachmentNotAttachable, match=str(theirs.id)):
        await use_cases.attach_to_message(uow, owner_id, message.id, [mine.id, theirs.id])

    await use_cases.attach_to_message(uow, owner_id, message.id, [mine.id])
    with pytest.raises(AttachmentNotAttachable, match=str(mine.id)) as refused:
        await use_cases.attach_to_message(uow, owner_id, a_user_message(uow, owner_id).id, [mine.id])
    assert isinstance(refused.value, Unprocessable)


async def test_only_a_user_message_of_the_owner_takes_attachments(uow, blobs):
    owner_id = new_id()
    mine = await upload(uow, blobs, png(), owner_id)

    with pytest.raises(Unprocessable):
        await use_cases.attach_to_message(
            uow, owner_id, a_user_message(uow, owner_id, "assistant").id, [mine.id]
        )
    with pytest.raises(NotFound):
        await use_cases.attach_to_message(uow, owner_id, a_user_message(uow, new_id()).id, [mine.id])
    many, message = [new_id() for _ in range(11)], a_user_message(uow, owner_id)
    with pytest.raises(Unprocessable):
        await use_cases.attach_to_message(uow, owner_id, message.id, many)


async def test_a_sweep_removes_the_blobs_whose_rows_vanished_and_the_part_of_an_owner_with_none(uow, blobs):
    kept_owner, erased_owner = new_id(), new_id()
    kept = await upload(uow, blobs, png(), kept_owner)
    gone = await upload(uow, blobs, text(), kept_owner)
    await upload(uow, blobs, wav(), erased_owner)
    # rows vanish by cascade (a deleted message) and by erasure, without the use cases
    del uow.attachments.rows[gone.id]
    await uow.attachments.delete_owned_by(erased_owner)

    removed = await use_cases.sweep_blobs(uow, blobs, FixedClock())

    assert removed == 2
    assert blobs.blobs == {kept_owner: {kept.sha256: png()}}
    assert await use_cases.sweep_blobs(uow, blobs, FixedClock()) == 0


async def test_the_quick_sweep_removes_only_the_parts_of_owners_without_any_attachment(uow, blobs):
    kept_owner, erased_owner = new_id(), new_id()
    kept = await upload(uow, blobs, png(), kept_owner)
    gone = await upload(uow, blobs, text(), kept_owner)
    await upload(uow, blobs, wav(), erased_owner)
    del uow.attachments.rows[gone.id]
    await uow.attachments.delete_owned_by(erased_owner)

    assert await use_cases.sweep_ownerless_blobs(uow, blobs) == 1

    assert set(blobs.blobs) == {kept_owner}
    assert set(blobs.blobs[kept_owner]) == {kept.sha256, gone.sha256}  # the full sweep's business


async def test_reading_an_attachment_whose_blob_is_gone_gives_nothing(uow, blobs):
    attachment = await upload(uow, blobs, png())
    await blobs.delete_owner(attachment.owner_id)

    assert await use_cases.read_attachment(attachment, blobs) is None
    with pytest.raises(NotFound):
        await use_cases.open_attachment(attachment.owner_id, attachment.id, uow, blobs)
    assert timedelta(minutes=10) <= use_cases.STALE_STAGING
