"""What every service's composition root does, given the service's own pieces.

A service's ``bootstrap.py`` names its pieces in a :class:`ServiceRoot` (its name,
settings, migrations, unit of work, translator, routes and event consumers), and
this module puts them together the same way everywhere:

* :meth:`~ServiceRoot.migrate`: Alembic to head on the service's schema;
* :meth:`~ServiceRoot.create_app`: the shared Litestar app, whose lifespan opens the
  engine and NATS (the service's stream and the dead-letter stream ensured) on
  ``app.state``; ready when both answer; a request-scoped unit of work as ``uow``;
* :meth:`~ServiceRoot.open_worker`: the outbox relay and the event consumers, each
  handler given units of work that join its consumer's transaction, and the service's
  chores (periodic clean-ups).

Long-lived resources are built in the app's lifespan or the worker's context,
never at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from alembic.config import Config
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import ControllerRouterHandler
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.auth import (
    PRINCIPAL_DEPENDENCY,
    VERIFIER_STATE_KEY,
    JwksKeySet,
    TokenVerifier,
    principal_dependency,
)
from shared.auth.revocation_feed import RevocationFeed
from shared.auth.revocations import Revocations
from shared.chores import Chore
from shared.db import create_engine
from shared.db.migrations import alembic_config, upgrade
from shared.db.unit_of_work import SqlAlchemyUnitOfWork, Translate
from shared.http.app import create_service_app
from shared.http.checks import DATABASE, NATS
from shared.http.health import ReadinessCheck
from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.outbox import OutboxWriter
from shared.messaging.relay import OutboxRelay
from shared.messaging.streams import DEAD_LETTER, context_stream, ensure_stream
from shared.messaging.worker import Worker
from shared.messaging.worker_endpoint import WorkerHealth
from shared.service_settings import (
    CoreSettings,
    ServiceSettings,
    TokenVerifyingSettings,
    load_service_settings,
)

NATS_CONNECT_WAIT_S = 30.0
"""Give up starting (and let the supervisor restart us) when NATS stays unreachable this long."""
REVOCATIONS_WAIT_S = 10.0
"""How long an API process's start waits for its revocations to catch up before it serves
(not ready, and refusing tokens with 503, until they have)."""
REVOCATION_FEED_STATE_KEY = "revocation_feed"

S = TypeVar("S", bound=ServiceSettings)
U = TypeVar("U", bound=SqlAlchemyUnitOfWork[Any])

UnitOfWorkOn = Callable[[AsyncConnection], U]
"""Builds a unit of work that joins the consumer's open transaction."""

ConsumerFactory = Callable[[UnitOfWorkOn[U]], ConsumerSpec]
"""Builds one consumer's spec, its handler bound to units of work on the consumer's connection."""

Resources = Callable[[S, AsyncEngine], AbstractAsyncContextManager[Mapping[str, Any]]]
"""A service's own long-lived API resources (key store, hasher, mailer...), opened in the
app's lifespan after the database and NATS, given the settings and the app's engine (for
resources that read the database, such as a verifier checking sessions); the mapping it
yields lands on ``app.state``."""

LiveResources = Callable[[S, State, Callable[[], U]], AbstractAsyncContextManager[Mapping[str, Any]]]
"""Long-lived API resources that work with the broker and units of work (a service's background
loops, say): opened after :data:`Resources`, given the settings, ``app.state`` (its ``engine``,
``nats`` and what ``resources`` put there) and a factory of units of work; never opened for an
app built on a test's fakes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRoot(Generic[S, U]):
    """A service's own pieces; the methods compose them (see the module docstring)."""

    service: str
    """The name its schema, role, stream, variables (``CHAT_*``) and logs are called by."""
    version: str
    description: str
    """One line for the OpenAPI document."""
    settings: type[S]
    migrations: Path
    unit_of_work: type[U]
    translate: Translate[Any]
    """Domain events → public contracts, as the unit of work stages them in the outbox."""
    route_handlers: Callable[[], Sequence[ControllerRouterHandler]]
    app_factory: str
    """``module:attribute`` uvicorn imports in each API process; it calls :meth:`create_app_from_env`."""
    consumers: Sequence[ConsumerFactory[U]] = ()
    resources: Resources[S] | None = None
    live_resources: LiveResources[S, U] | None = None
    dependencies: Callable[[], Mapping[str, Provide]] = dict
    """Request-scoped providers beyond ``uow`` and ``principal`` (they read ``app.state``)."""
    chores: Callable[[S, AsyncEngine], Sequence[Chore]] | None = None
    """The periodic clean-ups the worker runs (``shared.chores``), on the worker's engine."""

    @property
    def event_source(self) -> str:
        return f"/aiorch/{self.service}"

    def units_of_work(self, engine: AsyncEngine) -> Callable[[], U]:
        """A fresh unit of work on ``engine`` per call, staging events in this service's outbox
        (one per task: an open unit of work is never shared)."""
        outbox = OutboxWriter(self.event_source)

        def unit_of_work() -> U:
            return self.unit_of_work.from_engine(engine, outbox, self.translate)

        return unit_of_work

    def load_settings(self, environ: Mapping[str, str] | None = None) -> S:
        return load_service_settings(self.settings, self.service, environ)

    def load_core_settings(self, environ: Mapping[str, str] | None = None) -> CoreSettings:
        return load_service_settings(CoreSettings, self.service, environ)

    # -- database and broker -----------------------------------------------------------

    def alembic_config(self, settings: CoreSettings) -> Config:
        return alembic_config(self.migrations, database_url=settings.database_url, schema=settings.db_schema)

    async def migrate(self, settings: CoreSettings) -> None:
        await upgrade(self.alembic_config(settings))

    def engine(self, settings: S, role: str) -> AsyncEngine:
        return create_engine(
            settings.database_url,
            schema=settings.db_schema,
            application_name=f"{self.service}-{role}",
            pool_size=settings.db_pool_size,
        )

    async def nats(self, settings: S, role: str) -> Client:
        nc = await connect_nats(settings.nats_url, name=f"{self.service}-{role}", wait=NATS_CONNECT_WAIT_S)
        try:
            js = nc.jetstream()
            replicas = settings.stream_replicas
            for stream in (
                context_stream(self.service, replicas=replicas),
                replace(DEAD_LETTER, replicas=replicas),
            ):
                await ensure_stream(js, stream)
        except BaseException:
            await nc.close()
            raise
        return nc

    @asynccontextmanager
    async def connections(self, settings: S, role: str) -> AsyncIterator[tuple[AsyncEngine, Client]]:
        """The engine and the NATS connection of one process role (``api``, ``worker``), closed on exit."""
        async with AsyncExitStack() as stack:
            engine = self.engine(settings, role)
            stack.push_async_callback(engine.dispose)
            nc = await self.nats(settings, role)
            stack.push_async_callback(nc.close)
            yield engine, nc

    # -- HTTP --------------------------------------------------------------------------

    def create_app(self, settings: S, *, unit_of_work: Callable[[], object] | None = None) -> Litestar:
        """The service's API. ``unit_of_work`` replaces the units of work on the app's engine (a
        test's in-memory fake, say): the app then connects to nothing. Its engine, still handed
        to ``resources``, is never connected (SQLAlchemy connects on first use, and a service
        given fakes for its reads does not use it); NATS is not opened; readiness checks nothing.
        """

        @asynccontextmanager
        async def connected(app: Litestar) -> AsyncIterator[None]:
            async with AsyncExitStack() as stack:
                if unit_of_work is None:
                    engine, nc = await stack.enter_async_context(self.connections(settings, "api"))
                    app.state.engine = engine
                    app.state.nats = nc
                else:
                    engine = self.engine(settings, "api")
                    stack.push_async_callback(engine.dispose)
                if isinstance(settings, TokenVerifyingSettings):
                    # Without NATS (a test's fakes) no revocation can be heard of: none is checked.
                    feed: RevocationFeed | None = None
                    if unit_of_work is None:
                        feed = await stack.enter_async_context(_revocation_feed(app.state.nats, settings))
                        app.state[REVOCATION_FEED_STATE_KEY] = feed
                    app.state[VERIFIER_STATE_KEY] = await stack.enter_async_context(
                        _jwks_verifier(settings, None if feed is None else feed.revocations)
                    )
                if self.resources is not None:
                    for key, value in (
                        await stack.enter_async_context(self.resources(settings, engine))
                    ).items():
                        app.state[key] = value
                if self.live_resources is not None and unit_of_work is None:
                    live = self.live_resources(settings, app.state, self.units_of_work(engine))
                    for key, value in (await stack.enter_async_context(live)).items():
                        app.state[key] = value
                yield

        outbox = OutboxWriter(self.event_source)

        def provide_uow(state: State) -> object:
            if unit_of_work is not None:
                return unit_of_work()
            return self.unit_of_work.from_engine(state.engine, outbox, self.translate)

        readiness = [DATABASE, NATS] if unit_of_work is None else []
        if unit_of_work is None and isinstance(settings, TokenVerifyingSettings):
            readiness.append(REVOCATIONS)
        return create_service_app(
            service=self.service,
            version=self.version,
            description=self.description,
            route_handlers=self.route_handlers(),
            readiness=readiness,
            lifespan=[connected],
            dependencies={
                "uow": Provide(provide_uow, sync_to_thread=False),
                PRINCIPAL_DEPENDENCY: principal_dependency(),
                **self.dependencies(),
            },
            access_log_sample=settings.access_log_sample,
            tls_terminated=settings.tls_terminated,
            metrics_token=settings.metrics_token,
            shutdown_delay_s=settings.shutdown_delay_s,
        )

    def create_app_from_env(self) -> Litestar:
        settings = self.load_settings()
        configure_logging(self.service, settings.log_level)
        return self.create_app(settings)

    # -- worker ------------------------------------------------------------------------

    @asynccontextmanager
    async def open_worker(self, settings: S) -> AsyncIterator[Worker]:
        """The relay and the consumers, wired to live connections closed on exit."""
        async with self.connections(settings, "worker") as (engine, nc):
            outbox = OutboxWriter(self.event_source)

            def uow_on(conn: AsyncConnection) -> U:
                return self.unit_of_work.joining(conn, outbox, self.translate)

            relay = OutboxRelay(
                database_url=settings.database_url,
                schema=settings.db_schema,
                nats=nc,
                name=f"{self.service}-relay",
            )
            consumers = tuple(EventConsumer(spec(uow_on), nats=nc, engine=engine) for spec in self.consumers)
            chores = tuple(self.chores(settings, engine)) if self.chores is not None else ()
            yield Worker(
                relay=relay,
                consumers=consumers,
                chores=chores,
                health=WorkerHealth(nats=nc, engine=engine),
                metrics_port=settings.worker_metrics_port,
                metrics_host=settings.http_host,
                grace_s=settings.shutdown_grace_s,
            )

    async def run_worker(self, settings: S) -> None:
        async with self.open_worker(settings) as worker:
            await worker.run()


@asynccontextmanager
async def _jwks_verifier(
    settings: TokenVerifyingSettings, revocations: Revocations | None
) -> AsyncIterator[TokenVerifier]:
    """Verifies identity's access tokens locally, against its JWKS fetched over HTTP and cached,
    and refuses those identity has revoked since (``revocations``)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        keys = JwksKeySet(settings.jwks_url, client)
        yield TokenVerifier(
            keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            admission=revocations,
            max_lifetime=settings.jwt_max_lifetime_s,
        )


@asynccontextmanager
async def _revocation_feed(nc: Client, settings: TokenVerifyingSettings) -> AsyncIterator[RevocationFeed]:
    """This process's copy of identity's revocations, read from its stream (``revocation_feed``),
    as far back as a token the verifier accepts can have been issued."""
    revocations = Revocations.for_lifetime(timedelta(seconds=settings.jwt_max_lifetime_s))
    feed = RevocationFeed(nc, revocations, retention=revocations.retention)
    await feed.start(wait=REVOCATIONS_WAIT_S)
    try:
        yield feed
    finally:
        await feed.close()


async def _revocations_caught_up(state: State) -> None:
    if not state[REVOCATION_FEED_STATE_KEY].caught_up:
        raise RuntimeError("identity's revocations not read up to date yet")


REVOCATIONS = ReadinessCheck("revocations", _revocations_caught_up)
"""Ready once the process has read every revocation that can still concern a live token."""
