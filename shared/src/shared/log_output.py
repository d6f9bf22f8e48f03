"""Where structlog's lines go: the ``sys.stdout`` of the moment, flushed in batches.

structlog's ``PrintLogger`` flushes after every line: one ``write(2)`` per line, and
one wake-up of whatever reads the pipe (a container runtime, the local cluster's
supervisor). With an access line per request that cost a third of an API's
throughput on two cores. Here a line written on an event loop is flushed
``FLUSH_DELAY_S`` after the first unflushed one, together with those that came
meanwhile; a line written off any loop (start-up, a thread, a CLI) is flushed at
once. What a hard kill (SIGKILL) can lose is at most that last fraction of a second;
a normal exit flushes ``sys.stdout`` as always. (``PYTHONUNBUFFERED`` would undo all of
this: every write would reach the pipe at once. Services are not run with it.)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Final, TextIO

FLUSH_DELAY_S: Final = 0.05


class FlushBatcher:
    """Flushes the streams written to ``delay_s`` after the first unflushed write, together.

    Off any event loop (or when told :meth:`flush`), at once.
    """

    def __init__(self, delay_s: float = FLUSH_DELAY_S) -> None:
        self._delay_s = delay_s
        self._dirty: set[TextIO] = set()
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def wrote(self, stream: TextIO) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            stream.flush()
            return
        self._dirty.add(stream)
        # A flush scheduled on a loop that has ended since would never run: schedule anew.
        if self._scheduled_on is not loop:
            self._scheduled_on = loop
            loop.call_later(self._delay_s, self.flush)

    def flush(self) -> None:
        self._scheduled_on = None
        dirty, self._dirty = self._dirty, set()
        for stream in dirty:
            try:
                stream.flush()
            except (OSError, ValueError):  # closed, or the reader went away
                continue


_batcher = FlushBatcher()


class BatchingStdoutLogger:
    """A structlog logger (every level method is :meth:`msg`) writing to ``sys.stdout``."""

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        _batcher.wrote(stream)

    log = debug = info = warn = warning = error = err = critical = fatal = exception = msg


def write_line(line: str) -> None:
    """Writes one rendered line (no newline) the way structlog's lines go: to ``sys.stdout``
    of the moment, flushed in batches. For writers that render their own lines."""
    _LOGGER.msg(line)


def batching_stdout_logger(*_: Any) -> BatchingStdoutLogger:
    """structlog ``logger_factory``."""
    return _LOGGER


_LOGGER: Final = BatchingStdoutLogger()
