"""An API process with a slow route, an endless event stream and an endless WebSocket, served by
uvicorn as the services' ``api`` command serves theirs, for test_api_drain.
argv = port shutdown_delay_s grace_s."""

import asyncio
import sys
from collections.abc import AsyncIterator

import uvicorn
from litestar import WebSocket, get, websocket
from litestar.response import ServerSentEvent, ServerSentEventMessage

from shared.http.app import create_service_app
from shared.logging import configure_logging


@get("/slow", sync_to_thread=False)
async def slow() -> dict[str, str]:
    await asyncio.sleep(2.0)
    return {"status": "finished"}


@get("/events")
async def events() -> ServerSentEvent:
    async def ticks() -> AsyncIterator[ServerSentEventMessage]:
        n = 0
        while True:
            yield ServerSentEventMessage(event="tick", id=n, data=str(n), retry=5000)
            n += 1
            await asyncio.sleep(0.1)

    return ServerSentEvent(ticks())


@websocket("/socket")
async def ticking(socket: WebSocket) -> None:
    await socket.accept()
    while True:
        await socket.send_text("tick")
        await asyncio.sleep(0.1)


def main() -> None:
    port, delay_s, grace_s = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    configure_logging("draining")
    app = create_service_app(
        service="draining", version="0", route_handlers=[slow, events, ticking], shutdown_delay_s=delay_s
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        timeout_graceful_shutdown=grace_s,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
