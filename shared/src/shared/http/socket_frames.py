"""The server's own ``send`` of a WebSocket, for frames sent by the ten thousand.

Between the server and a WebSocket handler, Litestar wraps ``send`` three times (two exception
layers that watch for an HTTP response starting, and the socket's check that it is not closed):
three coroutine calls per frame that do nothing for a frame on an accepted socket, and ~10% of
the CPU of a process streaming 25,000 frames a second (chat's streams bench). The app keeps the
server's ``send`` in the scope; a handler that streams sends its data frames with it, and
accepts, closes and sends anything else through Litestar. A closed socket still refuses a frame:
the server raises its own disconnection error.
"""

from __future__ import annotations

from typing import Any, Final, cast

from litestar.types import Scope, Send

_SERVER_SEND: Final = "aiorch.server_send"


def keep_server_send(scope: Scope, send: Send) -> None:
    """Called by the app for each WebSocket scope, before Litestar wraps ``send``."""
    if scope["type"] == "websocket":  # type: ignore[comparison-overlap]
        cast(dict[str, Any], scope)[_SERVER_SEND] = send


def server_send(scope: Scope) -> Send | None:
    """The server's ``send`` of this WebSocket, if the app kept it."""
    return cast(dict[str, Any], scope).get(_SERVER_SEND)
