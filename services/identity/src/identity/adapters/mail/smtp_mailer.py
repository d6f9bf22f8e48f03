"""The :class:`Mailer` that hands messages to an SMTP server (``aiosmtplib``, fully async)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib
import structlog

from identity.adapters.mail.mime import build_message, message_id, parse_address, recipient_domain
from identity.application.mail import MailDeliveryError, OutgoingMail
from shared.kernel.clock import Clock, SystemClock

_log = structlog.get_logger("identity.mail")

Security = Literal["none", "starttls", "tls"]

DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    """Where and how to submit mail; ``bootstrap`` fills it from the settings."""

    host: str
    sender: str
    """The ``From`` mailbox, ``user@host`` or ``Name <user@host>``; also the envelope sender."""
    security: Security = "starttls"
    """``starttls``: upgrade a plain connection, refuse to go on without TLS; ``tls``: TLS from
    the first byte (port 465); ``none``: no encryption (a relay on the same host or network)."""
    port: int | None = None
    """Defaults by ``security``: 25, 587 or 465."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    """Seconds each step of the SMTP conversation may take."""
    ca_file: str | None = None
    """PEM bundle that verifies the server's certificate, instead of the system's trust store."""

    def __post_init__(self) -> None:
        if self.security not in DEFAULT_PORTS:
            raise ValueError("SMTP security must be one of none, starttls, tls")
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password go together: set both or neither")
        if self.username is not None and self.security == "none" and not _is_loopback(self.host):
            raise ValueError("SMTP credentials are never sent unencrypted: use starttls or tls")
        if self.timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")
        parse_address(self.sender, what="sender")


class SmtpMailer:
    """Submits each message over its own connection (mail is rare here; no pool to keep alive).

    Only the recipient's domain and the ``Message-ID`` are logged: the body carries
    a token, and the password never leaves :class:`SmtpConfig` but for the server.
    """

    def __init__(self, config: SmtpConfig, *, clock: Clock | None = None) -> None:
        self._config = config
        self._sender = parse_address(config.sender, what="sender")
        self._clock = clock or SystemClock()

    async def send(self, message: OutgoingMail) -> None:
        config = self._config
        mime = build_message(message, sender=self._sender, now=self._clock.now())
        log = _log.bind(recipient_domain=recipient_domain(message.to), message_id=message_id(mime))
        try:
            await aiosmtplib.send(
                mime,
                sender=self._sender.addr_spec,
                recipients=[message.to],
                hostname=config.host,
                port=config.port or DEFAULT_PORTS[config.security],
                username=config.username,
                password=config.password,
                use_tls=config.security == "tls",
                # False, not None: "none" must not upgrade opportunistically, and "starttls"
                # must fail rather than fall back to plain text.
                start_tls=config.security == "starttls",
                cert_bundle=config.ca_file,
                timeout=config.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = _delivery_error(exc, recipient_domain(message.to))
            log.warning("mail.delivery_failed", reason=str(error), permanent=error.permanent)
            raise error from exc
        log.info("mail.sent")


def _delivery_error(exc: Exception, domain: str) -> MailDeliveryError:
    # The server's reply text often quotes the full address; the code says enough.
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        reason = f"{type(exc).__name__} {exc.code}"
        permanent = exc.code >= 500
    elif isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        reason = f"SMTPRecipientsRefused {' '.join(map(str, codes))}"
        permanent = all(code >= 500 for code in codes)
    else:
        reason = f"{type(exc).__name__}: {exc}"
        permanent = False
    detail = f"SMTP delivery to a recipient at {domain} failed: {reason}"
    return MailDeliveryError(detail, permanent=permanent)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
