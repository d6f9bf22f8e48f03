"""A scripted model provider on 127.0.0.1 for the AI adapters' failure tests.

Written at the socket level (asyncio streams) on purpose: the cases under test (a connection
cut mid-body, a first byte that never comes, seeing the client go away) need control over
every byte and over the socket that a web framework hides. Responses use chunked transfer
encoding, as real providers do, so a cut connection is a protocol error for the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

DONE = "data: [DONE]\n\n"


def sse(payload: Any) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def delta(content: str | None = None, finish: str | None = None) -> str:
    choice: dict[str, Any] = {"index": 0, "delta": {} if content is None else {"content": content}}
    choice["finish_reason"] = finish
    return sse({"object": "chat.completion.chunk", "choices": [choice]})


def usage(prompt: int, completion: int) -> str:
    return sse({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})


def ndjson(payload: Any) -> str:
    return json.dumps(payload) + "\n"


@dataclass
class Exchange:
    """One request as the server saw it, and whether the client went away."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)


class Reply:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, exchange: Exchange
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._exchange = exchange

    async def head(self, status: int = 200, content_type: str = "text/event-stream", **headers: str) -> None:
        lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}", "transfer-encoding: chunked"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()

    async def send(self, *texts: str) -> None:
        for text in texts:
            data = text.encode()
            self._writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await self._writer.drain()

    async def end(self) -> None:
        self._writer.write(b"0\r\n\r\n")
        await self._writer.drain()

    async def answer(self, status: int, body: Any, **headers: str) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        await self.head(status, "application/json", **headers)
        await self.send(text)
        await self.end()

    def cut(self) -> None:
        self._writer.transport.abort()

    async def until_disconnected(self, timeout: float = 5.0) -> None:
        """Wait for the client to close its side (the request is over for it)."""
        try:
            async with asyncio.timeout(timeout):
                while await self._reader.read(1024):
                    pass
        except ConnectionError:
            pass
        self._exchange.disconnected.set()


Script = Callable[[Exchange, Reply], Awaitable[None]]


class FakeProvider:
    """Answers the n-th request with the n-th script (the last one for any further request)."""

    def __init__(self, *scripts: Script) -> None:
        self._scripts = scripts
        self.exchanges: list[Exchange] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> FakeProvider:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode().split("\r\n")
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, path, _ = request_line.split(" ", 2)
            exchange = Exchange(method, path, headers, json.loads(body) if body else None)
            self.exchanges.append(exchange)
            script = self._scripts[min(len(self.exchanges), len(self._scripts)) - 1]
            await script(exchange, Reply(reader, writer, exchange))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
