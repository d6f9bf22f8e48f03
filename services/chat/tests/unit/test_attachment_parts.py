"""A user message's attachments become model input by what the model takes: parts for a model
that sees or hears, inlined text for every model, and a plain note for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from services.chat.tests.attachment_samples import mp3, ogg, pdf, png, text
from services.chat.tests.unit.test_attachment_use_cases import FakeBlobStore

from chat.application.attachment_parts import ModelSenses, size_label, with_attachments
from chat.domain.attachments import Attachment, Kind
from shared.kernel.ai import AudioPart, ChatMessage, ImagePart
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = new_id()
QUESTION = ChatMessage(role="user", content="What are these?")


async def stored(
    blobs: FakeBlobStore, kind: Kind, media_type: str, name: str, data: bytes, **extra
) -> Attachment:
    sha = await blobs.put(OWNER, data)
    return Attachment(
        id=new_id(),
        owner_id=OWNER,
        message_id=new_id(),
        kind=kind,
        media_type=media_type,
        filename=name,
        size_bytes=len(data),
        sha256=sha,
        created_at=NOW,
        **extra,
    )


async def everything(blobs: FakeBlobStore) -> list[Attachment]:
    return [
        await stored(blobs, "image", "image/png", "chart.png", png()),
        await stored(blobs, "audio", "audio/mpeg", "memo.mp3", mp3()),
        await stored(blobs, "audio", "audio/ogg", "voice.ogg", ogg(), transcript="call me back"),
        await stored(blobs, "text", "text/plain", "notes.txt", text()),
        await stored(blobs, "pdf", "application/pdf", "spec.pdf", pdf()),
    ]


def test_senses_are_read_from_the_registry_parameters_and_only_true_counts():
    assert ModelSenses.of({"vision": True, "audio_input": True}) == ModelSenses(vision=True, audio_input=True)
    assert ModelSenses.of({"vision": "yes", "audio_input": 1}) == ModelSenses()
    assert ModelSenses.of({}) == ModelSenses()


async def test_a_model_that_sees_and_hears_gets_image_and_mp3_as_parts_and_is_told_of_the_rest():
    blobs = FakeBlobStore()

    sent = await with_attachments(
        QUESTION, await everything(blobs), blobs, ModelSenses(vision=True, audio_input=True)
    )

    assert sent.parts == (ImagePart(media_type="image/png", data=png()), AudioPart(format="mp3", data=mp3()))
    assert sent.content == (
        "What are these?\n\n"
        f"[attached: voice.ogg (audio, {len(ogg())} bytes); transcript:]\ncall me back\n\n"
        f"[attached: notes.txt (text, {len(text())} bytes)]\n{text().decode()}\n\n"
        f"[attached: spec.pdf (pdf, {len(pdf())} bytes)]"
    )


async def test_a_text_only_model_is_told_plainly_what_was_attached_and_reads_the_text_files():
    blobs = FakeBlobStore()

    sent = await with_attachments(QUESTION, await everything(blobs), blobs, ModelSenses())

    assert sent.parts == ()
    assert f"[attached: chart.png (image, {size_label(len(png()))})]" in sent.content
    assert f"[attached: memo.mp3 (audio, {size_label(len(mp3()))})]" in sent.content
    assert text().decode() in sent.content


async def test_an_attachment_whose_content_is_gone_is_named_not_sent():
    blobs = FakeBlobStore()
    image = await stored(blobs, "image", "image/png", "gone.png", png())
    await blobs.delete_owner(OWNER)

    sent = await with_attachments(QUESTION, [image], blobs, ModelSenses(vision=True))

    assert sent.parts == ()
    assert "gone.png" in sent.content
    assert "no longer available" in sent.content


async def test_a_long_text_file_is_cut_and_the_cut_said():
    blobs = FakeBlobStore()
    long = await stored(blobs, "text", "text/plain", "log.txt", b"x" * 150_000)

    sent = await with_attachments(QUESTION, [long], blobs, ModelSenses())

    assert "x" * 100_000 in sent.content
    assert "x" * 100_001 not in sent.content
    assert "first 100000 of 150000 characters" in sent.content


async def test_a_message_without_attachments_is_unchanged():
    assert await with_attachments(QUESTION, [], FakeBlobStore(), ModelSenses(vision=True)) == QUESTION


def test_sizes_read_as_people_say_them():
    assert [size_label(n) for n in (532, 12_800, 3_250_000)] == ["532 bytes", "12.5 KB", "3.1 MB"]
