"""The refusals identity's use cases raise beyond the kernel's (``shared.kernel.errors``).

The HTTP layer maps :class:`Unauthenticated` to 401 and :class:`TooManyAttempts` to 429
with ``Retry-After``; the others are the kernel's families and map as those do.
"""

from __future__ import annotations

from shared.kernel.errors import DomainError, Forbidden, InvalidInput


class Unauthenticated(DomainError):
    """The credentials presented prove nothing (401). The detail never says which part was wrong."""

    title = "Unauthorized"


class InvalidCredentials(Unauthenticated):
    def __init__(self) -> None:
        # One message for an unknown address, a wrong password and an inactive account alike.
        super().__init__("The email address or the password is wrong.")


class InvalidRefreshToken(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("The refresh token is invalid, expired or revoked.")


class TooManyAttempts(DomainError):
    """Too many attempts recently; try again in ``retry_after`` seconds (429)."""

    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str = "Too many failed attempts. Try again later.") -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class WrongPassword(Forbidden):
    """The current password, asked again before a sensitive change, is wrong (403, not 401: the
    caller's session is fine, and a client must not log out over a typo)."""

    title = "Wrong password"

    def __init__(self) -> None:
        super().__init__("The password is wrong.")


class NoPassword(Forbidden):
    title = "No password set"

    def __init__(self) -> None:
        super().__init__("This account has no password yet: set one through a password reset first.")


class InvalidOneTimeToken(InvalidInput):
    title = "Invalid token"

    def __init__(self) -> None:
        super().__init__("The token is invalid, expired or already used.")
