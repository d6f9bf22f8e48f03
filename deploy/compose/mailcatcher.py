"""A tiny SMTP catcher for the compose stack: every message identity sends becomes an ``.eml`` file.

Why not a catcher image (MailHog, Mailpit): none can be pulled where no registry answers,
and aiosmtpd is a test dependency the service image does not carry. This is the standard
library only, run by the service image's Python (``python mailcatcher.py``): enough of
RFC 5321 for a submitting client (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), no
relaying, no authentication (identity sends with ``IDENTITY_SMTP_SECURITY=none``).

Each message is written as ``<MAILCATCHER_DIR>/<UTC time>-<n>.eml`` (beside its final
name, then renamed, so a reader globbing ``*.eml`` never sees half a message), the same
layout as identity's file mailer, so ``ls`` and the system tests read either.

Environment: ``MAILCATCHER_HOST`` (0.0.0.0), ``MAILCATCHER_PORT`` (1025),
``MAILCATCHER_DIR`` (/var/lib/aiorch/mail).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
_counter = itertools.count(1)


def store(directory: Path, data: bytes) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{next(_counter):06d}.eml"
    partial = directory / f".{name}.partial"
    # only its owner reads it, as identity's file mailer writes them: a message holds a live token
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    final = directory / name
    partial.rename(final)
    return final


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, directory: Path) -> None:
    async def reply(line: str) -> None:
        writer.write(f"{line}\r\n".encode())
        await writer.drain()

    await reply("220 aiorch-mailcatcher ESMTP")
    recipients: list[str] = []
    sender: str | None = None
    try:
        while line := await reader.readline():
            if len(line) > MAX_LINE_BYTES:
                await reply("500 line too long")
                break
            verb, _, argument = line.decode("ascii", "replace").strip().partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                await reply(f"250-aiorch-mailcatcher\r\n250-SIZE {MAX_MESSAGE_BYTES}\r\n250 8BITMIME")
            elif verb == "HELO":
                await reply("250 aiorch-mailcatcher")
            elif verb == "MAIL":
                sender, recipients = argument, []
                await reply("250 OK")
            elif verb == "RCPT":
                if sender is None:
                    await reply("503 MAIL first")
                    continue
                recipients.append(argument)
                await reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    await reply("503 RCPT first")
                    continue
                await reply("354 end with <CRLF>.<CRLF>")
                data = await read_data(reader)
                if data is None:
                    await reply("552 message too large")
                else:
                    path = await asyncio.to_thread(store, directory, data)
                    print(f"mailcatcher: stored {path.name} for {len(recipients)} recipient(s)", flush=True)
                    await reply("250 OK: stored")
                sender, recipients = None, []
            elif verb == "RSET":
                sender, recipients = None, []
                await reply("250 OK")
            elif verb == "NOOP":
                await reply("250 OK")
            elif verb == "QUIT":
                await reply("221 bye")
                break
            else:
                await reply("502 command not implemented")
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def read_data(reader: asyncio.StreamReader) -> bytes | None:
    """The message up to the lone ``.``, dot-unstuffed; None past the size limit (read to its end)."""
    lines: list[bytes] = []
    size = 0
    while True:
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        if line in (b".\r\n", b".\n"):
            break
        if line.startswith(b".."):
            line = line[1:]
        size += len(line)
        if size <= MAX_MESSAGE_BYTES:
            lines.append(line)
    return b"".join(lines) if size <= MAX_MESSAGE_BYTES else None


async def main() -> None:
    host = os.environ.get("MAILCATCHER_HOST", "0.0.0.0")  # the container's own interfaces
    port = int(os.environ.get("MAILCATCHER_PORT", "1025"))
    directory = Path(os.environ.get("MAILCATCHER_DIR", "/var/lib/aiorch/mail"))
    server = await asyncio.start_server(lambda r, w: session(r, w, directory), host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"mailcatcher: listening on {host}:{port}, writing to {directory}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
