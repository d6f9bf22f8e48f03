"""Request and response bodies of identity's API (msgspec Structs; OpenAPI is generated from them).

Requests refuse unknown fields, so a typo (``passwrd``) is a 400 naming it, not a silent
default. No response carries a password hash; only the token endpoints carry tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from identity.domain.sessions import Session
from identity.domain.users import User

# The limits the code enforces, stated where the schema shows them (RFC 5321's 254 for an address).
Email = Annotated[
    str,
    msgspec.Meta(min_length=3, max_length=254, description="An email address.", examples=["ada@example.org"]),
]
# A password being checked (login, confirmation): as long as any the policy ever accepted.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="The password.")]
# A password being set: the policy's bounds; it also refuses common passwords (400 saying so).
NewPassword = Annotated[
    str,
    msgspec.Meta(
        min_length=8,
        max_length=128,
        description="A new password: 8-128 characters, not a common one.",
        examples=["correct horse battery staple"],
    ),
]
# No control characters (the name is shown to people; identity refuses them).
_PRINTABLE = r"^[^\u0000-\u001f\u007f-\u009f]*$"
Name = Annotated[
    str,
    msgspec.Meta(max_length=100, pattern=_PRINTABLE, description="A display name (at most 100 characters)."),
]
# The limits sit on the string, not on the optional: a description around ``| None`` hides them.
NewName = Annotated[
    str,
    msgspec.Meta(
        max_length=100,
        pattern=_PRINTABLE,
        description="The new display name (at most 100 characters); null or blank removes it.",
    ),
]
RefreshToken = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=512,
        description="A refresh token, as the login or the last refresh answered it.",
    ),
]
ResetToken = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=512,
        description="The token from the link mailed by `POST /auth/password-reset`.",
    ),
]
VerificationToken = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=512,
        description="The token from the link mailed by `POST /auth/verify-email`.",
    ),
]
Role = Literal["user", "admin"]


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body."""


class RegisterRequest(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: NewPassword
    name: Name | None = None


class LoginRequest(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshRequest(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    refresh_token: RefreshToken


class ProfileUpdate(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NewName | None


class PasswordChange(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    current_password: Annotated[Password, msgspec.Meta(description="The password the account has now.")]
    new_password: Annotated[
        NewPassword, msgspec.Meta(description="The password to set: 8-128 characters, not a common one.")
    ]


class AccountDeletion(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    password: Annotated[Password, msgspec.Meta(description="The account's password, to confirm the erasure.")]


class TokenResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: Annotated[
        str,
        msgspec.Meta(
            description="An EdDSA-signed JWT for `Authorization: Bearer`; every aiorch service accepts it."
        ),
    ]
    refresh_token: Annotated[
        str, msgspec.Meta(description="Opaque, single use: `POST /auth/refresh` spends it for the next pair.")
    ]
    expires_in: Annotated[int, msgspec.Meta(description="Seconds until the access token expires.")]
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type


class UserResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    email: str
    name: str | None
    role: Role
    is_active: bool
    email_verified: bool
    has_password: Annotated[
        bool, msgspec.Meta(description="False for accounts that only sign in through an OIDC provider.")
    ]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_active=user.is_active,
            email_verified=user.email_verified,
            has_password=user.has_password,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class SessionResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: Annotated[
        datetime,
        msgspec.Meta(
            description="When the session ends unless it is refreshed before (idle or absolute limit)."
        ),
    ]
    user_agent: str | None
    ip: str | None
    current: Annotated[
        bool, msgspec.Meta(description="True for the session of the access token making this request.")
    ]

    @classmethod
    def of(cls, session: Session, current_id: UUID) -> SessionResponse:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
            user_agent=session.user_agent,
            ip=session.ip,
            current=session.id == current_id,
        )


class PasswordResetRequest(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email


class PasswordResetConfirmation(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: ResetToken
    new_password: NewPassword


class EmailVerificationConfirmation(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    token: VerificationToken


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    detail: str


class UserChange(Request, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Annotated[Role | None, msgspec.Meta(description="The new role; absent or null leaves it.")] = None
    is_active: Annotated[
        bool | None,
        msgspec.Meta(
            description="false deactivates the account (its sessions end at once), true reactivates it; "
            "absent or null leaves it."
        ),
    ] = None


class AuditEntryResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    at: datetime
    kind: str
    user_id: Annotated[
        UUID | None, msgspec.Meta(description="Whom the event concerns; null once that account was erased.")
    ]
    actor_id: Annotated[
        UUID | None, msgspec.Meta(description="Who caused it, when that was someone else (an admin).")
    ]
    ip: str | None
    user_agent: str | None
    details: dict[str, str | int | bool | None]
