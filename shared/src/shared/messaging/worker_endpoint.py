"""The worker's HTTP endpoint: ``/metrics``, ``/health/live`` and ``/health/ready``.

The worker (relay, consumers, chores) has no web framework and needs none for three fixed
paths: the standard library's threaded server answers them, as prometheus_client's own
``start_http_server`` does. Answering from a thread means the answer alone proves nothing
about the event loop, so liveness is a heartbeat the loop must keep beating
(:class:`WorkerHealth`), and readiness is what the loop last saw of the database and NATS.

* live: the loop beat within ``stale_after_s`` (a wedged loop gets the process restarted);
* ready: not stopping, NATS connected, the database answered the last probe.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final

import structlog
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging.metrics import metrics_registry

_log = structlog.get_logger("worker.health")

PROBE_TIMEOUT_S: Final = 2.0
_PROBLEM_JSON: Final = "application/problem+json"


class WorkerHealth:
    """What the endpoint's thread reports, kept current by :meth:`run` on the worker's loop."""

    def __init__(
        self, *, nats: Client, engine: AsyncEngine, every_s: float = 1.0, stale_after_s: float = 10.0
    ) -> None:
        self._nc = nats
        self._engine = engine
        self._every_s = every_s
        self._stale_after_s = stale_after_s
        self._beat = time.monotonic()
        self._database_failure: str | None = "not probed yet"
        self.stopping = False

    async def run(self, stop: asyncio.Event) -> None:
        """Beat and probe every ``every_s`` until ``stop``."""
        while not stop.is_set():
            self._beat = time.monotonic()
            self._database_failure = await self._probe_database()
            try:
                await asyncio.wait_for(stop.wait(), self._every_s)
            except TimeoutError:
                continue
        self.stopping = True

    async def _probe_database(self) -> str | None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            return f"database: {type(exc).__name__}: {exc}" if str(exc) else f"database: {type(exc).__name__}"
        return None

    def liveness_failure(self) -> str | None:
        silent_s = time.monotonic() - self._beat
        if silent_s > self._stale_after_s:
            return f"the event loop has not run its heartbeat for {silent_s:.0f} s"
        return None

    def readiness_failure(self) -> str | None:
        failures = [
            *(["the worker is stopping"] if self.stopping else []),
            *([] if self._nc.is_connected else ["nats: not connected"]),
            *([self._database_failure] if self._database_failure else []),
        ]
        return "; ".join(failures) or None


def _problem(status: int, title: str, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


def _handler(health: WorkerHealth | None) -> type[BaseHTTPRequestHandler]:
    checks = {}
    if health is not None:
        checks = {"/health/live": health.liveness_failure, "/health/ready": health.readiness_failure}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/metrics":
                self._answer(200, CONTENT_TYPE_LATEST, generate_latest(metrics_registry()))
            elif path in checks:
                failure = checks[path]()
                if failure is None:
                    self._answer(200, "application/json", b'{"status": "ok"}')
                else:
                    self._answer(503, _PROBLEM_JSON, _problem(503, "Not ready", failure))
            else:
                self._answer(404, _PROBLEM_JSON, _problem(404, "Not Found", f"no {path}"))

        def _refuse(self) -> None:
            self._answer(405, _PROBLEM_JSON, _problem(405, "Method Not Allowed", "GET only"), allow="GET")

        do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

        def _answer(self, status: int, content_type: str, body: bytes, *, allow: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if allow is not None:
                self.send_header("Allow", allow)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds would flood the log; failures show in the answers

    return Handler


@contextmanager
def serve_worker_endpoint(
    port: int | None, host: str = "127.0.0.1", health: WorkerHealth | None = None
) -> Iterator[int | None]:
    """Serve the worker's endpoint on ``host:port`` while the block runs (not at all when ``port``
    is None); yields the port listened on (``0`` picks a free one). Without ``health`` only
    ``/metrics`` answers."""
    if port is None:
        yield None
        return
    server = ThreadingHTTPServer((host, port), _handler(health))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="worker-endpoint", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
