"""Outgoing mail: the message, and the messages identity sends (the port: ``application.ports.mail``).

The builders are pure: they turn a link into a short, plain message with no
tracking (no pixels, no redirecting links, no per-user ids besides the token).
The token travels only inside the link the caller built; it is never printed on
its own. Put it in the link's fragment (``#token=...``): browsers send a fragment
neither to a server nor in a ``Referer``, so it stays out of access logs.

Nothing the user typed (their name, say) goes into a message: an account can be
registered with someone else's address, and a stranger's words must not reach
that inbox under our name.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlsplit

PRODUCT = "aiorch"


class MailDeliveryError(Exception):
    """A message could not be handed over for delivery.

    ``permanent`` is true when retrying the same message cannot help (the server
    refused the recipient or the credentials); false for outages and timeouts.
    The message text names the recipient's domain and the cause, never the body,
    so it is safe to log.
    """

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    """One message to one recipient: a plain-text body and, optionally, an HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        if "@" not in self.to or any(c.isspace() or ord(c) < 32 for c in self.to):
            raise ValueError("the recipient must be one bare address")
        if "\r" in self.subject or "\n" in self.subject:
            raise ValueError("the subject must be a single line")


def password_reset_mail(to: str, reset_url: str, expires_in_minutes: int) -> OutgoingMail:
    """The message carrying a single-use password-reset link."""
    _check_link(reset_url)
    expiry = _minutes(expires_in_minutes)
    intro = f"Someone asked to reset the password of your {PRODUCT} account."
    action = "Choose a new password"
    outro = (
        f"The link works once and expires in {expiry}. Using it signs you out everywhere.",
        "If you did not ask for this, ignore this message: your password stays as it is.",
    )
    return OutgoingMail(
        to=to,
        subject=f"Reset your {PRODUCT} password",
        text=_text(intro, action, reset_url, outro),
        html=_html(intro, action, reset_url, outro),
    )


def verify_email_mail(to: str, verify_url: str, expires_in_minutes: int = 15) -> OutgoingMail:
    """The message carrying a single-use link that confirms the address belongs to the account's owner."""
    _check_link(verify_url)
    expiry = _minutes(expires_in_minutes)
    intro = f"Please confirm that this address belongs to your {PRODUCT} account."
    action = "Confirm your email address"
    outro = (
        f"The link works once and expires in {expiry}.",
        f"If you did not create a {PRODUCT} account, ignore this message: nothing happens without the link.",
    )
    return OutgoingMail(
        to=to,
        subject=f"Confirm your email address for {PRODUCT}",
        text=_text(intro, action, verify_url, outro),
        html=_html(intro, action, verify_url, outro),
    )


def registration_attempt_mail(to: str) -> OutgoingMail:
    """The message to an account's owner when someone signs up with its address again: the
    sign-up itself answered as for a new address, so only the owner learns the account exists."""
    text = "\n\n".join(
        (
            f"Someone tried to create a {PRODUCT} account with this address, which already has one.",
            "If it was you: sign in with your password, or ask for a password reset if you forgot it.",
            "If it was not you, ignore this message: nothing changed, and no one got into your account.",
        )
    )
    return OutgoingMail(
        to=to, subject=f"Someone tried to sign up to {PRODUCT} with your address", text=text + "\n"
    )


def _check_link(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc or any(c.isspace() for c in url):
        raise ValueError("a mail link must be an absolute http(s) URL")


def _minutes(n: int) -> str:
    if n < 1:
        raise ValueError("a link must stay valid for at least a minute")
    return "1 minute" if n == 1 else f"{n} minutes"


def _text(intro: str, action: str, url: str, outro: tuple[str, ...]) -> str:
    return "\n\n".join(["Hello,", intro, f"{action}:\n{url}", *outro, f"The {PRODUCT} team"]) + "\n"


def _html(intro: str, action: str, url: str, outro: tuple[str, ...]) -> str:
    href = html.escape(url, quote=True)
    paragraphs = [
        "Hello,",
        html.escape(intro),
        f'<a href="{href}">{html.escape(action)}</a>',
        f"If clicking does not work, paste this link into your browser:<br>{href}",
        *(html.escape(line) for line in outro),
        f"The {PRODUCT} team",
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html>\n<html lang="en">\n<body>\n{body}\n</body>\n</html>\n'
