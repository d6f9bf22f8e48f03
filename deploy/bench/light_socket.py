"""A minimal WebSocket client for the streams bench: the handshake, then frames parsed where
they are read, each chunk stamped there.

Why not the ``websockets`` client: with 500 sockets and 25,000 frames a second it took ~0.35 of
a core and its event loop ran late by up to ~5 ms (its p99), on the same 2 cores as the server
it measures: a load generator that competes with the server, and whose own late reads count as
the server's added latency. This one does only what the bench needs (RFC 6455): an HTTP/1.1
upgrade, whole unfragmented frames from the server (text, ping, close; the server sends no
other kind to this client), masked text frames and pongs to it. It reads with an
``asyncio.Protocol`` (no stream reader, no task per socket) and stamps every chunk frame of a
read with the read's time. Anything unexpected (a masked server frame, a fragment, a handshake
other than 101) raises :class:`SocketFailed`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from typing import Any, Final, cast
from urllib.parse import urlsplit

TEXT: Final = 0x1
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA


class SocketFailed(Exception):
    """The handshake was refused, the server closed the socket or broke the protocol."""


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (RFC 6455 §5.3: every client frame is masked)."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    mask = (key * (length // 4 + 1))[:length]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(length, "big")
    return header + key + body


class LightSocket(asyncio.Protocol):
    """One client socket. ``on_text(text, read_at)`` gets every text frame, in order."""

    def __init__(self, request: bytes, on_text: Callable[[str, float], None]) -> None:
        self._request = request
        self._on_text = on_text
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for future in (self.opened, self.closed):  # a failure nobody awaited is not logged at exit
            future.add_done_callback(_retrieved)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no asyncio.Transport subclass
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        failure = SocketFailed(f"connection lost: {exc}" if exc else "connection closed")
        for future in (self.opened, self.closed):
            if not future.done():
                future.set_exception(failure)

    def data_received(self, data: bytes) -> None:
        read_at = time.perf_counter()
        self._buffer += data
        try:
            if not self._upgraded and not self._handshake():
                return
            self._frames(read_at)
        except SocketFailed as exc:
            self._fail(exc)

    def send_text(self, text: str) -> None:
        if self.transport is None or self.transport.is_closing():
            raise SocketFailed("the socket is closed")
        self.transport.write(_masked(TEXT, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_masked(CLOSE, struct.pack("!H", 1000)))
            self.transport.close()

    def _handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        if not head[0].startswith("HTTP/1.1 101"):
            raise SocketFailed(f"handshake refused: {head[0]}")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self._upgraded = True
        if not self.opened.done():
            self.opened.set_result(headers)
        return True

    def _frames(self, read_at: float) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            if second & 0x80 or not first & 0x80 or first & 0x70:
                raise SocketFailed("a masked, fragmented or compressed frame from the server")
            length, start = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            opcode = first & 0x0F
            if opcode == TEXT:
                self._on_text(payload.decode(), read_at)
            elif opcode == PING and self.transport is not None:
                self.transport.write(_masked(PONG, payload))
            elif opcode == CLOSE:
                code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
                raise SocketFailed(f"closed by the server ({code})")

    def _fail(self, exc: SocketFailed) -> None:
        for future in (self.opened, self.closed):
            if not future.done():
                future.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def connect(
    url: str, subprotocols: list[str], on_text: Callable[[str, float], None], *, extensions: str | None = None
) -> LightSocket:
    """A socket to ``ws://host:port/path`` offering ``subprotocols`` (and ``extensions``: the
    caller refuses any the server accepts), its handshake done (its response headers, lower-case
    names, in ``socket.opened``)."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None or parts.port is None:
        raise ValueError(f"not a ws://host:port URL: {url}")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}\r\n"
        + (f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else "")
        + "\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _, socket = await loop.create_connection(
        lambda: LightSocket(request, on_text), parts.hostname, parts.port
    )
    await socket.opened
    return socket
