"""A signalled API process drains: unready at once, requests in flight finished, event streams
ended with a reconnect hint, WebSockets closed with 1012 (service restart), then gone (issue 10)."""

import asyncio
import signal
import sys
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from aiorch_devkit.devservers import free_port
from shared.http.draining import STREAM_FAREWELL

from .conftest import eventually

DELAY_S = 1.5


async def test_a_signalled_api_turns_unready_finishes_requests_in_flight_and_ends_streams(tmp_path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("draining_api.py")),
        str(port),
        str(DELAY_S),
        "10",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def serving():
                try:
                    return (await client.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(serving, timeout=30, step=0.1)

            async def read_stream() -> bytes:
                received = b""
                async with (
                    httpx.AsyncClient(base_url=base, timeout=30) as streaming,
                    streaming.stream("GET", "/events") as response,
                ):
                    assert response.headers["content-type"].startswith("text/event-stream")
                    async for chunk in response.aiter_bytes():
                        received += chunk
                return received

            async def socket_closed_with() -> int | None:
                async with connect(f"ws://127.0.0.1:{port}/socket", open_timeout=10) as peer:
                    try:
                        while True:
                            await peer.recv()
                    except ConnectionClosed as closed:
                        return None if closed.rcvd is None else closed.rcvd.code

            stream = asyncio.create_task(read_stream())
            socket = asyncio.create_task(socket_closed_with())
            await asyncio.sleep(0.3)  # a few ticks arrive
            in_flight = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0.2)  # the slow request is in the server's hands

            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            unready = await client.get("/health/ready")  # within the delay: still answering
            assert unready.status_code == 503
            assert "shutting down" in unready.json()["detail"]

            finished = await in_flight  # begun before the signal: answered in full
            assert finished.status_code == 200
            assert finished.json() == {"status": "finished"}

            body = await asyncio.wait_for(stream, 15)  # ended by the server, not by us
            assert body.count(b"event: tick") >= 3
            assert body.endswith(STREAM_FAREWELL)
            assert await asyncio.wait_for(socket, 15) == 1012  # "service restart": reconnect elsewhere

        await asyncio.wait_for(process.wait(), 15)
        assert process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
