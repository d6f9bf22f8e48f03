"""Where the processes' output goes: one combined log, one log per process, a terminal.

Every line of the combined log (and of the terminal, under `make run`) starts
with the name of the process that wrote it (`identity-api | ...`), so the six
services, their migrations and the supervisor read as one stream; the
per-process files hold the raw lines, for a failure's tail.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import TextIO

from cluster_state import StateDir

from shared.log_output import FlushBatcher

PREFIX_WIDTH = len("orchestrator-migrate")
SUPERVISOR = "cluster"
_COLORS = itertools.cycle(("36", "32", "35", "33", "34", "96", "92", "95", "93"))
# Files are written through a block buffer and flushed this long after the first unflushed line:
# a line-buffered file costs a write(2) per line per file, which under load (an access line per
# request, six processes) took a visible share of the two cores the services run on.
FLUSH_DELAY_S = 0.1


class LogSink:
    def __init__(self, state: StateDir, *, echo: bool) -> None:
        state.logs.mkdir(parents=True, exist_ok=True)
        self._state = state
        self._echo = echo
        self._color = echo and sys.stdout.isatty()
        self._colors: dict[str, str] = {}
        self._combined = open(state.combined_log, "a")  # noqa: SIM115 - lives as long as the sink
        self._files: dict[str, TextIO] = {}
        self._batcher = FlushBatcher(FLUSH_DELAY_S)

    def _file(self, name: str) -> TextIO:
        # one run per file, so a failure's tail is this run's
        if name not in self._files:
            self._files[name] = open(self._state.process_log(name), "w")  # noqa: SIM115
        return self._files[name]

    def flush(self) -> None:
        self._batcher.flush()

    def _terminal_prefix(self, name: str) -> str:
        prefix = f"{name:<{PREFIX_WIDTH}} | "
        if not self._color:
            return prefix
        color = self._colors.setdefault(name, next(_COLORS))
        return f"\033[{color}m{prefix}\033[0m"

    def write(self, name: str, line: str) -> None:
        self._combined.write(f"{name:<{PREFIX_WIDTH}} | {line}\n")
        self._batcher.wrote(self._combined)
        if name != SUPERVISOR:
            own = self._file(name)
            own.write(line + "\n")
            self._batcher.wrote(own)
        if self._echo:
            self._to_terminal(self._terminal_prefix(name) + line + "\n")

    def _to_terminal(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError:  # the terminal or pipe is gone (hang-up): keep supervising, stop echoing
            self._echo = False

    def say(self, line: str) -> None:
        """A message of the supervisor's own, timed (the services' lines carry their own time)."""
        now = datetime.now()
        self.write(SUPERVISOR, f"{now:%H:%M:%S}.{now.microsecond // 1000:03d} {line}")

    def banner(self, lines: list[str]) -> None:
        """Shown unprefixed on a terminal, where a person reads it; prefixed in the log."""
        for line in lines:
            self._combined.write(f"{SUPERVISOR:<{PREFIX_WIDTH}} | {line}\n")
        self._batcher.wrote(self._combined)
        if self._echo:
            self._to_terminal("\n".join(["", *lines, ""]) + "\n")

    def tail(self, name: str, lines: int = 25) -> list[str]:
        self.flush()
        return tail(self._state.process_log(name), lines)

    def close(self) -> None:
        for handle in [self._combined, *self._files.values()]:
            handle.close()
        self._files.clear()


class LineSplitter:
    """Cuts a process's output, read in chunks, into lines; a line over ``limit`` bytes is dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._partial = b""
        self._dropping = False  # inside an over-long line, discarded up to its end

    def feed(self, chunk: bytes) -> list[str]:
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        if self._dropping and complete:
            self._dropping = False
            complete = complete[1:]
        lines = [_text(raw) for raw in complete]
        if len(self._partial) > self._limit:
            if not self._dropping:
                lines.append(f"[a line over {self._limit} bytes was dropped]")
            self._dropping, self._partial = True, b""
        return lines

    def end(self) -> list[str]:
        """What is left when the stream closes: a last line without its newline."""
        rest, self._partial = self._partial, b""
        return [_text(rest)] if rest and not self._dropping else []


def _text(raw: bytes) -> str:
    return raw.decode(errors="replace").rstrip("\r")


def rotate(path: Path, max_bytes: int = 16 << 20) -> None:
    """Keep the combined log (appended to across runs) from growing without end."""
    if path.exists() and path.stat().st_size > max_bytes:
        path.replace(path.with_name(path.name + ".1"))


def tail(path: Path, lines: int, *, start: int = 0) -> list[str]:
    """The last ``lines`` lines of ``path`` after byte offset ``start``."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            return [raw.decode(errors="replace").rstrip("\n") for raw in deque(handle, maxlen=lines)]
    except FileNotFoundError:
        return []
