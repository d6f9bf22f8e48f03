"""An attachment's display name, its size rules and its one-time attachment to a message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat.domain.attachments import (
    Attachment,
    AttachmentNotAttachable,
    AttachmentTooLarge,
    EmptyAttachment,
    Kind,
    UnsupportedMediaType,
    display_name,
    ensure_fits,
    largest_accepted,
)
from chat.domain.limits import ChatLimits
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = ChatLimits(max_image_bytes=100, max_audio_bytes=300, max_document_bytes=50, max_bytes_per_user=1000)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("/absolute/path/report.pdf", "report.pdf"),
        ("bad\r\nname\x00.txt", "badname.txt"),
        ("  spaced.png  ", "spaced.png"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("dir/", "attachment"),
        ("rapport-été.txt", "rapport-été.txt"),
        ("evil\u202etxt.exe\u0085", "eviltxt.exe"),
    ],
)
def test_a_file_name_is_shown_as_its_last_path_part_without_control_characters(raw, shown):
    assert display_name(raw) == shown


def test_a_file_name_is_cut_at_255_characters():
    assert display_name("a" * 1000 + ".png") == "a" * 255


def test_each_kind_has_its_own_limit_and_text_shares_the_documents_one():
    ensure_fits("image", 100, LIMITS, used_bytes=0)
    ensure_fits("audio", 300, LIMITS, used_bytes=0)
    ensure_fits("pdf", 50, LIMITS, used_bytes=0)
    too_large: list[tuple[Kind, int]] = [("image", 101), ("audio", 301), ("pdf", 51), ("text", 51)]
    for kind, size in too_large:
        with pytest.raises(AttachmentTooLarge):
            ensure_fits(kind, size, LIMITS, used_bytes=0)


def test_the_owners_total_is_a_limit_too():
    ensure_fits("audio", 300, LIMITS, used_bytes=700)
    with pytest.raises(AttachmentTooLarge, match="together"):
        ensure_fits("audio", 300, LIMITS, used_bytes=701)


def test_an_empty_file_is_refused():
    with pytest.raises(EmptyAttachment):
        ensure_fits("text", 0, LIMITS, used_bytes=0)


def test_an_upload_of_unknown_type_may_read_up_to_the_largest_kind_or_what_is_left():
    assert largest_accepted(LIMITS, used_bytes=0) == 300
    assert largest_accepted(LIMITS, used_bytes=900) == 100
    assert largest_accepted(LIMITS, used_bytes=2000) == 0


def an_upload(media_type: str = "image/png", size: int = 10) -> Attachment:
    return Attachment.upload(
        id=new_id(),
        owner_id=new_id(),
        media_type=media_type,
        filename="../x.png",
        size_bytes=size,
        sha256="a" * 64,
        limits=LIMITS,
        used_bytes=0,
        now=NOW,
    )


def test_an_upload_takes_its_kind_from_the_sniffed_type_and_shows_a_safe_name():
    attachment = an_upload("audio/ogg")
    assert (attachment.kind, attachment.filename, attachment.message_id) == ("audio", "x.png", None)


def test_a_type_chat_does_not_accept_is_refused():
    with pytest.raises(UnsupportedMediaType):
        an_upload("application/x-msdownload")


def test_an_attachment_belongs_to_one_message_for_good():
    attachment = an_upload()
    message_id = new_id()
    attachment.attach_to(message_id)
    assert attachment.message_id == message_id
    with pytest.raises(AttachmentNotAttachable, match=str(attachment.id)):
        attachment.attach_to(new_id())
