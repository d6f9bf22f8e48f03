"""Attachments beyond the upload, on real PostgreSQL: attached to a user message in the
caller's transaction, read back per message in one query, gone with their message,
conversation or user, their files removed by the worker's sweep; and the per-user total
holding when uploads race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from services.chat.tests.attachment_samples import png, text, wav

from chat.adapters.blobs.filesystem import FilesystemBlobStore
from chat.adapters.blobs.sniffing import FileTypeSniffer
from chat.application import attachments as use_cases
from chat.application.erasure import erase_users_data
from chat.bootstrap import worker_chores
from chat.domain.attachments import Attachment, AttachmentNotAttachable, AttachmentTooLarge
from chat.domain.conversations import Conversation
from chat.domain.messages import Message
from shared.kernel.clock import SystemClock
from shared.kernel.erasure import EraseUser, erase_user
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def blobs(tmp_path) -> FilesystemBlobStore:
    return FilesystemBlobStore(Path(tmp_path) / "blobs")


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload(uow, blobs, owner_id, data: bytes) -> Attachment:
    command = use_cases.UploadAttachment(owner_id=owner_id, filename="f", chunks=chunks(data))
    return await use_cases.upload_attachment(command, uow(), blobs, FileTypeSniffer(), SystemClock())


async def a_conversation_with_a_question(uow, owner_id) -> tuple[Conversation, Message]:
    conversation = Conversation.create(id=new_id(), owner_id=owner_id, now=NOW, title="Files")
    question = conversation.post(id=new_id(), content="What is in these?", parent=None, now=NOW)
    async with uow() as work:
        await work.conversations.add(conversation)
        await work.messages.add(question)
        await work.commit()
    return conversation, question


async def test_attachments_go_with_their_message_and_their_files_with_the_sweep(uow, blobs):
    owner_id = new_id()
    conversation, question = await a_conversation_with_a_question(uow, owner_id)
    image, notes, loose = [await upload(uow, blobs, owner_id, data) for data in (png(), text(), wav())]

    async with uow() as work:
        await use_cases.attach_to_message(work, owner_id, question.id, [image.id, notes.id])
        await work.commit()
    async with uow() as work:
        grouped = await use_cases.attachments_of(work, [question.id])
    assert [a.id for a in grouped[question.id]] == [image.id, notes.id]
    assert {a.message_id for a in grouped[question.id]} == {question.id}

    async with uow() as work:
        await work.conversations.delete(conversation.id)
        await work.commit()
    assert await use_cases.sweep_unreferenced_blobs(uow(), blobs, owner_id) == 2

    assert [blob.sha256 for blob in await blobs.stored(owner_id)] == [loose.sha256]
    async with uow() as work:
        assert [a.id for a in await work.attachments.page(owner_id, before_id=None, limit=10)] == [loose.id]


async def test_attaching_an_attachment_twice_or_anothers_changes_nothing(uow, blobs):
    owner_id = new_id()
    _, question = await a_conversation_with_a_question(uow, owner_id)
    mine = await upload(uow, blobs, owner_id, png())
    theirs = await upload(uow, blobs, new_id(), text())

    async with uow() as work:
        with pytest.raises(AttachmentNotAttachable, match=str(theirs.id)):
            await use_cases.attach_to_message(work, owner_id, question.id, [mine.id, theirs.id])

    async with uow() as work:
        assert (await work.attachments.get(mine.id, owner_id)).message_id is None  # type: ignore[union-attr]


async def test_an_erased_users_attachments_go_and_the_workers_sweep_removes_their_files(
    uow, blobs, api_settings, service_engine, tmp_path
):
    erased, kept = new_id(), new_id()
    await a_conversation_with_a_question(uow, erased)
    for data in (png(), text()):
        await upload(uow, blobs, erased, data)
    keeper = await upload(uow, blobs, kept, png())

    await erase_user(
        EraseUser(user_id=erased, cause_event_id=new_id()), uow(), SystemClock(), erase_users_data
    )
    settings = msgspec.structs.replace(api_settings, blob_dir=str(blobs.root))
    full, quick = worker_chores(settings, service_engine)
    assert (full.name, quick.name) == ("attachment-blobs", "erased-attachment-blobs")
    assert quick.every_s <= 5
    assert await quick.work() == 2

    assert await blobs.owners() == [kept]
    assert not (blobs.root / str(erased)).exists()
    assert await blobs.read(kept, keeper.sha256) == png()
    assert await quick.work() == 0
    assert await full.work() == 0
    # the worker runs both at once: each has its own unit of work (one shared failed both)
    assert await asyncio.gather(quick.work(), full.work(), quick.work()) == [0, 0, 0]


async def test_a_blob_whose_upload_never_committed_is_swept_but_not_one_a_row_names(uow, blobs):
    owner_id = new_id()
    named = await upload(uow, blobs, owner_id, png())
    orphan = await blobs.put(owner_id, text())  # as if the row's commit had failed

    assert await use_cases.sweep_blobs(uow(), blobs, SystemClock()) == 1

    assert [blob.sha256 for blob in await blobs.stored(owner_id)] == [named.sha256]
    assert orphan != named.sha256


async def test_uploads_racing_past_the_users_total_let_only_what_fits_through(uow, blobs):
    owner_id = new_id()
    async with uow() as work:
        await work.settings.save("chat.attachments.max_bytes_per_user", len(wav()) * 2, NOW)
        await work.commit()
    variants = [wav()[:-2] + bytes([i, i]) for i in range(5)]

    outcomes = await asyncio.gather(
        *(upload(uow, blobs, owner_id, data) for data in variants), return_exceptions=True
    )

    kept = [o for o in outcomes if isinstance(o, Attachment)]
    refused = [o for o in outcomes if isinstance(o, AttachmentTooLarge)]
    assert (len(kept), len(refused)) == (2, 3)
    async with uow() as work:
        assert await work.attachments.bytes_used(owner_id) == 2 * len(wav())
    assert sorted(b.sha256 for b in await blobs.stored(owner_id)) == sorted(a.sha256 for a in kept)
