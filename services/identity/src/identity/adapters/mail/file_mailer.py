"""The :class:`Mailer` of the local cluster: each message an ``.eml`` file in a directory.

Names sort by time (``20261123T101500.123456Z-<message-id>.eml``), so the newest
reset link is the last file. A file appears whole or not at all (written beside
its final name, then renamed), and only its owner can read it: it holds a live token.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC
from pathlib import Path

import structlog

from identity.adapters.mail.mime import build_message, message_id, parse_address, recipient_domain
from identity.application.mail import MailDeliveryError, OutgoingMail
from shared.kernel.clock import Clock, SystemClock

_log = structlog.get_logger("identity.mail")

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")


class FileMailer:
    """Writes messages under ``directory`` (created on first use) instead of sending them."""

    def __init__(self, directory: Path, *, sender: str, clock: Clock | None = None) -> None:
        self._directory = directory
        self._sender = parse_address(sender, what="sender")
        self._clock = clock or SystemClock()

    async def send(self, message: OutgoingMail) -> None:
        now = self._clock.now()
        mime = build_message(message, sender=self._sender, now=now)
        msgid = message_id(mime)
        name = f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{_UNSAFE.sub('_', msgid)}.eml"
        try:
            await asyncio.to_thread(_write_atomically, self._directory, name, mime.as_bytes())
        except OSError as exc:
            raise MailDeliveryError(f"could not write {name} to {self._directory}: {exc.strerror}") from exc
        _log.info("mail.written", recipient_domain=recipient_domain(message.to), message_id=msgid, file=name)


def _write_atomically(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    # A dot-name without the .eml suffix: nothing globbing for mail sees a half-written file.
    partial = directory / f".{name}.partial"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(partial, flags, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            # The umask can only take bits away; this makes the mode exactly 0600 whatever it is.
            os.fchmod(file.fileno(), FILE_MODE)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, directory / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
