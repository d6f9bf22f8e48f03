"""The streams bench's WebSocket client (deploy/bench/light_socket.py) against a real RFC 6455
server (the ``websockets`` library's): its figures are only as good as its frame parsing."""

import asyncio
import sys
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "bench"))

from light_socket import SocketFailed, connect  # deploy/bench holds scripts

SIZES = (5, 125, 126, 300, 65_535, 70_000)  # every length encoding: 7-bit, 16-bit, 64-bit


async def test_frames_of_every_length_arrive_whole_and_in_order_and_a_ping_is_answered():
    received: list[str] = []
    heard: asyncio.Queue[str] = asyncio.Queue()
    ponged = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        assert ws.subprotocol == "aiorch.v1"
        heard.put_nowait(str(await ws.recv()))
        for size in SIZES:  # several frames in one write too: the client parses them from one read
            await ws.send("x" * size)
        await (await ws.ping(b"are you there"))  # resolves only when the pong comes back
        ponged.set()
        await ws.send("last")
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, subprotocols=["aiorch.v1"]) as server:
        port = server.sockets[0].getsockname()[1]
        socket = await connect(
            f"ws://127.0.0.1:{port}/path", ["aiorch.v1", "bearer.t"], lambda t, _: received.append(t)
        )
        headers = await socket.opened
        socket.send_text('{"type":"message","content":"hé"}')  # masked, and not ASCII
        assert await asyncio.wait_for(heard.get(), 5) == '{"type":"message","content":"hé"}'
        await asyncio.wait_for(ponged.wait(), 5)
        for _ in range(100):
            if received and received[-1] == "last":
                break
            await asyncio.sleep(0.01)
        socket.close()

    assert headers["sec-websocket-protocol"] == "aiorch.v1"
    assert [len(text) for text in received] == [*SIZES, 4]


async def test_a_refused_handshake_and_a_server_close_fail_the_socket():
    async def handler(ws: ServerConnection) -> None:
        await ws.close(code=1008, reason="policy")

    async with serve(handler, "127.0.0.1", 0, subprotocols=["aiorch.v1"]) as server:
        port = server.sockets[0].getsockname()[1]
        socket = await connect(f"ws://127.0.0.1:{port}/", ["aiorch.v1"], lambda t, _: None)
        with pytest.raises(SocketFailed, match="1008"):
            await asyncio.wait_for(socket.closed, 5)

        with pytest.raises(SocketFailed, match="handshake refused"):  # no subprotocol it speaks: 400
            await connect(f"ws://127.0.0.1:{port}/", ["other"], lambda t, _: None)
