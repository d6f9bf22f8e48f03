"""What identity's use cases are handed besides the unit of work: its ports and its policy."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from identity.application.mail import Mailer
from identity.application.oidc import OidcClient
from identity.application.security import AccessTokenIssuer, PasswordHasher, SecretTokens, SigningKeys
from identity.domain.one_time_tokens import ONE_TIME_TOKEN_TTL
from identity.domain.sessions import SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from shared.kernel.clock import Clock


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
    """Where identity is reached from outside: links in mail, OIDC redirect URIs."""
    oidc_providers: tuple[str, ...] = ()
    """The names of the configured OIDC providers."""


class Background(Protocol):
    """Runs work after the caller has its answer (so the answer's time cannot depend on it).

    Not transactional with the request: the work opens its own unit of work; failures are
    logged, never raised to the caller.
    """

    async def run(self, work: Coroutine[Any, Any, None], *, name: str) -> None: ...


class RunNow:
    """:class:`Background` that simply awaits the work (unit tests, command line)."""

    async def run(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        await work


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """identity's long-lived collaborators, built once by the composition root."""

    clock: Clock
    hasher: PasswordHasher
    access_tokens: AccessTokenIssuer
    secrets: SecretTokens
    keys: SigningKeys
    mailer: Mailer
    oidc: OidcClient | None = None
    """None when no OIDC provider is configured."""
    policy: Policy = field(default_factory=Policy)
    background: Background = field(default_factory=RunNow)
