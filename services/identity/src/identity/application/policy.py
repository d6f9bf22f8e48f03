"""identity's tunable rules, read from the settings; the composition root hands each use case
the ones it names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from identity.domain.one_time_tokens import ONE_TIME_TOKEN_TTL
from identity.domain.sessions import SessionLifetime
from identity.domain.throttling import ThrottlePolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The tunable rules (from the settings)."""

    sessions: SessionLifetime = field(default_factory=SessionLifetime)
    max_sessions: int = 100
    """Live sessions per user; a login beyond it ends the least recently used."""
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    one_time_token_ttl: timedelta = ONE_TIME_TOKEN_TTL
    issuer: str = "http://127.0.0.1:8001"
    """The ``iss`` of the access tokens."""
    public_url: str = "http://127.0.0.1:8001"
    """Where identity is reached from outside: OIDC redirect URIs, the key set's address."""
    link_base_url: str = ""
    """Where the mailed links open their pages (an app's); empty: identity's own, at ``public_url``."""
    oidc_providers: tuple[str, ...] = ()
    """The names of the configured OIDC providers."""
    registration_reveals_existing: bool = False
    """Whether a sign-up with a taken address says so (409) instead of answering as for a new one."""
