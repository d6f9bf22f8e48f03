"""chat's composition root: the only module that knows every concrete class.

It names chat's pieces; ``shared.bootstrap.ServiceRoot`` composes them as it does for
every service (the app and its lifespan, the worker, migrations). Nothing
connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine

import chat
from chat import SERVICE, __version__
from chat.adapters.ai.catalog import ReplicaModelCatalog, open_seal_keys, reading
from chat.adapters.ai.offline_titles import WRITERS
from chat.adapters.blobs.filesystem import FilesystemBlobStore
from chat.adapters.blobs.sniffing import FileTypeSniffer
from chat.adapters.messaging.reply_channel import NatsReplyChannel, reply_stream
from chat.adapters.messaging.translators import to_contract
from chat.adapters.postgres.search import AsyncpgSearchIndex
from chat.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from chat.application.attachments import sweep_blobs, sweep_ownerless_blobs
from chat.application.erasure import erase_users_data
from chat.application.generator import Generator
from chat.entrypoints.consumers.models import model_registry
from chat.entrypoints.consumers.ownership import ownership
from chat.entrypoints.consumers.settings import settings_changes
from chat.entrypoints.http import route_handlers
from chat.entrypoints.http.attachments import BLOBS, SNIFFER, attachment_dependencies
from chat.entrypoints.http.model_catalog import MODELS, model_dependencies
from chat.entrypoints.http.reply_dependencies import (
    GENERATOR,
    REPLY_CHANNEL,
    UNITS_OF_WORK,
    reply_dependencies,
)
from chat.entrypoints.http.search import SEARCH_INDEX, search_dependencies
from chat.settings import Settings
from shared.bootstrap import ServiceRoot
from shared.chores import Chore
from shared.db import create_engine
from shared.db.migrations import migrations_of
from shared.db.pool import open_read_pool
from shared.erasure.consumer import user_erasure
from shared.kernel.clock import SystemClock
from shared.messaging.streams import ensure_stream


@asynccontextmanager
async def api_resources(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Mapping[str, Any]]:
    """The API process's long-lived resources: the raw read pool (one-statement reads, no
    transaction, no reset) and the search index on it."""
    # nothing connects here: the pool opens connections as reads come
    read_pool = await open_read_pool(
        settings.database_url,
        schema=settings.db_schema,
        application_name=f"{SERVICE}-api-reads",
        size=settings.db_read_pool_size,
    )
    async with read_pool:
        yield {
            SEARCH_INDEX: AsyncpgSearchIndex(read_pool),
            BLOBS: FilesystemBlobStore(Path(settings.blob_dir)),
            SNIFFER: FileTypeSniffer(),
        }


@asynccontextmanager
async def live_resources(
    settings: Settings, state: State, units: Callable[[], SqlAlchemyUnitOfWork]
) -> AsyncIterator[Mapping[str, Any]]:
    """The reply channel on the API process's NATS connection and the generator writing this
    process's replies (its checkpoint, sweep and stop loops run while the app does); the model
    catalog they call, unless the resources opened one.

    The generator has a connection pool of its own: its checkpoints renew the leases that say
    this process lives, so they must never wait behind the requests of a busy process."""
    await ensure_stream(state.nats.jetstream(), reply_stream(settings.stream_replicas))
    channel = NatsReplyChannel(state.nats)
    async with AsyncExitStack() as stack:
        engine = create_engine(
            settings.database_url,
            schema=settings.db_schema,
            application_name=f"{SERVICE}-generations",
            pool_size=GENERATION_POOL_SIZE,
            # no overflow: past the pool's size a generation waits for a connection (a few ms)
            # rather than opening one that is closed again on its return (under load, ~4% of the
            # process's CPU went to connecting, its prepared statements lost each time)
            max_overflow=0,
        )
        stack.push_async_callback(engine.dispose)
        generation_units = ROOT.units_of_work(engine)
        catalog = state.get(MODELS)
        if catalog is None:
            http = await stack.enter_async_context(httpx.AsyncClient())
            catalog = ReplicaModelCatalog(
                read=reading(state.engine),
                seal_keys=open_seal_keys(settings.model_seal_key_file),
                http=http,
                offline_pace_s=settings.offline_pace_ms / 1000,
                offline_writers=WRITERS,
                offline_min_tokens=settings.offline_min_reply_tokens,
                cache_s=settings.model_cache_ms / 1000,
            )
        generator = Generator(
            uow=generation_units, models=catalog, channel=channel, clock=SystemClock(), blobs=state[BLOBS]
        )
        # runs after the server stopped taking requests: the replies in flight may end first
        await stack.enter_async_context(generator.running(finish_within_s=settings.shutdown_grace_s))
        yield {MODELS: catalog, GENERATOR: generator, REPLY_CHANNEL: channel, UNITS_OF_WORK: units}


GENERATION_POOL_SIZE = 16
"""Connections of the generator's own pool (reads of a reply's branch, checkpoints, ends), all
it opens (it had 8 and up to 10 more on a burst, opened and closed again as the burst came and
went): its transactions are short, and a checkpoint waits at most behind a few of them."""


def all_dependencies() -> Mapping[str, Provide]:
    return {
        **search_dependencies(),
        **attachment_dependencies(),
        **model_dependencies(),
        **reply_dependencies(),
    }


def worker_chores(settings: Settings, engine: AsyncEngine) -> list[Chore]:
    """The worker's clean-ups: blobs no attachment names any more (deleted with their message,
    conversation or user), and uploads staged by a process that died."""
    uow = ROOT.units_of_work(engine)
    blobs = FilesystemBlobStore(Path(settings.blob_dir))

    # a unit of work a round: the chores run at the same time (with one shared, they took over
    # each other's connection, and one went back to the pool mid-transaction, failing its next users)
    async def sweep() -> int:
        return await sweep_blobs(uow(), blobs, SystemClock())

    async def ownerless() -> int:
        return await sweep_ownerless_blobs(uow(), blobs)

    return [
        Chore(name="attachment-blobs", every_s=settings.blob_sweep_every_s, work=sweep),
        Chore(name="erased-attachment-blobs", every_s=settings.erased_blobs_sweep_every_s, work=ownerless),
    ]


ROOT = ServiceRoot(
    service=SERVICE,
    version=__version__,
    description="Conversations, messages and streamed assistant replies.",
    settings=Settings,
    migrations=migrations_of(chat),
    unit_of_work=SqlAlchemyUnitOfWork,
    translate=to_contract,
    route_handlers=route_handlers,
    # identity.user.deleted → the shared erasure with chat's own rule;
    # orchestrator.project.* / orchestrator.task.* → the ownership replica;
    # orchestrator.ai_model.* / orchestrator.settings.changed → the registry and settings replicas
    consumers=[
        user_erasure(SERVICE, erase_users_data),
        ownership,
        model_registry,
        settings_changes,
    ],
    dependencies=all_dependencies,
    resources=api_resources,
    live_resources=live_resources,
    chores=worker_chores,
    app_factory=f"{__name__}:ROOT.create_app_from_env",
)
