"""Email addresses as identity stores and compares them.

An address is stored as typed, after light normalisation: surrounding blanks gone,
NFKC (so full-width or composed forms typed on another keyboard are the same
address), and the domain in lower case (domains are case-insensitive by RFC 5321).
The local part keeps its case for display, but accounts are matched on the whole
address case-insensitively: no mail system in use treats ``Ada@`` and ``ada@`` as
different people, and two accounts differing only by case would be a trap.

"The same address" has one definition, :func:`canonical_email` (Unicode NFKC, case-folded,
NFKC again), used for every comparison: the account lookup and its unique index (a stored
column), the throttle keys, the mailed-link limits and the audit. Two definitions once
disagreed (Python's ``casefold()`` for throttle keys, PostgreSQL's ``lower()`` for lookups),
so one account answered to spellings that each had a fresh failure counter.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from shared.kernel.errors import InvalidInput

MAX_LENGTH: Final = 254  # RFC 5321's limit on a forward path, less the angle brackets
_FORBIDDEN: Final = frozenset('<>()[],;:"\\')


class InvalidEmail(InvalidInput):
    title = "Invalid email address"

    def __init__(self) -> None:
        super().__init__("The email address is not valid.")


def normalise_email(raw: str) -> str:
    """The stored form of ``raw``; see the module docstring.

    Raises:
        InvalidEmail: not one plain ``local@domain`` address (no display name, no comments,
            no blanks or control characters, at most 254 characters).
    """
    text = unicodedata.normalize("NFKC", raw.strip())
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or len(text) > MAX_LENGTH or "@" in local:
        raise InvalidEmail
    if any(c.isspace() or not c.isprintable() or c in _FORBIDDEN for c in text):
        raise InvalidEmail
    if domain.startswith(".") or domain.endswith(".") or ".." in domain or local.startswith("."):
        raise InvalidEmail
    return f"{local}@{domain.lower()}"


def canonical_email(address: str) -> str:
    """The one form addresses are compared in: ``NFKC(casefold(NFKC(address)))`` of the stripped text.

    Unicode's ``NFKC_Casefold`` in effect: full-width and mathematical letters, ligatures
    (``ﬁ``), composed and decomposed accents, ``ß``/``ss`` and every case variant meet in one
    form. Any string has one (a malformed address typed at login is throttled under it too);
    the second NFKC is needed because case folding can undo normalisation (``İ`` folds to
    ``i`` and a combining dot).
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address.strip()).casefold())


def same_address(a: str, b: str) -> bool:
    """Whether two addresses name the same account (their canonical forms are equal)."""
    return canonical_email(a) == canonical_email(b)
