"""An account's link to an identity at an external OpenID Connect provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcLink:
    """``(provider, subject)`` signs in as ``user_id``.

    Keyed by the provider's stable subject, never by email: a provider may let an
    address change hands, but a subject is never reassigned (OIDC Core 5.7).
    """

    provider: str
    subject: str
    user_id: UUID
    created_at: datetime
