"""The audit trail: security events, kept for an admin to review.

An entry never holds a secret (a password, a hash, a token). When an account is
erased, its entries stay, anonymised: they still tell that something happened,
no longer to whom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from identity.domain.sessions import ClientInfo
from shared.kernel.ids import new_id

Detail = str | int | bool | None


class AuditKind(StrEnum):
    USER_REGISTERED = "user_registered"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    LOGOUT = "logout"
    REFRESH_REUSE_DETECTED = "refresh_reuse_detected"
    SESSION_REVOKED = "session_revoked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    EMAIL_VERIFICATION_REQUESTED = "email_verification_requested"
    EMAIL_VERIFIED = "email_verified"
    ROLE_CHANGED = "role_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_ACTIVATED = "user_activated"
    USER_DELETED = "user_deleted"
    OIDC_LOGIN = "oidc_login"
    OIDC_LINKED = "oidc_linked"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """``user_id`` is whom the event concerns; ``actor_id`` who caused it, when someone else did
    (an admin changing a role)."""

    id: UUID
    at: datetime
    kind: AuditKind
    user_id: UUID | None
    actor_id: UUID | None = None
    ip: str | None = None
    user_agent: str | None = None
    details: Mapping[str, Detail] = field(default_factory=dict)

    @classmethod
    def record(
        cls,
        kind: AuditKind,
        *,
        at: datetime,
        user_id: UUID | None,
        client: ClientInfo | None = None,
        actor_id: UUID | None = None,
        details: Mapping[str, Detail] | None = None,
        **more: Detail,
    ) -> AuditEntry:
        """An entry with a fresh id; details come as a mapping, as keywords, or both."""
        client = client or ClientInfo()
        return cls(
            id=new_id(),
            at=at,
            kind=kind,
            user_id=user_id,
            actor_id=actor_id,
            ip=client.ip,
            user_agent=client.user_agent,
            details={**(details or {}), **more},
        )
