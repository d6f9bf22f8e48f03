"""What uploaded bytes are, by content alone: ``filetype``'s magic numbers, then the structure.

A magic number is a claim, not proof: a shell script behind a PNG signature has one. So each
accepted format is also walked far enough to know it is one: a PNG's chunks (IHDR first, every
CRC, IEND last, nothing after), a JPEG's segments up to the scan and its end marker, a GIF's
blocks up to its trailer (nothing after), the RIFF sizes of WebP and WAV, an MP3's frame
headers, an Ogg's pages and codec, a WebM's EBML doc type, a PDF's header and end marker. Text
is what is left: UTF-8 without NUL or other control bytes, and not markup a browser would run
(HTML, SVG, XML). Everything else (executables, archives, HTML...) is refused.

Strict on purpose: a file with bytes after its format's end (where a polyglot hides its script)
is refused, even though some sloppy encoders write such files and browsers would show them.
"""

from __future__ import annotations

import codecs
import re
import struct
import zlib
from collections.abc import Callable
from typing import BinaryIO, Final

import filetype  # type: ignore[import-untyped]  # ships no type hints
from anyio import to_thread

from chat.application.ports.attachments import Sniffed, StagedBlob

HEAD: Final = 8192
"""Bytes read for the magic number and the text decision of the start."""
TEXT_CHECK_CHUNK: Final = 1 << 20

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_MARKUP = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|body|script|iframe|svg|\?xml|!--|meta|object|embed)\b", re.I
)
# control characters other than tab, line feed, form feed and carriage return
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")

_MAGIC_TO_MEDIA: Final = {
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/webp": "image/webp",
    "image/gif": "image/gif",
    "audio/mpeg": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/ogg": "audio/ogg",
    "video/webm": "audio/webm",
    "application/pdf": "application/pdf",
}


class FileTypeSniffer:
    """:class:`~chat.application.ports.attachments.ContentSniffer` reading the staged bytes in a thread."""

    async def sniff(self, staged: StagedBlob) -> Sniffed | None:
        media_type = await to_thread.run_sync(sniff_file, staged.open)
        return None if media_type is None else Sniffed(media_type=media_type)


def sniff_file(open_file: Callable[[], BinaryIO]) -> str | None:
    """The accepted media type of the file ``open_file`` opens, or ``None``."""
    with open_file() as file:
        head = file.read(HEAD)
        if not head:
            return None
        kind = filetype.guess(head)
        if kind is not None:
            media_type = _MAGIC_TO_MEDIA.get(kind.mime)
            if media_type is None:
                return None
            file.seek(0)
            return media_type if _STRUCTURE[media_type](file) else None
        file.seek(0)
        return "text/plain" if _is_text(file) else None


# -- structure checks: file at offset 0, True when well-formed enough --------------------------


def _png(file: BinaryIO) -> bool:
    if file.read(8) != _PNG_SIGNATURE:
        return False
    first = True
    while True:
        header = file.read(8)
        if len(header) != 8:
            return False  # ended before IEND
        length, kind = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not kind.isalpha():
            return False
        if first and (kind != b"IHDR" or length != 13):
            return False
        crc = zlib.crc32(kind)
        remaining = length
        data = b""
        while remaining:
            piece = file.read(min(remaining, 1 << 20))
            if not piece:
                return False
            crc = zlib.crc32(piece, crc)
            if first:
                data += piece
            remaining -= len(piece)
        stored = file.read(4)
        if len(stored) != 4 or struct.unpack(">I", stored)[0] != crc:
            return False
        if first:
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            if not (width and height) or colour not in (0, 2, 3, 4, 6) or depth not in (1, 2, 4, 8, 16):
                return False
            first = False
        if kind == b"IEND":
            return file.read(1) == b""  # nothing may follow: no polyglot tail


def _jpeg(file: BinaryIO) -> bool:
    if file.read(2) != b"\xff\xd8":
        return False
    seen_frame = False
    while True:
        marker = file.read(2)
        if len(marker) != 2 or marker[0] != 0xFF:
            return False
        code = marker[1]
        while code == 0xFF:  # fill bytes
            step = file.read(1)
            if not step:
                return False
            code = step[0]
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # markers without a length
        size = file.read(2)
        if len(size) != 2 or struct.unpack(">H", size)[0] < 2:
            return False
        length = struct.unpack(">H", size)[0]
        if code in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            seen_frame = True
        if code == 0xDA:  # start of scan: entropy-coded data follows, up to the end marker
            break
        file.seek(length - 2, 1)
    if not seen_frame:
        return False
    file.seek(0, 2)
    end = file.tell()
    file.seek(max(0, end - 64))
    tail = file.read().rstrip(b"\x00")
    return tail.endswith(b"\xff\xd9")


def _gif(file: BinaryIO) -> bool:
    header = file.read(13)
    if len(header) != 13 or header[:6] not in (b"GIF87a", b"GIF89a"):
        return False
    width, height = struct.unpack("<HH", header[6:10])
    if not (width and height):
        return False
    if header[10] & 0x80:  # global colour table
        file.seek(3 << ((header[10] & 0x07) + 1), 1)
    images = 0
    while True:
        introducer = file.read(1)
        if introducer == b";":  # the trailer, and nothing after it: no polyglot tail
            return images > 0 and file.read(1) == b""
        if introducer == b"!":  # an extension: its label, then sub-blocks
            if len(file.read(1)) != 1 or not _gif_sub_blocks(file):
                return False
        elif introducer == b",":  # an image: descriptor, local colour table, LZW size, sub-blocks
            descriptor = file.read(9)
            if len(descriptor) != 9:
                return False
            if descriptor[8] & 0x80:
                file.seek(3 << ((descriptor[8] & 0x07) + 1), 1)
            if len(file.read(1)) != 1 or not _gif_sub_blocks(file):
                return False
            images += 1
        else:
            return False


def _gif_sub_blocks(file: BinaryIO) -> bool:
    while True:
        size = file.read(1)
        if not size:
            return False
        if size == b"\x00":
            return True
        if len(file.read(size[0])) != size[0]:
            return False


def _riff(file: BinaryIO, form: bytes) -> bytes | None:
    """The RIFF body after the form type if the sizes add up, else ``None``."""
    header = file.read(12)
    if len(header) != 12 or header[:4] != b"RIFF" or header[8:12] != form:
        return None
    declared = struct.unpack("<I", header[4:8])[0]
    file.seek(0, 2)
    actual = file.tell() - 8
    if declared > actual or declared < 4 or actual - declared > 1:  # a pad byte at most
        return None
    file.seek(12)
    return file.read(64)


def _webp(file: BinaryIO) -> bool:
    body = _riff(file, b"WEBP")
    return body is not None and body[:4] in (b"VP8 ", b"VP8L", b"VP8X")


def _wav(file: BinaryIO) -> bool:
    body = _riff(file, b"WAVE")
    return body is not None and b"fmt " in body


_MP3_BITRATE_OK = range(1, 15)
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MP3_KBPS_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_KBPS_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _mp3_frame_length(header: bytes) -> int | None:
    if len(header) != 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x3
    layer = (header[1] >> 1) & 0x3
    bitrate = header[2] >> 4
    rate = (header[2] >> 2) & 0x3
    if version == 1 or layer != 1 or bitrate not in _MP3_BITRATE_OK or rate == 3:
        return None  # reserved version, not layer III, free/bad bitrate, reserved rate
    kbps = (_MP3_KBPS_V1 if version == 3 else _MP3_KBPS_V2)[bitrate]
    sample_rate = _MP3_RATES[version][rate]
    padding = (header[2] >> 1) & 0x1
    return (144 if version == 3 else 72) * kbps * 1000 // sample_rate + padding


def _mp3(file: BinaryIO) -> bool:
    start = 0
    head = file.read(10)
    if head[:3] == b"ID3" and len(head) == 10:
        size = head[6:10]
        if any(b & 0x80 for b in size):
            return False
        start = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
        if head[5] & 0x10:  # footer
            start += 10
    file.seek(start)
    length = _mp3_frame_length(file.read(4))
    if length is None:
        return False
    file.seek(start + length)
    following = file.read(4)
    # a second frame right after the first, unless the file is a single frame
    return following == b"" or _mp3_frame_length(following) is not None


_OGG_AUDIO = (b"\x01vorbis", b"OpusHead", b"Speex   ", b"\x7fFLAC")


def _ogg(file: BinaryIO) -> bool:
    first = True
    while True:
        header = file.read(27)
        if not header and not first:
            return True
        if len(header) != 27 or header[:4] != b"OggS" or header[4] != 0:
            return False
        segments = file.read(header[26])
        if len(segments) != header[26]:
            return False
        body_length = sum(segments)
        if first:
            body = file.read(body_length)
            if len(body) != body_length or not body.startswith(_OGG_AUDIO):
                return False
            first = False
        else:
            file.seek(body_length, 1)
            if file.tell() > _size(file):
                return False


def _size(file: BinaryIO) -> int:
    here = file.tell()
    file.seek(0, 2)
    size = file.tell()
    file.seek(here)
    return size


def _webm(file: BinaryIO) -> bool:
    head = file.read(64)
    if head[:4] != b"\x1a\x45\xdf\xa3":
        return False
    at = head.find(b"\x42\x82")  # DocType
    if at < 0 or at + 3 > len(head):
        return False
    size_byte = head[at + 2]
    if not size_byte & 0x80:
        return False
    size = size_byte & 0x7F
    return head[at + 3 : at + 3 + size] == b"webm"


def _pdf(file: BinaryIO) -> bool:
    if not re.match(rb"%PDF-[12]\.\d", file.read(8)):
        return False
    file.seek(0, 2)
    end = file.tell()
    file.seek(max(0, end - 1024))
    return b"%%EOF" in file.read()


_STRUCTURE: Final[dict[str, Callable[[BinaryIO], bool]]] = {
    "image/png": _png,
    "image/jpeg": _jpeg,
    "image/webp": _webp,
    "image/gif": _gif,
    "audio/mpeg": _mp3,
    "audio/wav": _wav,
    "audio/ogg": _ogg,
    "audio/webm": _webm,
    "application/pdf": _pdf,
}


def _is_text(file: BinaryIO) -> bool:
    """UTF-8 throughout (a BOM allowed), no NUL or other control bytes, and not markup."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    first = True
    while True:
        chunk = file.read(TEXT_CHECK_CHUNK)
        if first:
            start = chunk.removeprefix(b"\xef\xbb\xbf")
            if _MARKUP.match(start[:HEAD]):
                return False
            first = False
        if _CONTROL.search(chunk):
            return False
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            return False
        if not chunk:
            return True
