"""identity's ports as the settings build them, and the replacements a test may give instead."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.crypto.argon2_hasher import Argon2PasswordHasher
from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.secret_tokens import UrlSafeSecretTokens
from identity.adapters.crypto.signing_keys import ActiveKeySource, open_signing_keys
from identity.adapters.mail.background import BackgroundMailer
from identity.adapters.mail.file_mailer import FileMailer
from identity.adapters.mail.smtp_mailer import SmtpConfig, SmtpMailer
from identity.adapters.oidc.client import HttpOidcClient
from identity.adapters.postgres.queries import SqlAlchemyQueries
from identity.adapters.tasks.task_set import TaskSet
from identity.application.oidc import providers_from_json
from identity.application.policy import Policy
from identity.application.ports import (
    AccessTokenIssuer,
    Background,
    Mailer,
    OidcClient,
    PasswordHasher,
    Queries,
    SecretTokens,
    SessionGate,
    SigningKeys,
    UnitOfWork,
)
from identity.domain.sessions import SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from identity.settings import Settings
from shared.kernel.clock import Clock, SystemClock


def policy(settings: Settings) -> Policy:
    return Policy(
        sessions=SessionLifetime(
            absolute=timedelta(seconds=settings.refresh_absolute_ttl_s),
            idle=timedelta(seconds=settings.refresh_idle_ttl_s),
        ),
        max_sessions=settings.max_sessions_per_user,
        throttle=ThrottlePolicy(
            window=timedelta(seconds=settings.login_window_s),
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
            slowdown_after=settings.login_account_slowdown_after,
            max_delay=timedelta(seconds=settings.login_account_max_delay_s),
            mails_per_address=settings.mail_max_per_address,
            mail_requests_per_client=settings.mail_max_requests_per_client,
            registrations_per_client=settings.registration_max_per_client,
        ),
        issuer=settings.jwt_issuer,
        public_url=settings.external_url,
        link_base_url=settings.mail_link_base,
        oidc_providers=tuple(providers_from_json(settings.oidc_providers)),
        registration_reveals_existing=settings.registration_reveals_existing,
    )


def mailer(settings: Settings, clock: Clock) -> Mailer:
    if settings.mail_backend == "file":
        return FileMailer(Path(settings.mail_dir), sender=settings.mail_from, clock=clock)
    config = SmtpConfig(
        host=settings.smtp_host,
        sender=settings.mail_from,
        security=settings.smtp_security,
        port=settings.smtp_port or None,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file or None,
    )
    return SmtpMailer(config, clock=clock)


def hasher(settings: Settings) -> Argon2PasswordHasher:
    return Argon2PasswordHasher(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
        max_concurrency=settings.argon2_max_concurrency or None,
    )


class SigningKeyRing(SigningKeys, ActiveKeySource, Protocol):
    """A key ring that publishes its keys and hands the token issuer the one that signs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Replacements:
    """Ports a test puts in place of the ones the settings would build; None keeps the real one.

    With ``unit_of_work``, ``queries`` and ``session_gate`` all replaced the app connects to
    nothing (``ServiceRoot.create_app``): an HTTP test can run identity on in-memory fakes.
    """

    clock: Clock | None = None
    hasher: PasswordHasher | None = None
    access_tokens: AccessTokenIssuer | None = None
    secrets: SecretTokens | None = None
    keys: SigningKeyRing | None = None
    mailer: Mailer | None = None
    oidc: OidcClient | None = None
    background: Background | None = None
    unit_of_work: Callable[[], UnitOfWork] | None = None
    """Each request's unit of work."""
    queries: Queries | None = None
    session_gate: SessionGate | None = None


KEEP_ALL: Final = Replacements()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ports:
    """identity's long-lived port implementations, built once (:func:`open_ports`) and bound
    into the use cases by :func:`bind`."""

    clock: Clock
    hasher: PasswordHasher
    access_tokens: AccessTokenIssuer
    secrets: SecretTokens
    keys: SigningKeys
    mailer: Mailer
    oidc: OidcClient | None
    """None when no OIDC provider is configured."""
    background: Background
    queries: Queries


def signing_keys(settings: Settings, clock: Clock) -> SigningKeyRing:
    return open_signing_keys(
        directory=Path(settings.keys_dir),
        pem=settings.signing_key_pem,
        previous_pems=settings.previous_signing_keys_pem,
        clock=clock,
    )


@asynccontextmanager
async def open_ports(
    settings: Settings, engine: AsyncEngine, replacements: Replacements = KEEP_ALL
) -> AsyncIterator[Ports]:
    """identity's ports for the API and the command line, closed on exit; those ``replacements``
    names are taken as they are (and neither built nor closed here)."""
    r = replacements
    clock = r.clock or SystemClock()
    keys = r.keys or signing_keys(settings, clock)
    async with AsyncExitStack() as stack:
        password_hasher = r.hasher
        if password_hasher is None:
            argon2 = hasher(settings)
            stack.callback(argon2.close)
            password_hasher = argon2
        oidc = r.oidc
        providers = providers_from_json(settings.oidc_providers)
        if oidc is None and providers:
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
            oidc = HttpOidcClient(providers, http, clock)
        outgoing = r.mailer
        if outgoing is None:
            background_mailer = BackgroundMailer(mailer(settings, clock))
            stack.push_async_callback(background_mailer.drain)
            outgoing = background_mailer
        later = r.background
        if later is None:
            task_set = TaskSet()
            stack.push_async_callback(task_set.drain)  # runs first: its work may still send mail
            later = task_set
        yield Ports(
            clock=clock,
            hasher=password_hasher,
            access_tokens=r.access_tokens
            or JwtAccessTokenIssuer(
                keys,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(seconds=settings.access_token_ttl_s),
            ),
            secrets=r.secrets or UrlSafeSecretTokens(),
            keys=keys,
            mailer=outgoing,
            oidc=oidc,
            background=later,
            queries=r.queries or SqlAlchemyQueries(engine),
        )
