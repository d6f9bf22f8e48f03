"""The check behind every authenticated request, and what it answers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from uuid import UUID

from identity.domain.users import User


class SessionGate(Protocol):
    """The check every authenticated request makes, beyond the token's signature."""

    async def live_account(self, session_id: UUID, user_id: UUID) -> User | None:
        """The account, as it is now, if ``session_id`` is a session of ``user_id`` neither
        revoked nor past its absolute lifetime and the account is active; else None.

        One round trip, no transaction: it runs on every authenticated request, and the
        account it returns is what ``GET /users/me`` answers (no second read).
        """
        ...


@runtime_checkable
class AccountPrincipal(Protocol):
    """Who an authenticated request is, as identity's token verifier answers it: the token's
    principal, checked against its live session, with the account as that check read it
    (:meth:`SessionGate.live_account`), so ``GET /users/me`` answers it without a second read."""

    @property
    def account(self) -> User: ...
