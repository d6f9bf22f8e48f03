"""identity's composition root: the only module that knows every concrete class.

It names identity's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). identity's own
long-lived resources (key ring, hasher, mailer, OIDC client, read pool, token verifier) are built
by :func:`resources` in the app's lifespan. Nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

import identity
from identity import SERVICE, __version__
from identity.adapters.crypto.argon2_hasher import Argon2PasswordHasher
from identity.adapters.crypto.jwt_tokens import JwtAccessTokenIssuer
from identity.adapters.crypto.secret_tokens import UrlSafeSecretTokens
from identity.adapters.crypto.signing_keys import open_signing_keys
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
from identity.application.admins import CreateAdmin, create_admin
from identity.application.mail import Mailer
from identity.application.oidc import providers_from_json
from identity.application.services import Policy, Services
from identity.domain.sessions import SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from identity.entrypoints.http import route_handlers
from identity.entrypoints.http.dependencies import QUERIES, SERVICES, dependencies
from identity.settings import Settings
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


@asynccontextmanager
async def open_services(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Services]:
    """identity's collaborators for the API and the command line, closed on exit."""
    clock = clock or SystemClock()
    keys = open_signing_keys(
        directory=Path(settings.keys_dir),
        pem=settings.signing_key_pem,
        previous_pems=settings.previous_signing_keys_pem,
        clock=clock,
    )
    async with AsyncExitStack() as stack:
        password_hasher = hasher(settings)
        stack.callback(password_hasher.close)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
        providers = providers_from_json(settings.oidc_providers)
        background = BackgroundMailer(mailer(settings, clock))
        stack.push_async_callback(background.drain)
        later = TaskSet()
        stack.push_async_callback(later.drain)  # runs first: its work may still send mail
        yield Services(
            clock=clock,
            hasher=password_hasher,
            access_tokens=JwtAccessTokenIssuer(
                keys,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(seconds=settings.access_token_ttl_s),
            ),
            secrets=UrlSafeSecretTokens(),
            keys=keys,
            mailer=background,
            oidc=HttpOidcClient(providers, http, clock) if providers else None,
            policy=policy(settings),
            background=later,
        )


def unit_of_work(engine: AsyncEngine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork.from_engine(engine, OutboxWriter(f"/aiorch/{SERVICE}"), to_contract)


@asynccontextmanager
async def resources(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Mapping[str, Any]]:
    """The API's own resources, on ``app.state``; the first admin is made sure of here."""
    async with open_services(settings) as services:
        if settings.admin_email:
            command = CreateAdmin(
                email=settings.admin_email, password=settings.admin_password, promote_existing=False
            )
            user, created = await create_admin(command, unit_of_work(engine), services)
            _log.info("first admin", user_id=str(user.id), created=created)
        read_pool = await open_read_pool(
            settings.database_url,
            schema=settings.db_schema,
            application_name=f"{SERVICE}-api-reads",
            size=settings.db_read_pool_size,
        )
        try:
            verifier = LiveSessionVerifier(
                OwnKeys(services.keys),
                AsyncpgSessionGate(read_pool),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
            yield {SERVICES: services, QUERIES: SqlAlchemyQueries(engine), VERIFIER_STATE_KEY: verifier}
        finally:
            await read_pool.close()


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
