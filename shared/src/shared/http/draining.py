"""Graceful shutdown of an API process: stop being chosen, then end what never ends by itself.

On SIGTERM (or SIGINT) the process *drains*:

1. At once, ``/health/ready`` answers 503 (the ``shutdown`` check), so a load balancer or a
   Kubernetes Service stops sending new clients here.
2. After ``delay_s`` (``<SERVICE>_SHUTDOWN_DELAY_S``; 0 locally, a few seconds behind a load
   balancer that needs time to notice) the signal reaches uvicorn, which stops accepting,
   lets requests in flight finish within ``<SERVICE>_SHUTDOWN_GRACE_S`` and closes WebSockets
   with 1012 ("service restart": reconnect). At the same moment every Server-Sent Events
   stream ends with a last ``retry:`` line: an ``EventSource`` reconnects (with
   ``Last-Event-ID``) to another replica instead of holding this one open until the grace
   period runs out.

The handler is chained in front of uvicorn's own (installed with ``signal.signal``, which
uvicorn restores when it exits) rather than replacing uvicorn's server loop: uvicorn keeps
its whole shutdown sequence, also with several worker processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any, Final

import structlog
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

_log = structlog.get_logger("shutdown")

DRAIN_STATE_KEY: Final = "drain"
SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
# What a stream cut by the shutdown ends with: reconnect after a second (to another replica).
STREAM_FAREWELL: Final = b"retry: 1000\n: the server is restarting; reconnect\n\n"
_EVENT_STREAM: Final = b"text/event-stream"
_END_OF_BODY: Final[Message] = {"type": "http.response.body", "body": b"", "more_body": False}  # type: ignore[typeddict-item]

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Drain:
    """The process's shutdown notice, shared by readiness, the stream cutter and the lifespan."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.draining = False
        """The signal came: the process no longer wants new clients."""
        self._closing = asyncio.Event()

    @property
    def closing(self) -> asyncio.Event:
        """Set once the server stops (after the delay): streams end then."""
        return self._closing

    @contextlib.asynccontextmanager
    async def on_signals(self, _app: object = None) -> AsyncIterator[None]:
        """A lifespan hook: while the app runs, SIGTERM/SIGINT start the drain first."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread; a test running the app elsewhere has none
            return
        loop = asyncio.get_running_loop()
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

        def handle(sig: int, frame: FrameType | None) -> None:
            # In the main thread between two bytecodes of whatever ran: only thread-safe calls.
            loop.call_soon_threadsafe(self._begin, sig, frame, previous[signal.Signals(sig)])

        for sig in SIGNALS:
            signal.signal(sig, handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _begin(self, sig: int, frame: FrameType | None, server_handler: _SignalHandler) -> None:
        if not self.draining:
            self.draining = True
            _log.info("draining: no longer ready", signal=signal.Signals(sig).name, delay_s=self.delay_s)
            loop = asyncio.get_running_loop()
            loop.call_later(self.delay_s, self._stop_serving, sig, frame, server_handler)
        else:  # a second signal: no more waiting (uvicorn then forces the exit on SIGINT)
            self._stop_serving(sig, frame, server_handler)

    def _stop_serving(self, sig: int, frame: FrameType | None, server_handler: _SignalHandler) -> None:
        self._closing.set()
        if callable(server_handler):
            server_handler(sig, frame)
        else:  # no server of ours installed one (the default action): take it
            signal.signal(sig, server_handler or signal.SIG_DFL)
            signal.raise_signal(sig)


async def not_draining(state: State) -> None:
    """The readiness probe of the shutdown: fails as soon as the process drains."""
    drain: Drain | None = state.get(DRAIN_STATE_KEY)
    if drain is not None and drain.draining:
        raise RuntimeError("the process is shutting down")


class StreamDrainMiddleware:
    """Ends every ``text/event-stream`` response when the server stops, with a reconnect hint.

    Litestar cancels a streaming response when ``receive`` says the client left; this tells it
    so at the drain, then finishes the body itself (the cancelled response never does), so
    the client sees a complete answer, not a cut connection.
    """

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self._drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":  # type: ignore[comparison-overlap,typeddict-item]
            await self.app(scope, receive, send)
            return
        streaming = ended = False

        async def watching_send(message: Message) -> None:
            nonlocal streaming, ended
            if message["type"] == "http.response.start":
                streaming = any(
                    name == b"content-type" and value.startswith(_EVENT_STREAM)
                    for name, value in message.get("headers", ())
                )
            elif not message.get("more_body", False):
                ended = True
            await send(message)

        async def receive_until_closing() -> ReceiveMessage:
            if not streaming:
                return await receive()
            closing = asyncio.ensure_future(self._drain.closing.wait())
            received = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait((closing, received), return_when=asyncio.FIRST_COMPLETED)
            if received in done:
                closing.cancel()
                return received.result()
            received.cancel()
            return {"type": "http.disconnect"}

        await self.app(scope, receive_until_closing, watching_send)
        if streaming and not ended and self._drain.closing.is_set():
            with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
                await send({"type": "http.response.body", "body": STREAM_FAREWELL, "more_body": True})
                await send(_END_OF_BODY)
