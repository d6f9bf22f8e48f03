"""identity's composition root: the only module that knows every concrete class.

It names identity's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). identity's own
long-lived resources (key ring, hasher, mailer, OIDC client, read pool, token verifier) are built
by :func:`resources` in the app's lifespan, and :func:`bind` hands each use case the ports and
rules it names. :func:`create_app` takes :class:`Replacements` for any port, so a test can run
the API on in-memory fakes. Nothing connects at import time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
import structlog
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

import identity
from identity import SERVICE, __version__
from identity.adapters.crypto.argon2_hasher import Argon2PasswordHasher
from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.secret_tokens import UrlSafeSecretTokens
from identity.adapters.crypto.signing_keys import ActiveKeySource, FileSigningKeys, open_signing_keys
from identity.adapters.crypto.verification import LiveSessionVerifier, OwnKeys
from identity.adapters.mail.background import BackgroundMailer
from identity.adapters.mail.file_mailer import FileMailer
from identity.adapters.mail.smtp_mailer import SmtpConfig, SmtpMailer
from identity.adapters.messaging.translators import to_contract
from identity.adapters.oidc.client import HttpOidcClient
from identity.adapters.postgres.queries import SqlAlchemyQueries
from identity.adapters.postgres.session_gate import AsyncpgSessionGate
from identity.adapters.postgres.sessions import purge_ended_sessions
from identity.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from identity.adapters.tasks.task_set import TaskSet
from identity.application.admin import audit_trail, change_user, delete_user, get_user, list_users
from identity.application.admins import CreateAdmin, create_admin
from identity.application.email_verification import request_email_verification, verify_email
from identity.application.keys import RotateKeys, Rotation, public_keys, rotate_keys
from identity.application.login import log_in
from identity.application.oidc import providers_from_json
from identity.application.oidc_login import finish_oidc_login, start_oidc_login
from identity.application.password_reset import request_password_reset, reset_password
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
from identity.application.profile import change_password, delete_account, update_profile
from identity.application.refresh import log_out, refresh
from identity.application.registration import register
from identity.application.sessions import list_sessions, revoke_other_sessions, revoke_session
from identity.application.throttle import admit_mail_request
from identity.application.use_cases import UseCases
from identity.domain.sessions import SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from identity.domain.users import User
from identity.entrypoints.http import route_handlers
from identity.entrypoints.http.dependencies import BACKGROUND, POLICY, PORTS, USE_CASES, dependencies
from identity.settings import KeyRingSettings, Settings
from shared.auth import VERIFIER_STATE_KEY
from shared.bootstrap import ServiceRoot
from shared.chores import Chore
from shared.db.migrations import migrations_of
from shared.db.pool import open_read_pool
from shared.kernel.clock import Clock, SystemClock
from shared.messaging.outbox import OutboxWriter

_log = structlog.get_logger("identity")


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
            mails_per_address=settings.mail_max_per_address,
            mail_requests_per_client=settings.mail_max_requests_per_client,
        ),
        issuer=settings.jwt_issuer,
        public_url=settings.external_url,
        oidc_providers=tuple(providers_from_json(settings.oidc_providers)),
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


def bind(ports: Ports, policy: Policy) -> UseCases:
    """Every use case given the ports and rules it names, once."""
    clock, hasher, secrets, tokens = ports.clock, ports.hasher, ports.secrets, ports.access_tokens
    throttle, lifetime, max_sessions = policy.throttle, policy.sessions, policy.max_sessions
    public_url, token_ttl = policy.public_url, policy.one_time_token_ttl
    return UseCases(
        register=partial(register, hasher=hasher, clock=clock),
        log_in=partial(
            log_in,
            hasher=hasher,
            secrets=secrets,
            access_tokens=tokens,
            clock=clock,
            throttle=throttle,
            lifetime=lifetime,
            max_sessions=max_sessions,
        ),
        refresh=partial(refresh, secrets=secrets, access_tokens=tokens, clock=clock),
        log_out=partial(log_out, secrets=secrets, clock=clock),
        start_oidc_login=partial(
            start_oidc_login, oidc=ports.oidc, clock=clock, public_url=policy.public_url
        ),
        finish_oidc_login=partial(
            finish_oidc_login,
            oidc=ports.oidc,
            secrets=secrets,
            access_tokens=tokens,
            clock=clock,
            lifetime=lifetime,
            max_sessions=max_sessions,
        ),
        admit_mail_request=partial(admit_mail_request, throttle=throttle, clock=clock),
        request_password_reset=partial(
            request_password_reset,
            secrets=secrets,
            mailer=ports.mailer,
            clock=clock,
            throttle=throttle,
            public_url=public_url,
            token_ttl=token_ttl,
        ),
        reset_password=partial(reset_password, secrets=secrets, hasher=hasher, clock=clock),
        request_email_verification=partial(
            request_email_verification,
            secrets=secrets,
            mailer=ports.mailer,
            clock=clock,
            throttle=throttle,
            public_url=public_url,
            token_ttl=token_ttl,
        ),
        verify_email=partial(verify_email, secrets=secrets, clock=clock),
        update_profile=partial(update_profile, clock=clock),
        change_password=partial(change_password, hasher=hasher, clock=clock, throttle=throttle),
        delete_account=partial(delete_account, hasher=hasher, clock=clock, throttle=throttle),
        list_sessions=partial(list_sessions, queries=ports.queries, clock=clock),
        revoke_session=partial(revoke_session, clock=clock),
        revoke_other_sessions=partial(revoke_other_sessions, clock=clock),
        list_users=partial(list_users, queries=ports.queries),
        get_user=partial(get_user, queries=ports.queries),
        change_user=partial(change_user, clock=clock),
        delete_user=partial(delete_user, clock=clock),
        audit_trail=partial(audit_trail, queries=ports.queries),
        create_admin=partial(create_admin, hasher=hasher, clock=clock),
        public_keys=partial(public_keys, keys=ports.keys),
    )


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


def unit_of_work(engine: AsyncEngine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork.from_engine(engine, OutboxWriter(f"/aiorch/{SERVICE}"), to_contract)


@asynccontextmanager
async def resources(
    settings: Settings, engine: AsyncEngine, replacements: Replacements = KEEP_ALL
) -> AsyncIterator[Mapping[str, Any]]:
    """The API's own resources, on ``app.state``; the first admin is made sure of here."""
    rules = policy(settings)
    new_uow = replacements.unit_of_work or partial(unit_of_work, engine)
    async with AsyncExitStack() as stack:
        ports = await stack.enter_async_context(open_ports(settings, engine, replacements))
        use_cases = bind(ports, rules)
        if settings.admin_email:
            command = CreateAdmin(
                email=settings.admin_email, password=settings.admin_password, promote_existing=False
            )
            user, created = await use_cases.create_admin(command, new_uow())
            _log.info("first admin", user_id=str(user.id), created=created)
        gate = replacements.session_gate
        if gate is None:
            read_pool = await open_read_pool(
                settings.database_url,
                schema=settings.db_schema,
                application_name=f"{SERVICE}-api-reads",
                size=settings.db_read_pool_size,
            )
            stack.push_async_callback(read_pool.close)
            gate = AsyncpgSessionGate(read_pool)
        verifier = LiveSessionVerifier(
            OwnKeys(ports.keys), gate, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        yield {
            USE_CASES: use_cases,
            POLICY: rules,
            BACKGROUND: ports.background,
            PORTS: ports,
            VERIFIER_STATE_KEY: verifier,
        }


def create_app(settings: Settings, replacements: Replacements = KEEP_ALL) -> Litestar:
    """identity's API, on the ports the settings build but ``replacements``."""
    if replacements is KEEP_ALL:
        return ROOT.create_app(settings)
    root = dataclasses.replace(ROOT, resources=partial(resources, replacements=replacements))
    return root.create_app(settings, unit_of_work=replacements.unit_of_work)


async def run_create_admin(settings: Settings, command: CreateAdmin) -> tuple[User, bool]:
    """``create-admin``: the use case on a short-lived engine and the ports."""
    engine = ROOT.engine(settings, "cli")
    try:
        async with open_ports(settings, engine) as ports:
            return await bind(ports, policy(settings)).create_admin(command, unit_of_work(engine))
    finally:
        await engine.dispose()


def run_rotate_keys(settings: KeyRingSettings, command: RotateKeys) -> Rotation:
    """``rotate-keys``: on the key directory itself (a PEM-configured key rotates by configuration).

    Raises:
        KeyStoreError: the key file is unreadable, or the ring cannot rotate.
    """
    clock = SystemClock()
    return rotate_keys(command, keys=FileSigningKeys(Path(settings.keys_dir), clock=clock), clock=clock)


SESSION_PURGE_EVERY_S = 3600.0


def chores(settings: Settings, engine: AsyncEngine) -> list[Chore]:
    return [
        Chore(
            name="purge-ended-sessions",
            every_s=SESSION_PURGE_EVERY_S,
            work=partial(purge_ended_sessions, engine, SystemClock()),
        )
    ]


ROOT = ServiceRoot(
    service=SERVICE,
    version=__version__,
    description="Users, credentials, sessions, roles and the public signing keys.",
    settings=Settings,
    migrations=migrations_of(identity),
    unit_of_work=SqlAlchemyUnitOfWork,
    translate=to_contract,
    route_handlers=route_handlers,
    app_factory=f"{__name__}:ROOT.create_app_from_env",
    resources=resources,
    dependencies=dependencies,
    chores=chores,
)
