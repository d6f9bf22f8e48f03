"""The password policy: long enough, not absurdly long, not a well-known password.

Following NIST SP 800-63B §3.1.1.2 (and OWASP ASVS V6.2): no composition rules
(they push people to ``Password1!``), a length window, and a check against passwords
known from breaches. Length counts Unicode code points after NFKC normalisation, so
a password typed on different keyboards or platforms counts — and hashes — the same.

The list of common passwords (``common_passwords.txt``, 19,640 entries, most common
first) is Django's; see ``common_passwords.NOTICE``. It is read once, on first use.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from typing import Final

from shared.kernel.errors import InvalidInput

MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 128
_COMMON_PASSWORDS: Final = "common_passwords.txt"


class WeakPassword(InvalidInput):
    """A proposed password breaks the policy; ``reason`` says how, without echoing it."""

    title = "Weak password"

    def __init__(self, reason: str) -> None:
        super().__init__(f"The password {reason}.")
        self.reason = reason


def normalise_password(password: str) -> str:
    """The canonical form of ``password`` (NFKC): what the policy measures and what to hash."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str) -> str:
    """Apply the policy to a new password and return its normalised form, to be hashed.

    Raises:
        WeakPassword: shorter than 8 or longer than 128 characters, or a common password.
    """
    normalised = normalise_password(password)
    length = len(normalised)
    if length < MIN_LENGTH:
        raise WeakPassword(f"must be at least {MIN_LENGTH} characters")
    if length > MAX_LENGTH:
        raise WeakPassword(f"must be at most {MAX_LENGTH} characters")
    if _fold(normalised) in common_passwords():
        raise WeakPassword("is too common")
    return normalised


def is_common_password(password: str) -> bool:
    """Whether ``password`` is on the bundled list, ignoring case."""
    return _fold(normalise_password(password)) in common_passwords()


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, normalised and case-folded; loaded on first call, then kept."""
    text = resources.files("identity.domain").joinpath(_COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(_fold(normalise_password(line)) for line in text.splitlines() if line)


def _fold(password: str) -> str:
    return password.casefold()
