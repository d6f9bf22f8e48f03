"""The mail port."""

from __future__ import annotations

from typing import Protocol

from identity.application.mail import OutgoingMail


class Mailer(Protocol):
    """Hands one message to the mail system.

    Best-effort, after commit: a use case sends only once its transaction has
    committed (a rollback cannot unsend a message), and off the response's path
    where timing matters (password reset answers the same, in the same time,
    whether or not the account exists, so it cannot wait for an SMTP server).
    Delivery is not retried: the links expire within minutes, and the user can
    simply ask again. ``send`` raises :class:`MailDeliveryError` when the message
    could not be handed over; the caller logs it and carries on.
    """

    async def send(self, message: OutgoingMail) -> None: ...
