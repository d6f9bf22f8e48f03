"""identity's ServiceRoot: its pieces as ``shared.bootstrap`` composes them for every service
(the app and its lifespan, the worker, migrations), the API's own resources (ports, read pool,
token verifier, the first admin) opened in the app's lifespan, and the command line's runners.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

import identity
from identity import SERVICE, __version__
from identity.adapters.crypto.signing_keys import FileSigningKeys
from identity.adapters.crypto.verification import LiveSessionVerifier, OwnKeys
from identity.adapters.messaging.translators import to_contract
from identity.adapters.postgres.session_gate import AsyncpgSessionGate
from identity.adapters.postgres.sessions import purge_ended_sessions
from identity.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from identity.application.admins import CreateAdmin
from identity.application.keys import RotateKeys, Rotation, rotate_keys
from identity.bootstrap.ports import KEEP_ALL, Replacements, open_ports, policy
from identity.bootstrap.use_cases import bind
from identity.domain.users import User
from identity.entrypoints.http import route_handlers
from identity.entrypoints.http.dependencies import BACKGROUND, POLICY, PORTS, USE_CASES, dependencies
from identity.settings import KeyRingSettings, Settings
from shared.auth import VERIFIER_STATE_KEY
from shared.bootstrap import ServiceRoot
from shared.chores import Chore
from shared.db.migrations import migrations_of
from shared.db.pool import open_read_pool
from shared.kernel.clock import SystemClock
from shared.messaging.outbox import OutboxWriter

_log = structlog.get_logger("identity")


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
            OwnKeys(ports.keys),
            gate,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            max_lifetime=settings.access_token_ttl_s,
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
