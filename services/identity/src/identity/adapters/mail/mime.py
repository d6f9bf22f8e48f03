"""RFC 5322 messages built from :class:`OutgoingMail`, the same for every mailer.

SMTP and the ``.eml`` files of the local cluster share this builder, so what a
developer opens from ``.cluster/mail/`` is byte for byte what a server would get.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from identity.application.mail import OutgoingMail
from shared.kernel.ids import new_id

# CRLF line endings and 78-column folding: the wire format, for files as for SMTP.
POLICY = email.policy.SMTP


def parse_address(value: str, *, what: str = "address") -> Address:
    """Exactly one well-formed mailbox (``user@host`` or ``Name <user@host>``), else ``ValueError``."""
    header = email.policy.default.header_factory("From", value)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        raise ValueError(f"the mail {what} must be one mailbox such as 'aiorch <no-reply@example.com>'")
    return addresses[0]


def build_message(mail: OutgoingMail, *, sender: Address, now: datetime) -> EmailMessage:
    """The MIME message: text only, or ``multipart/alternative`` (text, then HTML) when HTML is given.

    ``now`` must be timezone-aware; the ``Message-ID`` is unique and lives in the
    sender's domain, so no DNS lookup of the local host name is needed.
    """
    if now.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware time")
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = parse_address(mail.to, what="recipient")
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{new_id().hex}@{sender.domain}>"
    # RFC 3834: an automatic message; out-of-office responders must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, cte=_transfer_encoding(mail.text))
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", cte=_transfer_encoding(mail.html))
    return message


def _transfer_encoding(body: str) -> str | None:
    # Plain 7bit keeps a long link whole (quoted-printable would split it and turn
    # "=" into "=3D"), so it can be copied from an .eml file; lines stay within
    # RFC 5322's hard limit. Anything else: the library picks QP or base64.
    if body.isascii() and all(len(line) <= 998 for line in body.splitlines()):
        return "7bit"
    return None


def message_id(message: EmailMessage) -> str:
    """The ``Message-ID`` without its angle brackets."""
    return str(message["Message-ID"]).strip().strip("<>")


def recipient_domain(address: str) -> str:
    """What a log line may say about a recipient: their domain, never the whole address."""
    return address.rpartition("@")[2].strip(">").lower()
