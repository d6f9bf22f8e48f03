"""Prometheus request metrics, served at ``/metrics``.

The series Litestar's ``PrometheusMiddleware`` records, under the same names and labels
(``aiorch_requests_total``, ``aiorch_request_duration_seconds``,
``aiorch_requests_in_progress``, ``aiorch_requests_error_total``; labels ``method``,
``path`` as the route template, ``status_code``, ``app_name``), for a fraction of its
per-request cost: it runs on every request, so it builds no ``Request``, no label dicts,
and looks each labelled child up once per label set instead of on every request.
"""

from __future__ import annotations

import time
from typing import Final

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

PREFIX: Final = "aiorch"
LABELS: Final = ("method", "path", "status_code", "app_name")
EXCLUDED: Final = ("/metrics", "/health", "/schema")
"""Path templates not measured (scrapes, probes and the API documents)."""

_REQUESTS: Final = Counter(f"{PREFIX}_requests_total", "Total requests", labelnames=LABELS)
_DURATION: Final = Histogram(
    f"{PREFIX}_request_duration_seconds", "Request duration, in seconds", labelnames=LABELS
)
_IN_PROGRESS: Final = Gauge(
    f"{PREFIX}_requests_in_progress",
    "Total requests currently in progress",
    labelnames=LABELS,
    multiprocess_mode="livesum",
)
_ERRORS: Final = Counter(f"{PREFIX}_requests_error_total", "Total errors in requests", labelnames=LABELS)

# Litestar's labels the in-progress gauge with the status it assumes before the answer.
_STARTED_STATUS: Final = "200"


class _Children:
    """The series of one route and method; those of each status resolved on its first use."""

    __slots__ = ("app_name", "done", "in_progress", "method", "path")

    def __init__(self, method: str, path: str, app_name: str) -> None:
        self.method, self.path, self.app_name = method, path, app_name
        self.in_progress = _IN_PROGRESS.labels(method, path, _STARTED_STATUS, app_name)
        self.done: dict[int, tuple[Counter, Histogram, Counter | None]] = {}

    def finished(self, status: int, seconds: float) -> None:
        done = self.done.get(status)
        if done is None:
            labels = (self.method, self.path, str(status), self.app_name)
            errors = _ERRORS.labels(*labels) if status >= 500 else None
            done = self.done[status] = (_REQUESTS.labels(*labels), _DURATION.labels(*labels), errors)
        count, duration, errors = done
        if errors is not None:
            errors.inc()
        count.inc()
        duration.observe(seconds)


class RequestMetricsMiddleware:
    """Litestar middleware (it runs after routing, so the path template is known)."""

    def __init__(self, app: ASGIApp, *, app_name: str) -> None:
        self.app = app
        self._app_name = app_name
        self._children: dict[tuple[str, str], _Children] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path_template")
        if scope["type"] != "http" or path is None or path.startswith(EXCLUDED):  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]  # type: ignore[typeddict-item]  # an HTTP scope's
        children = self._children.get((method, path))
        if children is None:
            children = self._children[(method, path)] = _Children(method, path, self._app_name)
        status = 200
        started = time.perf_counter()
        finished = started

        async def observed_send(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                finished = time.perf_counter()
            await send(message)

        children.in_progress.inc()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            children.in_progress.dec()
            children.finished(status, finished - started)
