"""What chat's system tests drive the cluster with: a user's HTTP client on the three APIs, and
chat's two ways of following a reply (server-sent events and the conversation's WebSocket)."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from uuid import UUID

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from .conftest import PrivateCluster

PASSWORD = "chat system passphrase"
Frame = dict[str, Any]
T = TypeVar("T")


@dataclass
class User:
    """One signed-in user: their id and an HTTP client carrying their access token."""

    cluster: PrivateCluster
    email: str
    id: UUID
    token: str
    http: httpx.AsyncClient

    async def call(
        self, method: str, service: str, path: str, expect: int | None = 200, **kwargs: Any
    ) -> httpx.Response:
        """``method`` on ``/api/v1{path}`` of ``service``; asserts the status unless ``expect`` is None."""
        answer = await self.http.request(method, self.cluster.url(service, f"/api/v1{path}"), **kwargs)
        if expect is not None:
            assert answer.status_code == expect, (
                f"{self.email}: {method} {path}: {answer.status_code} {answer.text}"
            )
        return answer

    async def chat(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> httpx.Response:
        return await self.call(method, "chat", path, expect, **kwargs)

    async def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return (await self.chat(method, path, expect, **kwargs)).json()

    async def close(self) -> None:
        await self.http.aclose()


async def sign_up(cluster: PrivateCluster, email: str, password: str = PASSWORD) -> User:
    """Register on identity (unless the account exists), sign in, and learn the user's id."""
    http = httpx.AsyncClient(timeout=30)
    identity = cluster.url("identity", "/api/v1")
    registered = await http.post(f"{identity}/auth/register", json={"email": email, "password": password})
    assert registered.status_code in (202, 409), registered.text
    return await sign_in(cluster, email, password, http)


async def sign_in(
    cluster: PrivateCluster, email: str, password: str, http: httpx.AsyncClient | None = None
) -> User:
    http = http or httpx.AsyncClient(timeout=30)
    identity = cluster.url("identity", "/api/v1")
    login = await http.post(f"{identity}/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    me = await http.get(f"{identity}/users/me")
    assert me.status_code == 200, me.text
    return User(cluster, email, UUID(me.json()["id"]), token, http)


async def eventually(check: Callable[[], Awaitable[T | None]], within_s: float, what: str) -> T:
    """The first truthy answer of ``check``, polled until ``within_s`` runs out."""
    deadline = time.monotonic() + within_s
    while not (result := await check()):
        assert time.monotonic() < deadline, f"not within {within_s} s: {what}"
        await asyncio.sleep(0.1)
    return result


# -- server-sent events ------------------------------------------------------------------------


async def sse_frames(
    user: User,
    path: str,
    *,
    last_event_id: int | None = None,
    chunks: int | None = None,
    within_s: float = 30,
    url: str | None = None,
) -> list[Frame]:
    """The frames of ``GET path`` (chat's reply stream) until its ``done``/``error``, or only the
    first ``chunks`` chunk frames (then the connection is dropped). Each event's name and ``id``
    are checked against the frame's ``type`` and ``seq``. ``url``: ``path`` on another API replica."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    frames: list[Frame] = []

    async def read() -> None:
        async with user.http.stream(
            "GET",
            url or user.cluster.url("chat", path),
            headers=headers,
            timeout=httpx.Timeout(10, read=within_s),
        ) as answer:
            assert answer.status_code == 200, (answer.status_code, await answer.aread())
            assert answer.headers["content-type"].startswith("text/event-stream")
            event: dict[str, str] = {}
            async for line in answer.aiter_lines():
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")
                    continue
                if "data" not in event:
                    event = {}
                    continue
                frame = json.loads(event["data"])
                assert event.get("event") == frame["type"], event
                assert event.get("id") == str(frame["seq"]), event
                frames.append(frame)
                event = {}
                if frame["type"] in ("done", "error"):
                    return
                if chunks is not None and sum(f["type"] == "chunk" for f in frames) >= chunks:
                    return

    await asyncio.wait_for(read(), within_s)
    return frames


# -- the conversation's WebSocket -----------------------------------------------------------------


def socket(cluster: PrivateCluster, conversation_id: str, token: str | None) -> connect:
    """The conversation's WebSocket, the token offered as a subprotocol (or None: send an auth frame)."""
    url = cluster.url("chat", f"/api/v1/conversations/{conversation_id}/ws").replace("http://", "ws://")
    protocols = [Subprotocol("aiorch.v1")] + ([Subprotocol(f"bearer.{token}")] if token else [])
    return connect(url, subprotocols=protocols, open_timeout=10, close_timeout=2)


async def receive(ws: ClientConnection, within_s: float = 20) -> Frame:
    return cast(Frame, json.loads(await asyncio.wait_for(ws.recv(), within_s)))


async def socket_frames(
    ws: ClientConnection, message_id: str, *, chunks: int | None = None, within_s: float = 30
) -> list[Frame]:
    """The frames of reply ``message_id`` until its ``done``/``error`` (or its first ``chunks`` chunks)."""
    got: list[Frame] = []
    deadline = time.monotonic() + within_s
    while True:
        frame = await receive(ws, max(0.1, deadline - time.monotonic()))
        if frame.get("message_id") != message_id:
            continue
        got.append(frame)
        if frame["type"] in ("done", "error"):
            return got
        if chunks is not None and sum(f["type"] == "chunk" for f in got) >= chunks:
            return got


def chunk_seqs(frames: list[Frame]) -> list[int]:
    return [f["seq"] for f in frames if f["type"] == "chunk"]


def text_of(frames: list[Frame]) -> str:
    return "".join(f["data"] for f in frames if f["type"] == "chunk")


# -- a file to upload -----------------------------------------------------------------------------


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG: signature, IHDR, one zlib IDAT of filter-0 rows, IEND, each chunk CRC'd."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = b"".join(b"\x00" + bytes((200, 30, 90)) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
