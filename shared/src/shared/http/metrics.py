"""Prometheus request metrics, served at ``/metrics``.

The series Litestar's ``PrometheusMiddleware`` records, under the same names and labels
(``aiorch_requests_total``, ``aiorch_request_duration_seconds``,
``aiorch_requests_in_progress``, ``aiorch_requests_error_total``; labels ``method``,
``path`` as the route template, ``status_code``, ``app_name``), for a fraction of its
per-request cost: it runs on every request, so it builds no ``Request``, no label dicts,
looks each labelled child up once per label set instead of on every request, and adds
up what the requests finishing in one turn of the event loop record, to write it to the
series once, at the end of that turn (and before a scrape).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from typing import Final

from litestar.exceptions import HTTPException
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


class _Finished:
    """The series of one route, method and status, and what finished since the last flush.

    With several workers every update of a series is a locked write to a memory-mapped file
    (after a ``getpid()``): five per request. Added up here and written once per turn of
    the event loop (under load, many requests finish in one turn), they cost a few
    additions per request.
    """

    __slots__ = (
        "bounds",
        "count",
        "errors",
        "histogram",
        "pending",
        "pending_buckets",
        "pending_sum",
    )

    def __init__(self, labels: tuple[str, str, str, str], server_error: bool) -> None:
        self.count = _REQUESTS.labels(*labels)
        self.histogram = _DURATION.labels(*labels)
        self.errors = _ERRORS.labels(*labels) if server_error else None
        # prometheus_client's own bucket bounds (the last is +Inf) and per-bucket values
        self.bounds: list[float] = self.histogram._upper_bounds
        self.pending = 0
        self.pending_sum = 0.0
        self.pending_buckets = [0] * len(self.bounds)

    def add(self, seconds: float) -> None:
        self.pending += 1
        self.pending_sum += seconds
        # Histogram.observe's bucket: the first bound at or above the value
        self.pending_buckets[bisect_left(self.bounds, seconds)] += 1

    def flush(self) -> None:
        count, self.pending = self.pending, 0
        if not count:
            return
        self.count.inc(count)
        if self.errors is not None:
            self.errors.inc(count)
        self.histogram._sum.inc(self.pending_sum)
        self.pending_sum = 0.0
        buckets = self.histogram._buckets
        for index, added in enumerate(self.pending_buckets):
            if added:
                buckets[index].inc(added)
        self.pending_buckets = [0] * len(self.bounds)


class _Children:
    """The series of one route and method; those of each status resolved on its first use."""

    __slots__ = ("app_name", "done", "in_progress", "method", "path", "started")

    def __init__(self, method: str, path: str, app_name: str) -> None:
        self.method, self.path, self.app_name = method, path, app_name
        self.in_progress = _IN_PROGRESS.labels(method, path, _STARTED_STATUS, app_name)
        self.started = 0  # requests started minus finished since the last flush
        self.done: dict[int, _Finished] = {}

    def finished(self, status: int) -> _Finished:
        done = self.done.get(status)
        if done is None:
            labels = (self.method, self.path, str(status), self.app_name)
            done = self.done[status] = _Finished(labels, server_error=status >= 500)
        return done

    def flush(self) -> None:
        started, self.started = self.started, 0
        if started:
            self.in_progress.inc(started)
        for done in self.done.values():
            done.flush()


class _Pending:
    """The series with updates not written yet, flushed at the end of the event loop's turn
    (at once off any loop). Not later: with several workers, a scrape another worker answers
    right after a request must count it, as it did when every request wrote at once."""

    def __init__(self) -> None:
        self._dirty: set[_Children] = set()
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def touched(self, children: _Children) -> None:
        self._dirty.add(children)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        # A flush scheduled on a loop that has ended since would never run: schedule anew.
        if self._scheduled_on is not loop:
            self._scheduled_on = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled_on = None
        dirty, self._dirty = self._dirty, set()
        for children in dirty:
            children.flush()


_pending: Final = _Pending()


def flush_metrics() -> None:
    """Writes what this process's requests recorded to the series now (before a scrape)."""
    _pending.flush()


class RequestMetricsMiddleware:
    """Litestar middleware (it runs after routing, so the path template is known)."""

    def __init__(self, app: ASGIApp, *, app_name: str) -> None:
        self.app = app
        self._app_name = app_name
        self._children: dict[tuple[str, str], _Children] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path_template")
        if scope["type"] != "http" or path is None or path.startswith(EXCLUDED):  # type: ignore[comparison-overlap]
            if path == "/metrics":
                flush_metrics()  # the scrape shows this process's requests up to now
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

        children.started += 1
        _pending.touched(children)
        try:
            await self.app(scope, receive, observed_send)
        except Exception as exc:
            # Raised past the route's own exception handler (the input guard's refusals): the
            # app's outer one answers it, with the exception's status, where this send never sees.
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            finished = time.perf_counter()
            raise
        finally:
            children.started -= 1
            children.finished(status).add(finished - started)
            _pending.touched(children)
