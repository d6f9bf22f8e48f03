"""Structured JSON logs on stdout, one object per line, a request id on each.

Everything goes through structlog, including the standard library's loggers
(uvicorn, SQLAlchemy, nats), so every line has the same shape. Values under
keys that name a secret are replaced before rendering, as a last line of defence:
code must not log secrets in the first place.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from shared.log_output import batching_stdout_logger

SECRET_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "api_key",
        "secret",
        "cookie",
        "set-cookie",
    }
)
REDACTED = "[redacted]"
# msgspec renders a line about four times faster than json.dumps; a value it has no encoding
# for (an exception object, a Path...) is written as its str() rather than failing the line.
_encoder = msgspec.json.Encoder(enc_hook=str)


@dataclass(frozen=True, slots=True)
class LineSettings:
    """What :func:`configure_logging` set, for writers that render their own lines (the access
    log): the ``service`` every line names and the least ``level`` written."""

    service: str
    level: int

    def writes(self, level: int) -> bool:
        return level >= self.level


_line_settings: LineSettings | None = None


def line_settings() -> LineSettings | None:
    """The settings of the last :func:`configure_logging` (None before the first)."""
    return _line_settings


def _serialize(event: Any, **_: Any) -> str:
    return _encoder.encode(event).decode()


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event.keys() & SECRET_KEYS:
        event[key] = REDACTED
    return event


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the ``sys.stdout`` of the moment, like structlog's PrintLogger above."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        return


def configure_logging(service: str, level: str = "INFO") -> None:
    """Idempotent: safe to call from every entrypoint and from tests."""
    global _line_settings
    _line_settings = LineSettings(service, logging.getLevelName(level.upper()))

    def add_service(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_serialize),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # each line goes to the sys.stdout of the moment (tests swap it), flushed in batches
        logger_factory=batching_stdout_logger,
        # not cached: a cached logger would ignore a later reconfiguration (structlog.testing
        # captures by reconfiguring); the per-call cost is a dictionary lookup
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_serialize),
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route them through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # one access line per request is written by our middleware, with the request id
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


class RateLimitedLog:
    """At most one line per ``interval_s`` for a condition that repeats (a broker away: its
    client fails a reconnection every half second); each line written says how many were held
    back since the previous one (``repeated``), so nothing is hidden, only folded.

    :meth:`settle` ends the episode: it writes how many were held back since the last line, if
    any, and lets the next occurrence through at once.
    """

    def __init__(
        self, logger: Any, *, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None
        self._held_back = 0

    @property
    def held_back(self) -> int:
        return self._held_back

    @property
    def active(self) -> bool:
        """Whether an episode is on: a warning came since the start or the last :meth:`settle`."""
        return self._last is not None

    def warning(self, event: str, **fields: Any) -> bool:
        """Write ``event`` unless a line was written less than ``interval_s`` ago; True if written."""
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            self._held_back += 1
            return False
        if self._held_back:
            fields["repeated"] = self._held_back
        self._logger.warning(event, **fields)
        self._last, self._held_back = now, 0
        return True

    def settle(self, event: str, **fields: Any) -> None:
        """Write ``event`` (info) with the count held back since the last line; start afresh."""
        if self._held_back:
            fields["repeated"] = self._held_back
        self._logger.info(event, **fields)
        self._last, self._held_back = None, 0
