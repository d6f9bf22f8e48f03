"""Who is calling: the verified content of an access token."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal
from uuid import UUID

import msgspec

Role = Literal["user", "admin"]
ROLES: Final[frozenset[str]] = frozenset({"user", "admin"})


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of a request, as stated by a verified access token.

    Built only by :class:`shared.auth.TokenVerifier`; handlers receive it and never
    parse tokens themselves.
    """

    user_id: UUID
    role: Role
    session_id: UUID
    token_id: str
    expires_at: datetime
    issued_at: datetime | None = None
    """The token's ``iat``; ``None`` only for a principal built outside the verifier."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
