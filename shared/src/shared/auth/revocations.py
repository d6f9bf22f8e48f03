"""What identity has revoked, as this process has heard it: the tokens a verifier must refuse.

chat and orchestrator verify access tokens locally, so a token outlives its session's
revocation until it expires, unless they are told. identity publishes every revocation
(``identity.session.revoked``, ``identity.user.sessions_revoked``) and every account change
(``identity.user.updated``: role, active flag; ``identity.user.deleted``);
:class:`Revocations` keeps what still matters of them in memory, fed by
``shared.auth.revocation_feed``, and :meth:`Revocations.admit` applies it to each principal.

Rules:
    * A token of a revoked session is refused; so is any token of a deactivated or deleted
      account.
    * A role change applies to the tokens issued before it: they are given the new role (not
      refused), so a demoted admin is a user at once and a promoted user an admin, with no
      refresh. A token issued after the last change known here states the newer role itself.
    * What happened longer ago than the longest access-token lifetime (plus a margin for the
      verifier's leeway and clock skew) is forgotten: every token it concerns has expired. A
      token that claims a longer lifetime is refused, since its revocation could be forgotten
      before it expires.
    * Until the process has read every event that can still matter (it starts), nothing can be
      admitted: :class:`RevocationsUnknown`.

Pure: no I/O, no clock of its own; the feed gives the times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

import msgspec

from shared.auth.principal import ROLES, Principal
from shared.auth.verifier import InvalidToken
from shared.contracts import identity

MAX_TOKEN_LIFETIME: Final = timedelta(hours=1)
"""The longest access-token lifetime identity can be configured with (``access_token_ttl_s`` ≤ 3600)."""
MARGIN: Final = timedelta(minutes=2)
"""Beyond a token's lifetime: the verifier's leeway (30 s, on the lifetime and on ``exp``) and skew."""
RETENTION: Final = MAX_TOKEN_LIFETIME + MARGIN
"""How long an event is kept, by default: the longest lifetime plus the margin."""


class RevocationsUnknown(Exception):
    """This process has not yet read the revocations that may concern a token (it is starting)."""


@dataclass(slots=True)
class _Account:
    role: str
    active: bool
    deleted: bool
    at: datetime
    """When the latest change told here happened (identity's clock)."""


class Revocations:
    """Revoked sessions and the latest known state of accounts, by id; see the module docstring."""

    def __init__(
        self, *, retention: timedelta = RETENTION, max_lifetime: timedelta = MAX_TOKEN_LIFETIME
    ) -> None:
        self._retention = retention
        self._max_lifetime = max_lifetime
        self._sessions: dict[UUID, datetime] = {}
        self._accounts: dict[UUID, _Account] = {}
        self.caught_up = False
        """Set by the feed once it has read every event that was in the stream when it started."""

    @classmethod
    def for_lifetime(cls, max_lifetime: timedelta) -> Revocations:
        """Kept as long as the verifiers' longest token (``jwt_max_lifetime_s``) can be accepted."""
        return cls(retention=max_lifetime + MARGIN, max_lifetime=max_lifetime + MARGIN / 2)

    @property
    def retention(self) -> timedelta:
        """How far back what identity said still matters (where a feed starts reading)."""
        return self._retention

    def __len__(self) -> int:
        return len(self._sessions) + len(self._accounts)

    # -- what identity tells -------------------------------------------------------------

    def apply(self, event: identity.IdentityEvent) -> None:
        """Take in one of identity's events (any other is of no concern here)."""
        match event:
            case identity.SessionRevoked():
                self._sessions.setdefault(event.session_id, event.revoked_at)
            case identity.UserSessionsRevoked():
                for session_id in event.session_ids:
                    self._sessions.setdefault(session_id, event.revoked_at)
            case identity.UserUpdated():
                known = self._accounts.get(event.user_id)
                if known is None or not known.deleted:
                    self._accounts[event.user_id] = _Account(
                        event.role, event.is_active, deleted=False, at=event.occurred_at
                    )
            case identity.UserDeleted():
                self._accounts[event.user_id] = _Account(
                    "user", active=False, deleted=True, at=event.occurred_at
                )
            case _:
                pass

    def forget_before(self, now: datetime) -> int:
        """Drop what happened before ``now`` minus the retention; how many entries went."""
        horizon = now - self._retention
        sessions = [key for key, at in self._sessions.items() if at < horizon]
        accounts = [key for key, account in self._accounts.items() if account.at < horizon]
        for session_id in sessions:
            del self._sessions[session_id]
        for user_id in accounts:
            del self._accounts[user_id]
        return len(sessions) + len(accounts)

    # -- what a verifier asks ------------------------------------------------------------

    def admit(self, principal: Principal) -> Principal:
        """The principal as identity's latest word has it (perhaps with a new role).

        Raises:
            InvalidToken: its session was revoked, its account deactivated or deleted, or it
                claims a lifetime longer than revocations are kept for.
            RevocationsUnknown: not caught up yet.
        """
        if not self.caught_up:
            raise RevocationsUnknown
        issued_at = principal.issued_at
        if issued_at is not None and principal.expires_at - issued_at > self._max_lifetime:
            raise InvalidToken("lifetime longer than revocations are kept")
        if principal.session_id in self._sessions:
            raise InvalidToken("session revoked")
        account = self._accounts.get(principal.user_id)
        if account is None:
            return principal
        if account.deleted:
            raise InvalidToken("account deleted")
        if not account.active:
            raise InvalidToken("account deactivated")
        # iat has whole seconds: a token of the change's own second may precede it, and if it
        # follows it, it states the same role anyway (unless a later change is still on its way).
        if account.role != principal.role and (issued_at is None or issued_at <= account.at):
            if account.role not in ROLES:
                raise InvalidToken("unknown role")
            return msgspec.structs.replace(principal, role=account.role)
        return principal
