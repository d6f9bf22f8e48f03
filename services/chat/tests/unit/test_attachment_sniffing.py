"""What uploaded bytes are is decided by their content: each accepted type is recognised when
well-formed, and a file that only starts like one (or is anything else) is refused."""

from __future__ import annotations

import io

import pytest
from services.chat.tests.attachment_samples import ACCEPTED, REFUSED, mp3, png

from chat.adapters.blobs.sniffing import FileTypeSniffer, sniff_file
from chat.application.ports.attachments import Sniffed, StagedBlob


def sniffed(data: bytes) -> str | None:
    return sniff_file(lambda: io.BytesIO(data))


@pytest.mark.parametrize(("media_type", "make"), ACCEPTED.items(), ids=list(ACCEPTED))
def test_a_well_formed_file_of_each_accepted_type_is_recognised(media_type, make):
    assert sniffed(make()) == media_type


@pytest.mark.parametrize("make", REFUSED.values(), ids=list(REFUSED))
def test_a_hostile_or_unaccepted_file_is_refused(make):
    assert sniffed(make()) is None


def test_an_mp3_without_an_id3_tag_is_still_audio():
    assert sniffed(mp3(id3=False)) == "audio/mpeg"


def test_an_mp3_signature_without_a_second_frame_where_it_belongs_is_refused():
    assert sniffed(mp3(frames=1) + b"#!/bin/sh\nrm -rf ~\n") is None


def test_a_png_cut_short_is_refused():
    whole = png(4, 4)
    assert sniffed(whole[: len(whole) - 12]) is None


def test_text_with_a_byte_order_mark_is_text_but_html_behind_one_is_not():
    assert sniffed(b"\xef\xbb\xbfhello\n") == "text/plain"
    assert sniffed(b"\xef\xbb\xbf  <html><script>x</script></html>") is None


def test_text_that_mentions_markup_further_down_is_still_text():
    assert sniffed(b"# Notes\n\nThe page had <script> tags in it.\n") == "text/plain"


def test_an_empty_file_is_nothing():
    assert sniffed(b"") is None


async def test_the_sniffer_reads_the_staged_bytes_off_the_event_loop():
    data = png()
    staged = StagedBlob(token="0" * 32, size_bytes=len(data), sha256="0" * 64, open=lambda: io.BytesIO(data))

    assert await FileTypeSniffer().sniff(staged) == Sniffed(media_type="image/png")
