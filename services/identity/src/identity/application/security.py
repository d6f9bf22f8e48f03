"""The values identity's cryptographic ports (``application.ports.security``) hand out.

Values holding a secret (:class:`IssuedToken`, :class:`NewSecret`) hide it from ``repr`` so
that a stray log line or traceback never prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A signed access token, as handed to the client."""

    token: str = field(repr=False)
    expires_in: int
    """Lifetime in seconds, as OAuth's ``expires_in``."""
    jti: str
    """The token's unique id (its ``jti`` claim), e.g. for the audit trail."""


class NewSecret(NamedTuple):
    """A freshly generated secret token: the plaintext for its owner, the digest to store."""

    plaintext: str
    digest: bytes

    def __repr__(self) -> str:
        return f"NewSecret(plaintext=<hidden>, digest={self.digest.hex()[:12]}...)"
