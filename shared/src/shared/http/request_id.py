"""Request id: taken from ``X-Request-ID`` when the caller sends a sane one,
otherwise generated; bound to every log line of the request and echoed on the
response. A pure ASGI middleware: it runs on every request, so it stays cheap.

It also writes the access log (:mod:`shared.http.access_log`): one line per request, or
per sampled request (``access_log_sample``); a server error (5xx) always gets its line.
"""

from __future__ import annotations

import random
import re
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.access_log import write_access_line
from shared.http.docs_csp import hashing_docs_scripts
from shared.http.security_headers import DOCS_PREFIX, add_security_headers

HEADER = b"x-request-id"
TRACEPARENT = b"traceparent"
_SANE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(rb"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def _new_request_id() -> str:
    # 128 random bits as 32 hex digits, like uuid4().hex; an id need not be secret, and the
    # PRNG (reseeded after a fork) spares a system call per request.
    return f"{random.getrandbits(128):032x}"


def _incoming(scope: Scope) -> tuple[str, str | None]:
    request_id = traceparent = None
    for name, value in scope.get("headers", ()):
        if name == HEADER and _SANE.match(value):
            request_id = value.decode()
        elif name == TRACEPARENT and _TRACEPARENT.match(value):
            traceparent = value.decode()
    return request_id or _new_request_id(), traceparent  # a new id only when the caller sent none


class RequestIdMiddleware:
    """Wraps the whole app (not only routed handlers) so 404s and 405s get an id too.

    ``access_log_sample`` is the fraction of requests that get an access line: 1 every one,
    0 none but server errors. Being outermost, it also adds the security headers
    (:mod:`shared.http.security_headers`; HSTS when ``hsts``) to every answer.
    """

    def __init__(self, app: ASGIApp, *, access_log_sample: float = 1.0, hsts: bool = False) -> None:
        if not 0.0 <= access_log_sample <= 1.0:
            raise ValueError("access_log_sample must be between 0 and 1")
        self.app = app
        self._sample = access_log_sample
        self._hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        request_id, traceparent = _incoming(scope)
        started = time.perf_counter()
        status = 500
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if traceparent:  # events written by this request carry the caller's trace
            structlog.contextvars.bind_contextvars(traceparent=traceparent)
        if scope["path"].startswith(DOCS_PREFIX):  # the docs pages: their inline script by its hash
            send = hashing_docs_scripts(send)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((HEADER, request_id.encode()))
                add_security_headers(headers, scope["path"], hsts=self._hsts)
                message["headers"] = headers  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if self._logged(status) and not path.startswith("/health") and path != "/metrics":
                write_access_line(
                    method=scope["method"],  # type: ignore[typeddict-item]  # an HTTP scope's
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    request_id=request_id,
                    traceparent=traceparent,
                )
            structlog.contextvars.unbind_contextvars("request_id", "traceparent")

    def _logged(self, status: int) -> bool:
        sample = self._sample
        return sample >= 1.0 or status >= 500 or (sample > 0.0 and random.random() < sample)
