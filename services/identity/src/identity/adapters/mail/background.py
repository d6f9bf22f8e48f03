"""A :class:`Mailer` that hands each message to another mailer in the background.

``send`` returns at once, so no request waits for an SMTP server, and a request's
timing cannot tell whether a message was sent (password reset answers alike for
known and unknown addresses). Failures are logged, never raised: the user can ask
again, and the links expire within minutes anyway.
"""

from __future__ import annotations

import asyncio

import structlog

from identity.adapters.mail.mime import recipient_domain
from identity.application.mail import MailDeliveryError, OutgoingMail
from identity.application.ports import Mailer

_log = structlog.get_logger("identity.mail")


class BackgroundMailer:
    def __init__(self, inner: Mailer, *, drain_timeout: float = 10.0) -> None:
        self._inner = inner
        self._drain_timeout = drain_timeout
        self._pending: set[asyncio.Task[None]] = set()

    async def send(self, message: OutgoingMail) -> None:
        task = asyncio.create_task(self._deliver(message), name="mail")
        # The loop keeps only weak references to tasks: hold one until it is done.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the messages being sent (at shutdown, and in tests)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=self._drain_timeout)

    async def _deliver(self, message: OutgoingMail) -> None:
        try:
            await self._inner.send(message)
        except MailDeliveryError as exc:
            _log.warning("mail not delivered", reason=str(exc), permanent=exc.permanent)
        except Exception:
            _log.exception("mail delivery crashed", recipient_domain=recipient_domain(message.to))
